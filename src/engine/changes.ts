import { mergeThreeWay } from '../workspace/merge.js';
import type { FileAssessment } from './assess.js';
import type { Bases } from './bases.js';
import type { FileAction } from './events.js';
import type { StaleReason } from './reasons.js';

/** One proposed change to one output file: what a review shows and an apply writes. */
export interface FileChange {
  path: string;
  action: FileAction;
  reasons: StaleReason[];
  /** Content at this path in outDir now (undefined: no file). */
  before: string | undefined;
  /** Content after the change (undefined: deleted, or nothing to write). */
  after: string | undefined;
  /** The new generation, for a file this run generated (it becomes the lock's merge base). */
  generated?: string | undefined;
  /** True when `after` is a clean three-way merge of a hand edit and the new generation. */
  merged: boolean;
  /** For conflicts: the merge with conflict markers. */
  markers?: string | undefined;
  /** The merge had no base: a file smol never wrote, or a generation neither `.smol/` nor the edits file holds. */
  noBase?: boolean | undefined;
  /** For files kept although they left the plan: why smol did not delete them. */
  kept?: KeptReason | undefined;
  /** For failures: what went wrong. */
  error?: string | undefined;
}

/** Why a file that left the plan stays on disk. */
export type KeptReason = 'edited' | 'not-written-here' | 'ignored';

/**
 * Turns a fresh generation into a change (design.md 4.4): a clean file is replaced; a hand-edited file is
 * merged three ways (base: the last generation; ours: the disk; theirs: the new generation); a file smol
 * never wrote is merged with an empty base, so it is never silently replaced.
 */
export async function changeFromGeneration(
  assessment: FileAssessment,
  generated: string,
  bases: Bases,
): Promise<FileChange> {
  const { path, reasons, disk, locked } = assessment;
  const before = disk.movedFrom === undefined ? disk.content : disk.replaces;
  const base = { path, reasons, before, generated };
  switch (disk.state) {
    case 'absent':
    case 'missing':
      return { ...base, action: 'create', after: generated, merged: false };
    case 'clean':
      return replaced(base, generated);
    case 'edited':
    case 'conflict':
    case 'untracked': {
      const ours = disk.content ?? '';
      const known =
        disk.state === 'untracked' || locked?.generated == null
          ? undefined
          : await bases.get(path, locked.generated, disk.content);
      const merge = mergeThreeWay(known ?? '', ours, generated);
      const noBase = known === undefined;
      if (!merge.clean)
        return { ...base, action: 'conflict', after: undefined, merged: false, markers: merge.withMarkers, noBase };
      if (merge.content === generated) return replaced(base, generated);
      return {
        ...base,
        action: before === undefined ? 'create' : merge.content === before ? 'unchanged' : 'update',
        after: merge.content,
        merged: true,
        noBase,
      };
    }
  }
}

function replaced(base: Pick<FileChange, 'path' | 'reasons' | 'before' | 'generated'>, generated: string): FileChange {
  if (base.before === undefined) return { ...base, action: 'create', after: generated, merged: false };
  return { ...base, action: base.before === generated ? 'unchanged' : 'update', after: generated, merged: false };
}

/** A file this run does not generate: up to date, edited by hand, deleted by hand, or carried to a new outDir. */
export function changeWithoutGeneration(assessment: FileAssessment): FileChange {
  const { path, disk, reasons } = assessment;
  if (disk.movedFrom !== undefined && disk.content !== undefined) {
    // outDir changed: what smol knows of the file (edits included) is recreated in the new folder, no call,
    // over what smol itself left there when outDir moved away earlier.
    const action = disk.replaces === undefined ? 'create' : disk.replaces === disk.content ? 'unchanged' : 'update';
    return { path, action, reasons, before: disk.replaces, after: disk.content, merged: false };
  }
  const unchanged = { path, before: disk.content, after: disk.content, merged: false };
  if (disk.state === 'missing') return { ...unchanged, action: 'missing', reasons };
  if (disk.state === 'edited' || disk.state === 'conflict') return { ...unchanged, action: 'edited', reasons };
  return { ...unchanged, action: 'unchanged', reasons: [] };
}

/** A file that left the plan: deleted only when smol wrote its current content here and it is not ignored. */
export function changeForRemoved(path: string, current: string | undefined, keep: KeptReason | undefined): FileChange {
  const reasons: StaleReason[] = [{ kind: 'removed-from-plan' }];
  if (current === undefined)
    return { path, action: 'unchanged', reasons, before: undefined, after: undefined, merged: false };
  if (keep !== undefined)
    return { path, action: 'kept', reasons, before: current, after: current, merged: false, kept: keep };
  return { path, action: 'delete', reasons, before: current, after: undefined, merged: false };
}
