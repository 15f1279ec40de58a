import { sha256 } from '../internal/hash.js';
import type { PlannedFile } from '../plan/stages.js';
import type { FileInputs } from '../plan/templates.js';
import { readOutputFile } from '../workspace/write.js';
import { fingerprintOf, hashInputs, staleReasons, type GenerationSettings } from './fingerprint.js';
import type { InputHashes, Lock, LockedFile } from './lock.js';

/**
 * How a file on disk relates to what smol last wrote:
 * clean (as written), edited (changed by hand), missing (smol wrote it, it is gone),
 * untracked (exists, smol never wrote it), absent (never written, not there).
 */
export type DiskState = 'clean' | 'edited' | 'missing' | 'untracked' | 'absent';

export interface FileAssessment {
  path: string;
  planned: PlannedFile;
  inputs: FileInputs;
  hashes: InputHashes;
  fingerprint: string;
  locked: LockedFile | undefined;
  disk: DiskState;
  /** Current content on disk, when there is any. */
  current: string | undefined;
  /** Why it is stale (empty: up to date). `forced` first when the user asked. */
  reasons: string[];
  /** Whether this run generates it. */
  regenerate: boolean;
}

export async function diskState(
  outDir: string,
  path: string,
  locked: LockedFile | undefined,
): Promise<{ disk: DiskState; current: string | undefined }> {
  const current = await readOutputFile(outDir, path);
  if (locked?.output == null) return { disk: current === undefined ? 'absent' : 'untracked', current };
  if (current === undefined) return { disk: 'missing', current };
  return { disk: sha256(current) === locked.output ? 'clean' : 'edited', current };
}

export async function assessFile(options: {
  outDir: string;
  planned: PlannedFile;
  inputs: FileInputs;
  settings: GenerationSettings;
  lock: Lock | undefined;
  forced: boolean;
}): Promise<FileAssessment> {
  const { planned, inputs } = options;
  const hashes = hashInputs(inputs, options.settings);
  const locked = options.lock?.files[planned.path];
  const { disk, current } = await diskState(options.outDir, planned.path, locked);
  const stale = staleReasons(locked, hashes);
  const reasons = options.forced ? ['forced', ...stale.filter((reason) => reason !== 'new')] : stale;
  // A file deleted by hand stays deleted until the user asks for it (design.md 4.4).
  const regenerate = options.forced || (reasons.length > 0 && disk !== 'missing');
  return { path: planned.path, planned, inputs, hashes, fingerprint: fingerprintOf(hashes), locked, disk, current, reasons, regenerate };
}
