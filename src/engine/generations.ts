import path from 'node:path';
import { ObjectStore } from '../workspace/object-store.js';
import { readStateFile, writeStateFile } from '../workspace/state-file.js';

/**
 * Remembers which content each file fingerprint produced (`.smol/generations/`). The response cache is
 * keyed by the whole request, which includes a file's current content; this index is keyed by the
 * fingerprint alone, so undoing a spec edit brings back the earlier generation with no model call
 * (design.md 4.5) even though the file on disk changed in between.
 */
export class GenerationIndex {
  private readonly objects: ObjectStore;

  constructor(
    private readonly dir: string,
    objectsDir: string,
  ) {
    this.objects = new ObjectStore(objectsDir);
  }

  async lookup(fingerprint: string): Promise<string | undefined> {
    try {
      // Never through a link, never blocking on a FIFO: `.smol/` may come from a cloned repository.
      const hash = (await readStateFile(this.pathOf(fingerprint)))?.trim();
      return hash === undefined ? undefined : await this.objects.get(hash);
    } catch {
      return undefined;
    }
  }

  /** Best effort: a full disk loses the memo, never the run. */
  async remember(fingerprint: string, content: string): Promise<void> {
    try {
      const hash = await this.objects.put(content);
      await writeStateFile(this.pathOf(fingerprint), `${hash}\n`, { root: path.dirname(path.dirname(this.dir)) });
    } catch {
      // The generation is still used for this run; only the shortcut for a later undo is lost.
    }
  }

  private pathOf(fingerprint: string): string {
    return path.join(this.dir, fingerprint.slice(0, 2), fingerprint.slice(2));
  }
}
