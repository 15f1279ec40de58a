import path from 'node:path';
import * as z from 'zod';
import { sha256 } from '../internal/hash.js';
import { mapLimit } from '../internal/map-limit.js';
import type { ObjectStore } from '../workspace/object-store.js';
import { checkOutputPath } from '../workspace/output-path.js';
import { readStateFile, removeStateFile, writeStateFile } from '../workspace/state-file.js';
import type { FileAssessment } from './assess.js';
import type { FileChange } from './changes.js';
import { lockSchema, type LockHead, type LockedFile } from './lock.js';
import type { StatePaths } from './paths.js';
import { staleReasonSchema } from './reasons.js';

const hash = z.string().regex(/^[0-9a-f]{64}$/);
const outputPath = z.string().refine((value) => {
  const check = checkOutputPath(value);
  return check.ok && check.path === value;
});
const lockedFileSchema = lockSchema.shape.files.valueType;

/** A change waiting for review. Contents live in the object store, by hash. */
const stagedChangeSchema = z.object({
  path: outputPath,
  action: z.enum(['create', 'update', 'delete', 'conflict']),
  reasons: z.array(staleReasonSchema),
  merged: z.boolean(),
  /** The merge had no base (a file smol never wrote, or a generation no longer known). */
  noBase: z.boolean().optional(),
  /** Hash of the file on disk when staged (null: no file). Apply refuses if the disk moved on. */
  before: hash.nullable(),
  /** Hash of the new content (null: delete, or a conflict). */
  after: hash.nullable(),
  /** Hash of the new generation, when this run generated the file (the lock's next merge base). */
  generated: hash.nullable(),
  /** For conflicts: the merge with conflict markers. */
  markers: hash.optional(),
  /** The file's new fingerprint (null for deletions). */
  fresh: z.object({ fingerprint: hash, inputs: lockedFileSchema.shape.inputs }).nullable(),
  /** The lock entry before this run; kept when the change is declined. */
  previous: lockedFileSchema.nullable(),
});
export type StagedChange = z.output<typeof stagedChangeSchema>;

/** Everything an apply needs, saved in `.smol/staging/` by `smol diff` and by `smol run` before review. */
const stagedRunSchema = z.object({
  version: z.literal(2),
  createdAt: z.string(),
  /** What made it (`run`, `regen`, `debug`, …): the undo history says so. */
  command: z.string(),
  /** Hash of smol.lock when staged (null: none). An apply on a different lock would be stale. */
  lockHash: hash.nullable(),
  /** The lock minus its files: the plan and settings this run made. */
  lockHead: lockSchema.omit({ files: true }),
  /** Lock entries of files with nothing to write (up to date, edited and kept, failed, …). */
  keep: z.record(outputPath, lockedFileSchema),
  changes: z.array(stagedChangeSchema),
});
export type StagedRun = z.output<typeof stagedRunSchema>;

const STAGED_FILE = 'changes.json';

/** Builds the staged run from a run's assessments and changes, storing every content in the object store. */
export async function stageRun(options: {
  command: string;
  lockHash: string | null;
  lockHead: LockHead;
  previous: Readonly<Record<string, LockedFile>>;
  /** Files this run leaves alone (`smol regen PATH` names others): their lock entries stay as they are. */
  untouched?: readonly string[] | undefined;
  assessments: readonly FileAssessment[];
  changes: readonly FileChange[];
  objects: ObjectStore;
  /** Filled with every content staged, by hash (an apply that follows then need not read them back). */
  known?: Map<string, string> | undefined;
}): Promise<StagedRun> {
  const assessed = new Map(options.assessments.map((assessment) => [assessment.path, assessment]));
  const keep: Record<string, LockedFile> = {};
  const changes: StagedChange[] = [];
  for (const file of options.untouched ?? []) {
    const entry = options.previous[file];
    if (entry !== undefined) keep[file] = entry;
  }
  // Every content a change refers to goes to the object store (below, a few at a time); hashes now.
  const contents = new ContentsToStore(options.known);
  for (const change of options.changes) {
    const assessment = assessed.get(change.path);
    const previous = options.previous[change.path] ?? null;
    const identity =
      assessment === undefined
        ? null
        : { fingerprint: assessment.generation.fingerprint, inputs: assessment.generation.hashes };
    if (isWrite(change)) changes.push(stagedChange(change, identity, previous, contents));
    else {
      const entry = keptEntry(change, identity, previous, contents);
      if (entry !== undefined) keep[change.path] = entry;
    }
  }
  await mapLimit(contents.unique(), 8, (content) => options.objects.put(content));
  return {
    version: 2,
    createdAt: new Date().toISOString(),
    command: options.command,
    lockHash: options.lockHash,
    lockHead: options.lockHead,
    keep,
    changes,
  };
}

