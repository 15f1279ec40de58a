import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { serializeLock, type Lock, type LockHead, type LockedFile } from '../../src/engine/lock.js';
import { statePaths, type StatePaths } from '../../src/engine/paths.js';
import { sha256 } from '../../src/internal/hash.js';
import { ObjectStore } from '../../src/workspace/object-store.js';

/** Small building blocks for the engine's unit tests: a spec folder on disk, lock entries, contents. */

export const HASH = (text: string): string => sha256(text);

/** A lock entry for a file smol generated as `generated` and last wrote as `written` (null: never). */
export function entry(generated: string | null, written: string | null = generated, tag = 'inputs'): LockedFile {
  const inputs = {
    settings: HASH('s'),
    planGlobal: HASH('g'),
    planSection: HASH(tag),
    fileList: HASH('l'),
    spec: HASH('spec'),
    dependencies: {},
  };
  return {
    fingerprint: HASH(`fingerprint ${tag}`),
    inputs,
    generated: generated === null ? null : HASH(generated),
    written: written === null ? null : HASH(written),
  };
}

export const LOCK_HEAD: LockHead = {
  version: 2,
  promptVersion: 'smol-prompts/1',
  settings: { provider: 'fake', model: 'm', temperature: 0 },
  spec: { hash: HASH('spec'), lines: ['# Spec'] },
  plan: { inputHash: HASH('plan'), global: 'Plan.', sections: [], files: [] },
  outDir: 'app',
};

export function lockText(files: Record<string, LockedFile>): string {
  const lock: Lock = { ...LOCK_HEAD, files };
  return serializeLock(lock);
}

/** A spec folder with `app/` as outDir, in a fresh temp folder. */
export interface Folder {
  paths: StatePaths;
  outDir: string;
  objects: ObjectStore;
  /** Writes output files (undefined: no file). */
  writeOutputs(files: Record<string, string | undefined>): Promise<void>;
  /** Every output file and its content. */
  outputs(): Promise<Record<string, string>>;
  readLock(): Promise<string | undefined>;
  cleanup(): Promise<void>;
}

export async function specFolder(parent?: string): Promise<Folder> {
  const root =
    parent === undefined
      ? await mkdtemp(path.join(os.tmpdir(), 'smol-engine-'))
      : await mkdtemp(path.join(parent, 'case-'));
  const paths = statePaths(root);
  const outDir = path.join(root, 'app');
  await mkdir(outDir, { recursive: true });
  return {
    paths,
    outDir,
    objects: new ObjectStore(paths.objects),
    async writeOutputs(files) {
      for (const [file, content] of Object.entries(files)) {
        const target = path.join(outDir, file);
        if (content === undefined) await rm(target, { force: true });
        else {
          await mkdir(path.dirname(target), { recursive: true });
          await writeFile(target, content);
        }
      }
    },
    async outputs() {
      const entries = await readdir(outDir, { recursive: true, withFileTypes: true });
      const result: Record<string, string> = {};
      for (const found of entries.filter((item) => item.isFile()).sort((a, b) => (a.name < b.name ? -1 : 1))) {
        const absolute = path.join(found.parentPath, found.name);
        result[path.relative(outDir, absolute).split(path.sep).join('/')] = await readFile(absolute, 'utf8');
      }
      return result;
    },
    readLock: () => readFile(paths.lockFile, 'utf8').catch(() => undefined),
    cleanup: () => rm(root, { recursive: true, force: true, maxRetries: 10, retryDelay: 50 }),
  };
}
