import { ObjectStore } from '../workspace/object-store.js';
import { mergeThreeWay } from '../workspace/merge.js';
import type { FileAssessment } from './assess.js';
import type { FileAction } from './events.js';

/** One proposed change to one output file: what a review shows and an apply writes. */
export interface FileChange {
  path: string;
  action: FileAction;
  reasons: string[];
  /** Content on disk now (undefined: no file). */
  before: string | undefined;
  /** Content after the change (undefined: deleted, or nothing to write). */
  after: string | undefined;
  /** True when `after` is a clean three-way merge of a hand edit and the new generation. */
  merged: boolean;
  /** For conflicts: the merge with conflict markers, and the plain new generation. */
  markers?: string;
  generated?: string;
  /** For failures: what went wrong. */
  error?: string;
}

/** Turns a fresh generation into a change, merging hand edits (design.md 4.4). */
export async function changeFromGeneration(
  assessment: FileAssessment,
  generated: string,
  objects: ObjectStore,
): Promise<FileChange> {
  const { path, current, reasons } = assessment;
  if (assessment.disk === 'edited') {
    const base = assessment.locked?.output == null ? undefined : await objects.get(assessment.locked.output);
    const merge = mergeThreeWay(base ?? '', current ?? '', generated);
    if (merge.clean) {
      return { path, reasons, before: current, after: merge.content, merged: true, action: merge.content === current ? 'unchanged' : 'update' };
    }
    return { path, reasons, before: current, after: undefined, merged: false, action: 'conflict', markers: merge.withMarkers, generated };
  }
  if (current === undefined) return { path, reasons, before: undefined, after: generated, merged: false, action: 'create' };
  return { path, reasons, before: current, after: generated, merged: false, action: current === generated ? 'unchanged' : 'update' };
}

/** A file this run does not generate: up to date, edited by hand, or deleted by hand. */
export function changeWithoutGeneration(assessment: FileAssessment): FileChange {
  const { path, current } = assessment;
  const base = { path, before: current, after: current, merged: false };
  if (assessment.disk === 'missing') {
    const reasons = assessment.reasons.length > 0 ? [...assessment.reasons, 'deleted by hand: not recreated (smol regen PATH recreates it)'] : ['deleted by hand'];
    return { ...base, action: 'missing', reasons };
  }
  if (assessment.disk === 'edited') return { ...base, action: 'edited', reasons: ['edited by hand'] };
  return { ...base, action: 'unchanged', reasons: [] };
}

/** A file that left the plan: deleted if nobody edited it since smol wrote it. */
export function changeForRemoved(path: string, current: string | undefined, clean: boolean): FileChange {
  if (current === undefined) return { path, action: 'unchanged', reasons: ['removed from plan'], before: undefined, after: undefined, merged: false };
  if (!clean) {
    return { path, action: 'edited', reasons: ['removed from plan', 'edited by hand: kept'], before: current, after: current, merged: false };
  }
  return { path, action: 'delete', reasons: ['removed from plan'], before: current, after: undefined, merged: false };
}
