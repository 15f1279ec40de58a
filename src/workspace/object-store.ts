import { access, mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import writeFileAtomic from 'write-file-atomic';
import { sha256 } from '../internal/hash.js';
import { asDiskError } from './disk-errors.js';

/**
 * Content-addressed store of every version smol wrote (`.smol/objects/ab/cdef…`): the base of three-way
 * merges and the source of undo. Objects are immutable, so writing one that exists is a no-op.
 */
export class ObjectStore {
  constructor(private readonly root: string) {}

  async put(content: string): Promise<string> {
    const hash = sha256(content);
    const file = this.pathOf(hash);
    const exists = await access(file).then(
      () => true,
      () => false,
    );
    if (!exists) {
      try {
        await mkdir(path.dirname(file), { recursive: true });
        await writeFileAtomic(file, content, { fsync: true });
      } catch (error) {
        throw asDiskError(error, 'write', file);
      }
    }
    return hash;
  }

  async get(hash: string): Promise<string | undefined> {
    try {
      const content = await readFile(this.pathOf(hash), 'utf8');
      // A damaged object is treated as missing rather than trusted.
      return sha256(content) === hash ? content : undefined;
    } catch {
      return undefined;
    }
  }

  private pathOf(hash: string): string {
    if (!/^[0-9a-f]{64}$/.test(hash)) throw new Error(`not a content hash: ${hash}`);
    return path.join(this.root, hash.slice(0, 2), hash.slice(2));
  }
}
