import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import PQueue from 'p-queue';
import { sha256 } from '../internal/hash.js';
import { ObjectStore } from '../workspace/object-store.js';
import { writeStateFile } from '../workspace/write.js';
import type { FileAssessment } from './assess.js';
import type { FileChange } from './changes.js';
import type { InputHashes, Lock, LockedFile } from './lock.js';
import type { StatePaths } from './paths.js';

/** A change waiting for review. Contents live in the object store, by hash. */
export interface StagedChange {
  path: string;
  action: 'create' | 'update' | 'delete' | 'conflict';
  reasons: string[];
  merged: boolean;
  /** Hash of the file on disk when staged (null: no file). Apply refuses if the disk moved on. */
  before: string | null;
  /** Hash of the new content (null: delete, or a conflict). */
  after: string | null;
  /** For conflicts: the plain new generation and the merge with markers. */
  generated?: string;
  markers?: string;
  /** The file's new fingerprint (null for deletions). */
  fresh: { fingerprint: string; inputs: InputHashes } | null;
  /** The lock entry before this run; kept when the change is declined. */
  previous: LockedFile | null;
}

/** Everything an apply needs, saved in `.smol/staging/` by `smol diff` and by `smol run` before review. */
export interface StagedRun {
  version: 1;
  createdAt: string;
  /** Hash of smol.lock when staged (null: none). An apply on a different lock would be stale. */
  lockHash: string | null;
  /** The lock minus its files: the plan and settings this run made. */
  lockHead: Omit<Lock, 'files'>;
  /** Lock entries of files with nothing to write (up to date, edited and kept, failed, …). */
  keep: Record<string, LockedFile>;
  changes: StagedChange[];
}

const STAGED_FILE = 'changes.json';

/** Builds the staged run from a run's assessments and changes, storing every content in the object store. */
export async function stageRun(options: {
  lockHash: string | null;
  lockHead: Omit<Lock, 'files'>;
  lock: Lock | undefined;
  assessments: readonly FileAssessment[];
  changes: readonly FileChange[];
  objects: ObjectStore;
}): Promise<StagedRun> {
  const { lock, objects } = options;
  const assessed = new Map(options.assessments.map((assessment) => [assessment.path, assessment]));
  const keep: Record<string, LockedFile> = {};
  const changes: StagedChange[] = [];
  // Every content a change refers to goes to the object store (below, a few at a time); hashes now.
  const contents: string[] = [];
  const put = (content: string | undefined): string | null => {
    if (content === undefined) return null;
    contents.push(content);
    return sha256(content);
  };
  for (const change of options.changes) {
    const assessment = assessed.get(change.path);
    const previous = lock?.files[change.path] ?? null;
    const fresh = assessment === undefined ? null : { fingerprint: assessment.fingerprint, inputs: assessment.hashes };
    switch (change.action) {
      case 'create':
      case 'update':
      case 'delete':
      case 'conflict': {
        const staged: StagedChange = {
          path: change.path,
          action: change.action,
          reasons: change.reasons,
          merged: change.merged,
          before: change.before === undefined ? null : sha256(change.before),
          after: put(change.after),
          fresh,
          previous,
        };
        put(change.before);
        if (change.generated !== undefined) staged.generated = put(change.generated)!;
        if (change.markers !== undefined) staged.markers = put(change.markers)!;
        changes.push(staged);
        break;
      }
      case 'unchanged':
        if (assessment !== undefined && fresh !== null && (assessment.regenerate || previous !== null)) {
          // Up to date: the new fingerprint with the content that is on disk.
          const output = change.after === undefined ? (previous?.output ?? null) : sha256(change.after);
          keep[change.path] = { ...fresh, output };
        }
        break;
      default:
        // Edited and kept, deleted by hand, failed: the lock keeps what was true.
        if (previous !== null) keep[change.path] = previous;
    }
  }
  const queue = new PQueue({ concurrency: 8 });
  await Promise.all([...new Set(contents)].map((content) => queue.add(() => objects.put(content))));
  return { version: 1, createdAt: new Date().toISOString(), lockHash: options.lockHash, lockHead: options.lockHead, keep, changes };
}

export async function saveStaged(paths: StatePaths, staged: StagedRun): Promise<void> {
  await writeStateFile(path.join(paths.staging, STAGED_FILE), `${JSON.stringify(staged, null, 2)}\n`);
}

export async function loadStaged(paths: StatePaths): Promise<StagedRun | undefined> {
  try {
    const parsed = JSON.parse(await readFile(path.join(paths.staging, STAGED_FILE), 'utf8')) as StagedRun;
    return parsed.version === 1 && Array.isArray(parsed.changes) ? parsed : undefined;
  } catch {
    return undefined;
  }
}

export async function clearStaged(paths: StatePaths): Promise<void> {
  await rm(path.join(paths.staging, STAGED_FILE), { force: true });
}