/** The file's lock identity as this run generated it (the staged field `fresh`). */
type GeneratedIdentity = StagedChange['fresh'];

/** The contents a staged run refers to, by hash, to be put in the object store once. */
class ContentsToStore {
  readonly #contents: string[] = [];
  readonly #known: Map<string, string> | undefined;

  constructor(known: Map<string, string> | undefined) {
    this.#known = known;
  }

  /** Records a content to store and returns its hash (null for no content). */
  put(content: string | undefined): string | null {
    if (content === undefined) return null;
    this.#contents.push(content);
    const hash = sha256(content);
    this.#known?.set(hash, content);
    return hash;
  }

  unique(): string[] {
    return [...new Set(this.#contents)];
  }
}

type WriteAction = Extract<FileChange['action'], 'create' | 'update' | 'delete' | 'conflict'>;

function isWrite(change: FileChange): change is FileChange & { action: WriteAction } {
  return (
    change.action === 'create' ||
    change.action === 'update' ||
    change.action === 'delete' ||
    change.action === 'conflict'
  );
}

/** A change with something to write, its contents recorded by hash. */
function stagedChange(
  change: FileChange & { action: WriteAction },
  identity: GeneratedIdentity,
  previous: LockedFile | null,
  contents: ContentsToStore,
): StagedChange {
  const staged: StagedChange = {
    path: change.path,
    action: change.action,
    reasons: change.reasons,
    merged: change.merged,
    before: change.before === undefined ? null : sha256(change.before),
    after: contents.put(change.after),
    generated: contents.put(change.generated),
    fresh: identity,
    previous,
  };
  if (change.noBase === true) staged.noBase = true;
  contents.put(change.before);
  if (change.markers !== undefined) staged.markers = contents.put(change.markers)!;
  return staged;
}

/** The lock entry of a file with nothing to write (undefined: it has none any more). */
function keptEntry(
  change: FileChange,
  identity: GeneratedIdentity,
  previous: LockedFile | null,
  contents: ContentsToStore,
): LockedFile | undefined {
  if (change.action === 'unchanged') {
    if (identity !== null && change.generated !== undefined) {
      // Regenerated to what is on disk (or merged to it): the new generation is the next merge base.
      const generated = contents.put(change.generated)!;
      const onDisk = change.after === undefined ? null : sha256(change.after);
      return { ...identity, generated, written: onDisk === generated ? generated : (previous?.written ?? onDisk) };
    }
    // Not generated: the entry stays as it was (a file left stale on purpose stays stale).
    return previous ?? undefined;
  }
  // Edited and kept, deleted by hand, failed, kept after leaving the plan: the lock keeps what was
  // true, except that a file that left the plan is smol's no more.
  return previous !== null && change.action !== 'kept' ? previous : undefined;
}

export async function saveStaged(paths: StatePaths, staged: StagedRun): Promise<void> {
  await writeStateFile(path.join(paths.staging, STAGED_FILE), `${JSON.stringify(staged, null, 2)}\n`, {
    root: paths.root,
  });
}

/** The staged changes, or undefined when there are none (or the file is not smol's: nothing in it is trusted). */
export async function loadStaged(paths: StatePaths): Promise<StagedRun | undefined> {
  try {
    const text = await readStateFile(path.join(paths.staging, STAGED_FILE));
    if (text === undefined) return undefined;
    const parsed = stagedRunSchema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

export async function clearStaged(paths: StatePaths): Promise<void> {
  await removeStateFile(path.join(paths.staging, STAGED_FILE), { root: paths.root });
}
