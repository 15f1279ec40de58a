import { sha256 } from '../internal/hash.js';
import type { PlannedFile } from '../plan/stages.js';
import { readOutputText } from '../workspace/read.js';
import { staleReasons } from './fingerprint.js';
import type { FileGeneration } from './generation-inputs.js';
import type { Lock, LockedFile } from './lock.js';
import { wroteHere, type Ledger } from './ledger.js';
import type { StaleReason } from './reasons.js';

/**
 * How a file on disk relates to smol's record of it (design.md 4.4):
 * - clean: it is smol's last generation;
 * - edited: it differs from that generation (a hand edit, possibly merged by smol or accepted);
 * - conflict: it holds the conflict markers `smol apply --markers` wrote;
 * - missing: smol wrote it, it is gone (deleted by hand);
 * - untracked: it exists, smol never wrote it;
 * - absent: never written, not there.
 */
export type DiskState = 'clean' | 'edited' | 'conflict' | 'missing' | 'untracked' | 'absent';

export interface DiskView {
  state: DiskState;
  /** The content now (for a file of a moved outDir: in the old folder). */
  content: string | undefined;
  hash: string | undefined;
  /**
   * The content is one smol recorded: its generation, what it last wrote (a merge), or what the user
   * accepted. `smol check` passes for recorded content; an unrecorded hand edit is drift.
   */
  recorded: boolean;
  /** Set when the file is carried from the output folder the lock names (outDir changed). */
  movedFrom?: string | undefined;
  /**
   * For a carried file: what is at its path in outDir now, which the carry writes over. Only a file smol
   * itself wrote there and nobody changed since (outDir moved away and back): the ledger proves it.
   */
  replaces?: string | undefined;
}

/** The disk view of `content` against the lock entry. */
export function diskViewOf(locked: LockedFile | undefined, content: string | undefined, knownHash?: string): DiskView {
  const hash = content === undefined ? undefined : (knownHash ?? sha256(content));
  if (locked === undefined || locked.written === null) {
    return { state: content === undefined ? 'absent' : 'untracked', content, hash, recorded: false };
  }
  if (content === undefined) return { state: 'missing', content, hash, recorded: false };
  const recorded = hash === locked.generated || hash === locked.written;
  if (hash === locked.generated) return { state: 'clean', content, hash, recorded };
  if (locked.conflict === true && hasConflictMarkers(content)) return { state: 'conflict', content, hash, recorded };
  return { state: 'edited', content, hash, recorded };
}

/** A disk view's content and hash, as the edits file's sync takes them (undefined: no file). */
export function diskText(view: DiskView): { text: string; hash: string } | undefined {
  return view.content === undefined || view.hash === undefined ? undefined : { text: view.content, hash: view.hash };
}

/** Lines that open and close a conflict block, as `smol apply --markers` (node-diff3) writes them. */
export function hasConflictMarkers(text: string): boolean {
  return /^<{7}( |$)/m.test(text) && /^>{7}( |$)/m.test(text);
}

/** The output folder the lock names, when the spec now names another (design.md 4.4: files carried over). */
export interface PreviousOutDir {
  absolute: string;
  /** As the lock writes it. */
  name: string;
  /** What smol wrote in this working copy: a file it left in outDir earlier may be written over. */
  ledger: Ledger;
}

/**
 * Reads a file and its disk view. When the lock's output folder differs (`previous`), the file there is
 * carried over to `outDir` if outDir has no such file, or only a file smol wrote there itself and nobody
 * changed since (left behind when outDir moved away; the ledger proves it). Anything else in outDir is
 * the user's: untracked, unless it equals the file the lock describes.
 */
export async function readDiskView(
  outDir: string,
  file: string,
  locked: LockedFile | undefined,
  previous?: PreviousOutDir,
): Promise<DiskView> {
  const read = await readOutputText(outDir, file);
  const inPlace = (): DiskView => diskViewOf(locked, read?.text, read?.hash);
  if (previous === undefined || locked === undefined) return inPlace();
  const old = await readOutputText(previous.absolute, file).catch(() => undefined);
  if (old === undefined || read?.hash === old.hash) return inPlace();
  if (read === undefined || wroteHere(previous.ledger, outDir, file, read.hash)) {
    return { ...diskViewOf(locked, old.text, old.hash), movedFrom: previous.absolute, replaces: read?.text };
  }
  // Another file than the one the lock describes (that one is in the old folder), which smol cannot prove
  // it left here: the user's, so it is looked at as a file smol never wrote (merged with an empty base,
  // never replaced), on this machine as in a fresh clone.
  return diskViewOf(undefined, read.text, read.hash);
}

export interface FileAssessment {
  path: string;
  planned: PlannedFile;
  generation: FileGeneration;
  locked: LockedFile | undefined;
  disk: DiskView;
  /** Why it is stale (empty: up to date). `forced` first when the user asked. */
  reasons: StaleReason[];
  /** Whether this run generates it. */
  regenerate: boolean;
}

export async function assessFile(options: {
  outDir: string;
  /** The output folder the lock names, when it is not `outDir`. */
  previousOutDir?: PreviousOutDir | undefined;
  planned: PlannedFile;
  generation: FileGeneration;
  lock: Lock | undefined;
  forced: boolean;
}): Promise<FileAssessment> {
  const { planned, generation } = options;
  const locked = options.lock?.files[planned.path];
  const disk = await readDiskView(options.outDir, planned.path, locked, options.previousOutDir);
  const stale = staleReasons(locked, generation.hashes);
  const reasons: StaleReason[] = options.forced
    ? [{ kind: 'forced' }, ...stale.filter((reason) => reason.kind !== 'new')]
    : stale;
  if (disk.movedFrom !== undefined && options.previousOutDir !== undefined)
    reasons.push({ kind: 'out-dir-changed', from: options.previousOutDir.name });
  // A file deleted by hand stays deleted until the user asks for it (design.md 4.4).
  const regenerate =
    options.forced || (reasons.some((reason) => reason.kind !== 'out-dir-changed') && disk.state !== 'missing');
  return { path: planned.path, planned, generation, locked, disk, reasons, regenerate };
}
