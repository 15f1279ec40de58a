import { describeReasons } from '../engine/reasons.js';
import type { FileStatus, StatusReport } from '../engine/status.js';
import type { Output } from './io.js';
import { count } from './words.js';

interface Group {
  title: string;
  hint: string;
  rows: [string, string][];
}

/**
 * `smol status` as `git status` reads: a summary, then only what needs attention, grouped (staged,
 * conflicts, stale, edited, deleted, left the plan), each group with the command that acts on it, and the
 * next command to run. Clean files are counted, not listed.
 */
export function renderStatus(output: Output, report: StatusReport, lockName = 'smol.lock'): void {
  const { colors } = output;
  if (!report.hasLock) {
    if (report.staged.length > 0)
      output.result(
        `Nothing written yet; ${count(report.staged.length, 'change')} staged: \`smol diff\` shows them, \`smol apply\` writes them.`,
      );
    else output.result(`No ${lockName} yet: nothing has been generated. Run \`smol run\`.`);
    return;
  }
  const planned = report.files.filter((file) => file.removed !== true);
  output.result(summaryCounts(report, planned));
  if (report.settingsChanged)
    output.result(colors.yellow('The provider, model or temperature changed since the last run: every file is stale.'));
  else if (report.specChanged)
    output.result(colors.yellow('The spec changed since the last run: `smol plan` shows which files that affects.'));
  if (report.outDirMovedFrom !== undefined)
    output.result(
      colors.yellow(
        `outDir changed (was ${report.outDirMovedFrom}): \`smol run\` recreates the files in the new folder with no model call.`,
      ),
    );
  for (const group of attentionGroups(report, planned).filter((entry) => entry.rows.length > 0)) {
    output.result(`\n${colors.bold(group.title)} ${colors.dim(`(${group.hint})`)}`);
    const width = Math.max(...group.rows.map(([path]) => path.length));
    for (const [path, note] of group.rows) output.result(`  ${path.padEnd(width)}  ${colors.dim(note)}`.trimEnd());
  }
  for (const problem of report.editsProblems) output.result(colors.yellow(`smol.edits.patch: ${problem}`));
  const next = nextCommand(report, planned);
  if (next !== undefined) output.result(`\nnext: ${next}`);
}

/** Stale and still on disk (a deleted file is listed as deleted, not as stale). */
function isStale(file: FileStatus): boolean {
  return file.reasons !== undefined && file.reasons.length > 0 && file.disk !== 'missing';
}

/** `12 files, 9 clean, 1 edited, 2 stale, 1 staged` */
function summaryCounts(report: StatusReport, planned: readonly FileStatus[]): string {
  const matching = (predicate: (file: FileStatus) => boolean): number => planned.filter(predicate).length;
  const parts = [
    `${planned.length} file${planned.length === 1 ? '' : 's'}`,
    `${matching((file) => file.disk === 'clean' && !isStale(file))} clean`,
    ...nonZero(
      matching((file) => file.disk === 'edited'),
      'edited',
    ),
    ...nonZero(
      matching((file) => file.disk === 'conflict'),
      'with conflict markers',
    ),
    ...nonZero(
      matching((file) => file.disk === 'missing'),
      'deleted',
    ),
    ...nonZero(matching(isStale), 'stale'),
    ...nonZero(report.staged.length, 'staged'),
  ];
  return parts.join(', ');
}

/** What needs attention, grouped, each group with the command that acts on it (a flat table of groups). */
function attentionGroups(report: StatusReport, planned: readonly FileStatus[]): Group[] {
  return [
    {
      title: 'Staged',
      hint: '`smol diff` shows them, `smol apply` writes them',
      rows: report.staged
        .filter((change) => change.action !== 'conflict')
        .map((change) => [change.path, change.action]),
    },
    {
      title: 'Conflicts',
      hint: 'resolve with `smol apply --theirs|--ours|--markers PATH`',
      rows: [
        ...report.staged
          .filter((change) => change.action === 'conflict')
          .map((change): [string, string] => [change.path, 'your edits and the new generation overlap']),
        ...planned
          .filter((file) => file.disk === 'conflict')
          .map((file): [string, string] => [
            file.path,
            'holds conflict markers: resolve them, then `smol accept PATH`',
          ]),
      ],
    },
    {
      title: 'Stale',
      hint: '`smol run` regenerates them (hand edits are merged)',
      rows: planned.filter(isStale).map((file) => [file.path, describeReasons(file.reasons ?? [])]),
    },
    {
      title: 'Edited by hand',
      hint: 'kept, and merged into every later regeneration',
      rows: planned.filter((file) => file.disk === 'edited').map((file) => [file.path, editedNote(file)]),
    },
    {
      title: 'Deleted by hand',
      hint: 'not recreated; `smol regen PATH` recreates one',
      rows: planned.filter((file) => file.disk === 'missing').map((file) => [file.path, '']),
    },
    {
      title: 'Left the plan',
      hint: '`smol run` deletes what smol wrote here and keeps the rest',
      rows: report.files
        .filter((file) => file.removed === true && file.disk !== 'absent')
        .map((file) => [file.path, file.disk === 'clean' ? '' : 'edited: will be kept']),
    },
  ];
}

