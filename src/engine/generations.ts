import path from 'node:path';
import { readStateFile, writeStateFile } from '../workspace/state-file.js';
import { ObjectStore } from '../workspace/object-store.js';

/**
 * Remembers which content each file fingerprint produced (`.smol/generations/`). The response cache is
 * keyed by the whole request, which includes a file's current content; this index is keyed by the
 * fingerprint alone, so undoing a spec edit brings back the earlier generation with no model call
 * (design.md 4.5) even though the file on disk changed in between.
 */
export class GenerationIndex {
  private readonly objects: ObjectStore;

  private readonly stateRoot: string;

  constructor(
    private readonly dir: string,
    objectsDir: string,
  ) {
    this.objects = new ObjectStore(objectsDir);
    this.stateRoot = path.dirname(path.dirname(dir));
  }

  async lookup(fingerprint: string): Promise<string | undefined> {
    try {
      const hash = (await readStateFile(this.pathOf(fingerprint)))?.trim();
      return hash === undefined || !/^[0-9a-f]{64}$/.test(hash) ? undefined : await this.objects.get(hash);
    } catch {
      return undefined;
    }
  }

  /** Best effort: a full disk loses the memo, never the run. */
  async remember(fingerprint: string, content: string): Promise<void> {
    try {
      // The content is durable (staging and merges use the same object); the pointer to it is a memo,
      // written without fsync: a crash loses a shortcut, never a file.
      const hash = await this.objects.put(content);
      await writeStateFile(this.pathOf(fingerprint), `${hash}\n`, { root: this.stateRoot, durable: false });
    } catch {
      // The generation is still used for this run; only the shortcut for a later undo is lost.
    }
  }

  private pathOf(fingerprint: string): string {
    return path.join(this.dir, fingerprint.slice(0, 2), fingerprint.slice(2));
  }
}
