import { ObjectStore } from '../workspace/object-store.js';
import { baseFromRecord, readEditsFile, type EditsFile } from './edits-file.js';
import type { StatePaths } from './paths.js';

/**
 * Where the merge base of a hand-edited file comes from: this working copy's object store first, then the
 * committed edits file (a fresh clone has no `.smol/`). Either way the content is checked against the hash
 * the lock names.
 */
export class Bases {
  private constructor(
    private readonly objects: ObjectStore,
    readonly edits: EditsFile,
  ) {}

  static async open(paths: StatePaths): Promise<Bases> {
    const edits = await readEditsFile(paths.editsFile).catch((error: unknown) => ({
      records: new Map(),
      problems: [error instanceof Error ? error.message : String(error)],
    }));
    return new Bases(new ObjectStore(paths.objects), edits);
  }

  /** The generation with hash `generated` of `path`, given the file's current content; undefined when unknown. */
  async get(path: string, generated: string, current: string | undefined): Promise<string | undefined> {
    const stored = await this.objects.get(generated);
    if (stored !== undefined) return stored;
    const record = this.edits.records.get(path);
    if (record === undefined || record.generated !== generated || current === undefined) return undefined;
    return baseFromRecord(record, current);
  }

  /** Whether the committed edits file alone rebuilds this base (what a fresh clone would have). */
  inEditsFile(path: string, generated: string, current: string): boolean {
    const record = this.edits.records.get(path);
    return record !== undefined && record.generated === generated && baseFromRecord(record, current) !== undefined;
  }
}
