import path from 'node:path';
import { LOCK_FILE_NAME } from './lock.js';

/** The committed file that keeps the generation of every hand-edited file, so a fresh clone can merge. */
const EDITS_FILE_NAME = 'smol.edits.patch';

/**
 * Where smol keeps its state for one spec: the lock and the edits file beside the spec (committed), the rest
 * in `.smol/` (git-ignored, local to this working copy).
 */
export interface StatePaths {
  /** The folder holding the lock, the edits file and `.smol/` (the spec's folder). */
  root: string;
  lockFile: string;
  editsFile: string;
  stateDir: string;
  objects: string;
  cache: string;
  generations: string;
  staging: string;
  journal: string;
  /** The undo history: one entry per apply. */
  history: string;
  /** What smol wrote in this working copy (content hash and inode per path): the only files it may delete. */
  ledger: string;
}

export function statePaths(specDir: string): StatePaths {
  const stateDir = path.join(specDir, '.smol');
  return {
    root: specDir,
    lockFile: path.join(specDir, LOCK_FILE_NAME),
    editsFile: path.join(specDir, EDITS_FILE_NAME),
    stateDir,
    objects: path.join(stateDir, 'objects'),
    cache: path.join(stateDir, 'cache'),
    generations: path.join(stateDir, 'generations'),
    staging: path.join(stateDir, 'staging'),
    journal: path.join(stateDir, 'journal.json'),
    history: path.join(stateDir, 'history'),
    ledger: path.join(stateDir, 'ledger.json'),
  };
}

/** How the lock names an output folder: relative to the spec's folder, with `/` separators (`.`: the folder itself). */
export function outDirName(paths: StatePaths, outDir: string): string {
  return path.relative(paths.root, outDir).split(path.sep).join('/') || '.';
}

/** How messages name the lock, next to the spec as the user named it. */
export function lockDisplayPath(specDisplayPath: string): string {
  return path.join(path.dirname(specDisplayPath), LOCK_FILE_NAME);
}
