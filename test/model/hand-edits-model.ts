import { cp, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import fc from 'fast-check';
import { expect } from 'vitest';
import { acceptFiles } from '../../src/engine/accept.js';
import { applyStaged } from '../../src/engine/apply.js';
import { readHistoryState } from '../../src/engine/history.js';
import { statePaths } from '../../src/engine/paths.js';
import { runPipeline, type RunResult } from '../../src/engine/run.js';
import { loadStaged } from '../../src/engine/staging.js';
import { computeStatus } from '../../src/engine/status.js';
import { redoNext, undoLast } from '../../src/engine/undo.js';
import { isSmolError } from '../../src/errors.js';
import { sha256 } from '../../src/internal/hash.js';
import type { FakeProvider } from '../../src/llm/fake.js';
import { loadSpec } from '../../src/spec/load.js';
import { checkProblems } from '../../src/cli/render-status.js';
import { initialSpec, OPTIONAL_FILE, plannedFiles, renderSpecFile, scriptedProvider, type SpecState } from './app.js';

/**
 * The model of the model-based tests for "hand edits are never lost" (design.md 4.4, issue 12) and "a fresh clone merges as the author does"
 * (issue 20), over random sequences of what users do: spec edits (global, a section, whitespace, model,
 * outDir, a file in and out of the plan), hand edits (append, change a line, delete, a file of one's own),
 * run, run then apply, conflict resolution, accept, undo, redo, regen, status, check, and cloning the
 * repository without `.smol/`. After every step: every hand-written line is on disk (unless the user took
 * `--theirs` for that file or deleted it), nothing outside the project changed, the lock agrees with the
 * disk, undo and redo restore exactly, a run with nothing changed makes no call.
 */

type Snapshot = Map<string, string>;
const OUT_DIRS = ['app', 'web'] as const;
const EDITABLE = ['src/a.ts', 'src/b.ts', 'src/c.ts', OPTIONAL_FILE] as const;
const OWN_FILES = ['README.md', OPTIONAL_FILE] as const;

interface Mark {
  dir: string;
  file: string;
  marker: string;
}

export interface Model {
  spec: SpecState;
  /** Hand-written lines that must stay on disk (in the folder they were written in, or the current outDir). */
  marks: Mark[];
  /** `dir/file` changed by hand since smol last wrote it (the lock may not know that content). */
  touched: Set<string>;
  /** Nothing that could need a model call happened since the last full run. */
  quiet: boolean;
  /** The last step was a run that left nothing to do (no conflict, no kept edit, nothing missing): `check` passes. */
  settled: boolean;
  /** Disk before and after the step that pushed each history entry (for undo / redo exactness). */
  snapshots: Map<number, { outDir: string; before: Snapshot; after: Snapshot; touched: Set<string> }>;
  counter: number;
}

export interface Real {
  root: string;
  project: string;
  provider: FakeProvider;
}

const specFile = (real: Real): string => path.join(real.project, 'prompt.md');
const key = (dir: string, file: string): string => `${dir}/${file}`;

async function readMaybe(file: string): Promise<string | undefined> {
  return readFile(file, 'utf8').catch(() => undefined);
}

async function snapshot(real: Real): Promise<Snapshot> {
  const result: Snapshot = new Map();
  for (const dir of OUT_DIRS) {
    const entries = await readdir(path.join(real.project, dir), { recursive: true, withFileTypes: true }).catch(
      () => [],
    );
    for (const entry of entries) {
      if (!entry.isFile()) continue;
      const absolute = path.join(entry.parentPath, entry.name);
      result.set(path.relative(real.project, absolute).split(path.sep).join('/'), await readFile(absolute, 'utf8'));
    }
  }
  return result;
}

async function historyHead(real: Real): Promise<number> {
  return (await readHistoryState(statePaths(real.project))).head;
}

/** Runs a step that may push a history entry, and records the disk around it. */
async function recorded(model: Model, real: Real, step: () => Promise<void>): Promise<void> {
  const before = await snapshot(real);
  const touched = new Set(model.touched);
  const head = await historyHead(real);
  await step();
  const after = await historyHead(real);
  if (after > head)
    model.snapshots.set(after, { outDir: model.spec.outDir, before, after: await snapshot(real), touched });
}

/** A user error from smol is a refusal the user sees; nothing changed. Anything else is a bug. */
async function refusable(step: () => Promise<void>): Promise<void> {
  try {
    await step();
  } catch (error) {
    if (!isSmolError(error)) throw error;
  }
}

function afterWrite(model: Model, result: { written: readonly string[] }): void {
  for (const file of result.written) model.touched.delete(key(model.spec.outDir, file));
}

async function run(real: Real, options: { force?: string[] } = {}): Promise<RunResult> {
  const spec = await loadSpec(specFile(real));
  return runPipeline({
    spec,
    provider: real.provider,
    mode: 'apply',
    ...(options.force === undefined ? {} : { force: options.force, only: options.force, command: 'regen' }),
  });
}

// ---- invariants -------------------------------------------------------------------------------------

async function verify(model: Model, real: Real): Promise<void> {
  await verifyStatus(model, real);
  // Every hand-written line is still on disk.
  for (const mark of model.marks) {
    const where = [key(mark.dir, mark.file), key(model.spec.outDir, mark.file)];
    const found = await Promise.all(where.map((relative) => readMaybe(path.join(real.project, relative))));
    expect(
      found.some((content) => content?.includes(mark.marker) === true),
      `${mark.marker} lost from ${mark.file}`,
    ).toBe(true);
  }
  // Nothing outside the project changed; nothing but smol's own files appeared in it.
  expect(await readMaybe(path.join(real.root, 'home', 'precious.txt'))).toBe('do not touch\n');
  const entries = (await readdir(real.project)).filter(
    (name) => !['prompt.md', 'smol.lock', 'smol.edits.patch', '.smol', 'app', 'web'].includes(name),
  );
  expect(entries).toEqual([]);
  // The lock agrees with the disk: a file nobody touched by hand is what smol generated or wrote.
  const lockText = await readMaybe(path.join(real.project, 'smol.lock'));
  if (lockText === undefined) return;
  const lock = JSON.parse(lockText) as {
    outDir: string;
    files: Record<string, { generated: string | null; written: string | null }>;
  };
  for (const [file, entry] of Object.entries(lock.files)) {
    if (model.touched.has(key(lock.outDir, file))) continue;
    const content = await readMaybe(path.join(real.project, lock.outDir, file));
    if (content === undefined) continue;
    expect([entry.generated, entry.written], `lock disagrees with ${lock.outDir}/${file}`).toContain(sha256(content));
  }
}

// ---- commands ---------------------------------------------------------------------------------------

export type Cmd = fc.AsyncCommand<Model, Real, true>;

function command(name: string, body: (model: Model, real: Real) => Promise<void>, readOnly = false): Cmd {
  return {
    check: () => Promise.resolve(true),
    run: async (model, real) => {
      if (!readOnly) model.settled = false;
      await body(model, real);
      await verify(model, real);
    },
    toString: () => name,
  };
}

const editSpec = (name: string, change: (spec: SpecState) => void, quietAfter: boolean): Cmd =>
  command(name, async (model, real) => {
    change(model.spec);
    if (!quietAfter) model.quiet = false;
    await writeFile(specFile(real), renderSpecFile(model.spec));
  });

export const handAppend = (file: string): Cmd =>
  command(`handAppend(${file})`, async (model, real) => {
    const target = path.join(real.project, model.spec.outDir, file);
    const content = await readMaybe(target);
    if (content === undefined) return;
    const marker = `// HAND ${(model.counter += 1)}`;
    await writeFile(target, `${content}${marker}\n`);
    model.marks.push({ dir: model.spec.outDir, file, marker });
    model.touched.add(key(model.spec.outDir, file));
  });

export const handChangeLine = (file: string, line: number): Cmd =>
  command(`handChangeLine(${file}, ${line})`, async (model, real) => {
    const target = path.join(real.project, model.spec.outDir, file);
    const content = await readMaybe(target);
    if (content === undefined) return;
    const lines = content.split('\n');
    const index = line % Math.max(1, lines.length - 1);
    const replaced = lines[index] ?? '';
    const marker = `// HAND-LINE ${(model.counter += 1)}`;
    lines[index] = marker;
    await writeFile(target, lines.join('\n'));
    // The user replaced a line: a hand line they overwrote is theirs to lose.
    model.marks = model.marks.filter((mark) => !(mark.file === file && replaced.includes(mark.marker)));
    model.marks.push({ dir: model.spec.outDir, file, marker });
    model.touched.add(key(model.spec.outDir, file));
  });

export const handDelete = (file: string): Cmd =>
  command(`handDelete(${file})`, async (model, real) => {
    await rm(path.join(real.project, model.spec.outDir, file), { force: true });
    model.marks = model.marks.filter((mark) => !(mark.file === file && mark.dir === model.spec.outDir));
    model.touched.add(key(model.spec.outDir, file));
  });

export const ownFile = (file: string): Cmd =>
  command(`ownFile(${file})`, async (model, real) => {
    const target = path.join(real.project, model.spec.outDir, file);
    if ((await readMaybe(target)) !== undefined) return;
    const marker = `// MY OWN ${(model.counter += 1)}`;
    await mkdir(path.dirname(target), { recursive: true });
    await writeFile(target, `${marker}\n`);
    model.marks.push({ dir: model.spec.outDir, file, marker });
    model.touched.add(key(model.spec.outDir, file));
  });

export const runYes = (): Cmd =>
  command('run --yes', async (model, real) => {
    const calls = real.provider.calls.length;
    let result: RunResult | undefined;
    await recorded(model, real, async () => {
      result = await run(real);
      afterWrite(model, result);
    });
    if (model.quiet) expect(real.provider.calls.length, 'a run with nothing changed made a call').toBe(calls);
    model.quiet = true;
    model.settled = result !== undefined && leavesNothingToDo(result);
    if (model.settled) {
      const report = await computeStatus(await loadSpec(specFile(real)), { syncEdits: false });
      expect(checkProblems(report), 'check right after a run that left nothing to do').toEqual([]);
    }
  });

export const runThenApply = (): Cmd =>
  command('run; apply', async (model, real) => {
    const spec = await loadSpec(specFile(real));
    const preview = await runPipeline({ spec, provider: real.provider, mode: 'preview' });
    model.quiet = true;
    await recorded(model, real, async () => {
      const applied = await applyStaged({
        paths: statePaths(real.project),
        outDir: spec.outDir,
        staged: preview.staged,
      });
      afterWrite(model, { written: applied.applied });
    });
  });

export const resolve = (file: string, how: 'theirs' | 'ours' | 'markers'): Cmd =>
  command(`apply --${how} ${file}`, async (model, real) => {
    const spec = await loadSpec(specFile(real));
    const paths = statePaths(real.project);
    const staged = await loadStaged(paths);
    if (staged?.changes.some((change) => change.path === file && change.action === 'conflict') !== true) return;
    await refusable(() =>
      recorded(model, real, async () => {
        const result = await applyStaged({
          paths,
          outDir: spec.outDir,
          staged,
          resolutions: new Map([[file, how]]),
          accept: () => false,
        });
        if (!result.applied.includes(file)) return;
        const slot = key(model.spec.outDir, file);
        if (how === 'theirs') {
          // The user chose the new generation over their version of this file.
          model.marks = model.marks.filter((mark) => !(mark.file === file && mark.dir === model.spec.outDir));
          model.touched.delete(slot);
        } else if (how === 'ours') {
          model.touched.delete(slot);
        } else {
          model.touched.delete(slot);
        }
      }),
    );
  });

const accept = (file: string): Cmd =>
  command(`accept ${file}`, async (model, real) => {
    const spec = await loadSpec(specFile(real));
    await refusable(() =>
      recorded(model, real, async () => {
        const result = await acceptFiles(statePaths(real.project), spec.outDir, [file]);
        if (result.accepted.includes(file) || result.unchanged.includes(file))
          model.touched.delete(key(model.spec.outDir, file));
      }),
    );
  });

export const undo = (): Cmd =>
  command('undo', async (model, real) => {
    const spec = await loadSpec(specFile(real));
    const before = await snapshot(real);
    const head = await historyHead(real);
    let result: Awaited<ReturnType<typeof undoLast>> | undefined;
    await refusable(async () => {
      result = await undoLast(statePaths(real.project), spec.outDir);
    });
    const after = await snapshot(real);
    if (result === undefined) {
      expect(after, 'a refused undo changed files').toEqual(before);
      return;
    }
    const recordedStep = model.snapshots.get(head);
    const changed = new Set(result.files.map((file) => key(spec.settings.outDir, file)));
    for (const name of new Set([...before.keys(), ...after.keys()])) {
      if (!changed.has(name)) expect(after.get(name), `undo touched ${name}`).toBe(before.get(name));
      else if (recordedStep !== undefined && recordedStep.outDir === model.spec.outDir)
        expect(after.get(name), `undo did not restore ${name}`).toBe(recordedStep.before.get(name));
    }
    for (const name of recordedStep?.touched ?? []) model.touched.add(name);
    for (const name of changed) if (recordedStep === undefined) model.touched.add(name);
    // The lock went back: the next run may have to redo what was undone.
    model.quiet = false;
  });

export const redo = (): Cmd =>
  command('redo', async (model, real) => {
    const spec = await loadSpec(specFile(real));
    const before = await snapshot(real);
    let result: Awaited<ReturnType<typeof redoNext>> | undefined;
    await refusable(async () => {
      result = await redoNext(statePaths(real.project), spec.outDir);
    });
    const after = await snapshot(real);
    if (result === undefined) {
      expect(after, 'a refused redo changed files').toEqual(before);
      return;
    }
    const recordedStep = model.snapshots.get(result.index);
    const changed = new Set(result.files.map((file) => key(spec.settings.outDir, file)));
    for (const name of new Set([...before.keys(), ...after.keys()])) {
      if (!changed.has(name)) expect(after.get(name), `redo touched ${name}`).toBe(before.get(name));
      else if (recordedStep !== undefined && recordedStep.outDir === model.spec.outDir)
        expect(after.get(name), `redo did not restore ${name}`).toBe(recordedStep.after.get(name));
    }
    for (const name of changed) model.touched.delete(name);
    model.quiet = false;
  });

const regen = (file: string): Cmd =>
  command(`regen ${file}`, async (model, real) => {
    if (!plannedFiles(model.spec).includes(file)) return;
    const lock = await readMaybe(path.join(real.project, 'smol.lock'));
    if (
      lock === undefined ||
      !(JSON.parse(lock) as { plan: { files: { path: string }[] } }).plan.files.some((entry) => entry.path === file)
    )
      return;
    await recorded(model, real, async () => {
      const result = await run(real, { force: [file] });
      // Only the named file is ever written.
      expect(result.written.every((written) => written === file)).toBe(true);
      afterWrite(model, result);
    });
  });

/**
 * A run after which `smol check` must pass: every change written or already so, nothing failed. Not when a
 * hand edit is left as it was (`unchanged` after a merge: smol wrote nothing, the edit is still unrecorded),
 * nor when an edited file was carried to a new outDir without a generation: its merge base may be known
 * nowhere (edited in a fresh clone before any smol command), which `check` rightly reports.
 */
function leavesNothingToDo(result: RunResult): boolean {
  const done = new Set(['create', 'update', 'unchanged', 'delete']);
  const carriedEdit = result.assessments.some(
    (file) => file.disk.movedFrom !== undefined && file.disk.state !== 'clean' && !file.regenerate,
  );
  return (
    !carriedEdit &&
    result.failed.length === 0 &&
    result.refused.length === 0 &&
    result.rejected.length === 0 &&
    result.changes.every((change) => done.has(change.action) && !(change.action === 'unchanged' && change.merged))
  );
}

interface LockEntry {
  generated: string | null;
  written: string | null;
  conflict?: boolean;
}

/** The disk state of a file from the lock and the disk alone (the reference `status` must agree with). */
function expectedDiskState(entry: LockEntry | undefined, content: string | undefined): string {
  if (content === undefined) return entry !== undefined && entry.written !== null ? 'missing' : 'absent';
  if (entry === undefined || entry.written === null) return 'untracked';
  if (sha256(content) === entry.generated) return 'clean';
  const markers = /^<{7}( |$)/m.test(content) && /^>{7}( |$)/m.test(content);
  return entry.conflict === true && markers ? 'conflict' : 'edited';
}

export const status = (): Cmd =>
  command(
    'status',
    async (model, real) => {
      const report = await computeStatus(await loadSpec(specFile(real)));
      for (const file of report.files) {
        const content = await readMaybe(path.join(real.project, model.spec.outDir, file.path));
        const marked = model.marks.some((mark) => mark.file === file.path && content?.includes(mark.marker) === true);
        if (marked) expect(['edited', 'conflict', 'untracked'], `${file.path} has hand lines`).toContain(file.disk);
      }
    },
    true,
  );

/** `status` (without touching the edits file) says of every file what the lock and the disk say. */
async function verifyStatus(model: Model, real: Real): Promise<void> {
  const lockText = await readMaybe(path.join(real.project, 'smol.lock'));
  if (lockText === undefined) return;
  const report = await computeStatus(await loadSpec(specFile(real)), { syncEdits: false });
  const entries = (JSON.parse(lockText) as { files: Record<string, LockEntry> }).files;
  for (const file of report.files) {
    const content = await readMaybe(path.join(real.project, model.spec.outDir, file.path));
    expect(file.disk, `status of ${file.path}`).toBe(expectedDiskState(entries[file.path], content));
  }
}

const check = (): Cmd =>
  command(
    'check',
    async (model, real) => {
      const report = await computeStatus(await loadSpec(specFile(real)), { syncEdits: false });
      const problems = checkProblems(report);
      if (model.settled) expect(problems, 'check right after a run that left nothing to do').toEqual([]);
      // Every edit nobody recorded is named, as is every file deleted by hand.
      for (const file of report.files) {
        const drift = (file.disk === 'edited' && !file.recorded) || file.disk === 'missing';
        if (drift && file.removed !== true) expect(problems.join('\n')).toContain(`${file.path}:`);
      }
    },
    true,
  );

/**
 * Clones the repository as git would (the spec, the lock, the edits file, the output folders; no `.smol/`),
 * after a `smol status` on the author's side (which records hand edits in smol.edits.patch). Both sides then
 * stage a run: the clone must decide exactly as the author does.
 */
export const clone = (): Cmd =>
  command('clone', async (model, real) => {
    await computeStatus(await loadSpec(specFile(real)));
    const target = path.join(real.root, `clone-${(model.counter += 1)}`);
    await mkdir(target);
    for (const name of ['prompt.md', 'smol.lock', 'smol.edits.patch', ...OUT_DIRS]) {
      await cp(path.join(real.project, name), path.join(target, name), { recursive: true }).catch(() => undefined);
    }
    const author = await runPipeline({
      spec: await loadSpec(specFile(real)),
      provider: real.provider,
      mode: 'preview',
    });
    const cloned = { ...real, project: target };
    const teammate = await runPipeline({
      spec: await loadSpec(specFile(cloned)),
      provider: real.provider,
      mode: 'preview',
    });
    const decisions = (result: RunResult) =>
      result.staged.changes
        .filter((change) => change.action !== 'delete')
        .map((change) => ({
          path: change.path,
          action: change.action,
          after: change.after,
          markers: change.markers ?? null,
        }))
        .sort((a, b) => (a.path < b.path ? -1 : 1));
    expect(decisions(teammate), 'a fresh clone merged differently from the author').toEqual(decisions(author));
    real.project = target;
    model.snapshots.clear();
    model.quiet = false;
  });

export const commands = [
  editSpec('edit global text', (spec) => void (spec.version += 1), false),
  ...['src/a.ts', 'src/b.ts', 'src/c.ts'].map((file) =>
    editSpec(`edit section ${file}`, (spec) => void (spec.sections[file] = (spec.sections[file] ?? 0) + 1), false),
  ),
  editSpec('whitespace only', (spec) => void (spec.whitespace += 1), true),
  editSpec('switch model', (spec) => void (spec.model = spec.model === 'm1' ? 'm2' : 'm1'), false),
  editSpec('switch outDir', (spec) => void (spec.outDir = spec.outDir === 'app' ? 'web' : 'app'), false),
  editSpec('toggle src/d.ts', (spec) => void (spec.withD = !spec.withD), false),
];

// Weighted so that the interesting sequences (edit by hand, change the spec, run, change it again, run) are
// common: those are where hand edits used to be lost.
export const arbitraries = [
  weighted(6, fc.constantFrom(...commands)),
  weighted(4, fc.constantFrom(...EDITABLE).map(handAppend)),
  weighted(
    2,
    fc.tuple(fc.constantFrom(...EDITABLE), fc.nat(12)).map(([file, line]) => handChangeLine(file, line)),
  ),
  weighted(1, fc.constantFrom(...EDITABLE).map(handDelete)),
  weighted(1, fc.constantFrom(...OWN_FILES).map(ownFile)),
  weighted(6, fc.constant(null).map(runYes)),
  weighted(2, fc.constant(null).map(runThenApply)),
  weighted(
    2,
    fc
      .tuple(fc.constantFrom(...EDITABLE), fc.constantFrom('theirs' as const, 'ours' as const, 'markers' as const))
      .map(([file, how]) => resolve(file, how)),
  ),
  weighted(1, fc.constantFrom(...EDITABLE).map(accept)),
  weighted(2, fc.constant(null).map(undo)),
  weighted(1, fc.constant(null).map(redo)),
  weighted(1, fc.constantFrom(...EDITABLE).map(regen)),
  weighted(1, fc.constant(null).map(status)),
  weighted(1, fc.constant(null).map(check)),
  weighted(1, fc.constant(null).map(clone)),
].flat();

/** fc.commands picks among arbitraries uniformly: repeat one to weight it. */
function weighted(times: number, arbitrary: fc.Arbitrary<Cmd>): fc.Arbitrary<Cmd>[] {
  return Array.from({ length: times }, () => arbitrary);
}

/** A project generated once from the initial spec, with a sandbox `home` beside it that nothing may touch. */
export async function setup(workspace: string, index: number): Promise<{ model: Model; real: Real }> {
  const root = path.join(workspace, `run-${index}`);
  await mkdir(path.join(root, 'home'), { recursive: true });
  await writeFile(path.join(root, 'home', 'precious.txt'), 'do not touch\n');
  const project = path.join(root, 'project');
  await mkdir(project);
  const model: Model = {
    spec: initialSpec(),
    marks: [],
    touched: new Set(),
    quiet: false,
    settled: false,
    snapshots: new Map(),
    counter: 0,
  };
  const real: Real = { root, project, provider: scriptedProvider() };
  await writeFile(specFile(real), renderSpecFile(model.spec));
  await recorded(model, real, async () => afterWrite(model, await run(real)));
  model.quiet = true;
  return { model, real };
}