function editedNote(file: FileStatus): string {
  const notes: string[] = [];
  if (!file.recorded) notes.push(`not accepted yet: \`smol accept ${file.path}\` records it`);
  if (file.baseCommitted === false) notes.push('its generation is not in smol.edits.patch');
  return notes.join('; ');
}

function nextCommand(report: StatusReport, planned: readonly FileStatus[]): string | undefined {
  if (report.staged.some((change) => change.action === 'conflict'))
    return '`smol apply --theirs|--ours|--markers PATH` for each conflict';
  if (report.staged.length > 0) return '`smol apply` (or `smol diff` to look first)';
  if (report.specChanged || report.settingsChanged || report.outDirMovedFrom !== undefined || planned.some(isStale))
    return '`smol run`';
  const unaccepted = planned.filter((file) => (file.disk === 'edited' || file.disk === 'conflict') && !file.recorded);
  if (unaccepted.length > 0)
    return `\`smol accept ${unaccepted.map((file) => file.path).join(' ')}\` once the edits are what you want`;
  return undefined;
}

function nonZero(count: number, label: string): string[] {
  return count > 0 ? [`${count} ${label}`] : [];
}

/** What `smol check` fails on: anything a run would change, drift from the lock, and bases a clone would lack. */
export function checkProblems(report: StatusReport): string[] {
  if (!report.hasLock) return ['no smol.lock: run `smol run` and commit the lock.'];
  const problems: string[] = [];
  if (report.settingsChanged)
    problems.push('the generation settings changed since smol.lock was written: run `smol run`.');
  else if (report.specChanged) problems.push('the spec changed since smol.lock was written: run `smol run`.');
  if (report.outDirMovedFrom !== undefined)
    problems.push(`outDir changed since smol.lock was written (was ${report.outDirMovedFrom}): run \`smol run\`.`);
  for (const file of report.files) {
    if (file.removed === true) {
      if (file.disk !== 'absent') problems.push(`${file.path}: no longer in the plan: run \`smol run\`.`);
      continue;
    }
    if (file.disk === 'missing')
      problems.push(
        `${file.path}: deleted (smol.lock says it was written): \`smol regen ${file.path}\`, or \`git checkout\` it.`,
      );
    else if (file.disk === 'absent' || file.disk === 'untracked')
      problems.push(`${file.path}: not generated yet: run \`smol run\`.`);
    else if (file.disk === 'conflict')
      problems.push(`${file.path}: holds conflict markers: resolve them, then \`smol accept ${file.path}\`.`);
    else if (file.disk === 'edited' && !file.recorded)
      problems.push(
        `${file.path}: edited since smol wrote it: \`smol accept ${file.path}\` records the edit (or \`git checkout\` the file).`,
      );
    else if (file.reasons !== undefined && file.reasons.length > 0)
      problems.push(`${file.path}: stale (${describeReasons(file.reasons)}): run \`smol run\`.`);
    if ((file.disk === 'edited' || file.disk === 'conflict') && file.baseCommitted === false) {
      problems.push(
        `${file.path}: its merge base is not in smol.edits.patch, so a fresh clone could not merge the edit: run \`smol status\` where it was generated and commit smol.edits.patch.`,
      );
    }
  }
  for (const problem of report.editsProblems)
    problems.push(
      `smol.edits.patch: ${problem}: restore it from git, or run \`smol status\` where the files were generated.`,
    );
  return problems;
}
