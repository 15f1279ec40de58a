import path from 'node:path';
import { sha256 } from '../internal/hash.js';
import { readStateFile, writeStateFile } from './state-file.js';
import { lstatOrUndefined } from './sync-fs.js';

/**
 * Content-addressed store of every version smol wrote or generated (`.smol/objects/ab/cdef…`): the base of
 * three-way merges and the source of undo. Objects are immutable, so writing one that exists is a no-op.
 * What is read back is checked against its hash: a damaged or planted object counts as missing.
 */
export class ObjectStore {
  /** Folder whose sub-folders must all be real folders (the spec's folder, holding `.smol/`). */
  private readonly stateRoot: string;

  constructor(private readonly root: string) {
    this.stateRoot = path.dirname(path.dirname(root));
  }

  /** Stores `content`; `durable: false` for what only a cache refers to (a crash may lose it). */
  async put(content: string, options: { durable?: boolean } = {}): Promise<string> {
    const hash = sha256(content);
    const file = this.pathOf(hash);
    const exists = lstatOrUndefined(file)?.isFile() === true;
    if (!exists || (await this.get(hash)) === undefined)
      await writeStateFile(file, content, { root: this.stateRoot, durable: options.durable ?? true });
    return hash;
  }

  async get(hash: string): Promise<string | undefined> {
    try {
      const content = await readStateFile(this.pathOf(hash));
      return content !== undefined && sha256(content) === hash ? content : undefined;
    } catch {
      return undefined;
    }
  }

  private pathOf(hash: string): string {
    if (!/^[0-9a-f]{64}$/.test(hash)) throw new Error(`not a content hash: ${hash}`);
    return path.join(this.root, hash.slice(0, 2), hash.slice(2));
  }
}
