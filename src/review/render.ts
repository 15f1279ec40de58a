import { createTwoFilesPatch } from 'diff';
import type { StagedChange, StagedRun } from '../engine/staging.js';
import { describeReasons } from '../engine/reasons.js';
import { ObjectStore } from '../workspace/object-store.js';

interface Paint {
  green: (text: string) => string;
  red: (text: string) => string;
  cyan: (text: string) => string;
  bold: (text: string) => string;
  dim: (text: string) => string;
  yellow: (text: string) => string;
}

/** A staged change with its contents loaded, ready to show. */
export interface ChangeView {
  change: StagedChange;
  before: string | undefined;
  after: string | undefined;
  /** For conflicts: the merge with conflict markers. */
  markers: string | undefined;
}

export async function loadViews(objectsDir: string, staged: StagedRun): Promise<ChangeView[]> {
  const objects = new ObjectStore(objectsDir);
  const get = async (hash: string | null | undefined): Promise<string | undefined> =>
    hash == null ? undefined : objects.get(hash);
  return Promise.all(
    staged.changes.map(async (change) => ({
      change,
      before: await get(change.before),
      after: await get(change.action === 'conflict' ? change.generated : change.after),
      markers: await get(change.markers),
    })),
  );
}

/** The unified diff (the `diff` package) of one change, as `git diff` would show it. */
export function unifiedDiff(view: ChangeView): string {
  const { change } = view;
  const oldName = view.before === undefined ? '/dev/null' : `a/${change.path}`;
  const newName = change.action === 'delete' ? '/dev/null' : `b/${change.path}`;
  return createTwoFilesPatch(oldName, newName, view.before ?? '', view.after ?? '', undefined, undefined, {
    context: 3,
  });
}

function colorDiff(patch: string, paint: Paint): string {
  return patch
    .split('\n')
    .map((line) => {
      if (line.startsWith('+++') || line.startsWith('---')) return paint.bold(line);
      if (line.startsWith('+')) return paint.green(line);
      if (line.startsWith('-')) return paint.red(line);
      if (line.startsWith('@@')) return paint.cyan(line);
      return line;
    })
    .join('\n');
}

/** What a change does, in words: `new`, `updated, merged with your edits`, `CONFLICT`, … */
function changeLabel(change: Pick<StagedChange, 'action' | 'merged'>): string {
  switch (change.action) {
    case 'create':
      return change.merged ? 'new, merged with your file' : 'new';
    case 'delete':
      return 'deleted';
    case 'conflict':
      return 'CONFLICT';
    case 'update':
      return change.merged ? 'updated, merged with your edits' : 'updated';
  }
}

/** Header, reasons and coloured diff of one change. */
export function renderChange(view: ChangeView, paint: Paint): string {
  const { change } = view;
  // `new` says it all for a new file; otherwise the reasons say why it changes.
  const reasons = change.reasons.filter((reason) => !(change.action === 'create' && reason.kind === 'new'));
  const why = reasons.length === 0 ? '' : ` ${paint.dim(`· ${describeReasons(reasons)}`)}`;
  const header = `${paint.bold(change.path)} ${paint.yellow(changeLabel(change))}${why}`;
  if (change.action === 'conflict') {
    const cause =
      change.noBase === true
        ? 'smol has no earlier generation of this file to merge from (it did not write it), so your file and the new generation conflict as a whole.'
        : 'Your edits and the new generation change the same lines.';
    return `${header}\n${paint.dim(`${cause} Diff of the new generation against your file:`)}\n${colorDiff(unifiedDiff(view), paint)}${conflictHint(change.path)}\n`;
  }
  return `${header}\n${colorDiff(unifiedDiff(view), paint)}`;
}

export function conflictHint(path: string): string {
  return `Resolve with: smol apply --theirs ${path} (take the new generation), --ours ${path} (keep yours), or --markers ${path} (write both with conflict markers to edit by hand).`;
}

/** `3 changed, 1 new, 1 conflict, 12 unchanged` */
export function stagedSummary(staged: StagedRun): string {
  return changeSummary(staged.changes, Object.keys(staged.keep).length);
}

/** `3 changed, 1 new, 1 conflict, 12 unchanged`, from the changes' actions and the count of unchanged files. */
export function changeSummary(changes: readonly { action: StagedChange['action'] }[], unchanged: number): string {
  const count = (action: StagedChange['action']): number => changes.filter((change) => change.action === action).length;
  const parts = [
    [count('update'), 'changed'],
    [count('create'), 'new'],
    [count('delete'), 'deleted'],
    [count('conflict'), count('conflict') === 1 ? 'conflict' : 'conflicts'],
    [unchanged, 'unchanged'],
  ] as const;
  const text = parts
    .filter(([n]) => n > 0)
    .map(([n, label]) => `${n} ${label}`)
    .join(', ');
  return text === '' ? 'nothing to change' : text;
}
