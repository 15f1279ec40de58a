import path from 'node:path';
import { LOCK_FILE_NAME } from './lock.js';

/** Where smol keeps its state for one spec: the lock beside the spec, everything else in `.smol/`. */
export interface StatePaths {
  lockFile: string;
  stateDir: string;
  objects: string;
  cache: string;
  generations: string;
  staging: string;
  journal: string;
}

export function statePaths(specDir: string): StatePaths {
  const stateDir = path.join(specDir, '.smol');
  return {
    lockFile: path.join(specDir, LOCK_FILE_NAME),
    stateDir,
    objects: path.join(stateDir, 'objects'),
    cache: path.join(stateDir, 'cache'),
    generations: path.join(stateDir, 'generations'),
    staging: path.join(stateDir, 'staging'),
    journal: path.join(stateDir, 'journal.json'),
  };
}
