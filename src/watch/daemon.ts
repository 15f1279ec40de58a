import path from 'node:path';
import { watch, type FSWatcher } from 'chokidar';
import { applyStaged, type ApplyResult, type ConflictResolution } from '../engine/apply.js';
import { statePaths } from '../engine/paths.js';
import { runPipeline } from '../engine/run.js';
import { loadStaged, type StagedChange, type StagedRun } from '../engine/staging.js';
import { isSmolError } from '../errors.js';
import { detectAndCreateProvider } from '../llm/create.js';
import type { Provider } from '../llm/types.js';
import { loadSpec, type SpecOverrides } from '../spec/load.js';
import type { Spec } from '../spec/types.js';
import { checkAndFix } from '../debug/checks.js';
import { summarizeRun, type DaemonEvent } from './events.js';
import { createHandEditTracker, isOwnedFile, type FileIdentity } from './hand-edits.js';
import { inputsChanged, readInputs } from './inputs.js';
import { createRunner, type RunOutcome } from './runner.js';

export type { ChangeEntry, DaemonEvent, RunSummary } from './events.js';

export interface DaemonOptions {
  /** The spec file (relative to `cwd`). */
  specFile: string;
  cwd: string;
  overrides?: SpecOverrides;
  env: Record<string, string | undefined>;
  onEvent: (event: DaemonEvent) => void;
  /** Quiet time before a run starts after the last change (default 100 ms; at least {@link MIN_DEBOUNCE_MS}). */
  debounceMs?: number;
  /** Files the daemon itself writes to (its redirected output): changes to them are never hand edits. */
  ownFiles?: readonly FileIdentity[];
  /** Builds the provider for a spec (default: from settings and `env`). */
  createProvider?: (spec: Spec) => { provider: Provider; description: string } | Promise<{ provider: Provider; description: string }>;
}

/** Which staged changes to apply and how to settle conflicts (the engine's `applyStaged` options). */
interface ApplyChoice {
  accept?: (change: StagedChange) => boolean;
  resolutions?: ReadonlyMap<string, ConflictResolution>;
}

/** What a key press that applies or reviews gets: the staged run, and a way to apply it (once). */
interface StagedSession {
  spec: Spec;
  staged: StagedRun;
  apply(choice?: ApplyChoice): Promise<ApplyResult>;
}

export interface Daemon {
  /** Resolves once the watcher is ready and the first run has been scheduled. */
  ready: Promise<void>;
  /** Runs again (`all` regenerates every file): a change like a save. */
  rerun(force?: 'all'): void;
  /** Cancels the run in flight (or about to start); true when there was one. Nothing follows until the next change. */
  cancel(): boolean;
  /** True while a run is generating (until it reports its result). */
  running(): boolean;
  /**
   * Runs `task` on what is staged with no run in flight (runs wait for it, so a review never sees the
   * staging area change under it). Resolves undefined when nothing is staged.
   */
  withStaged<T>(task: (session: StagedSession) => Promise<T>): Promise<T | undefined>;
  /** Applies every staged change that is not a conflict (no model call). */
  applyStaged(): Promise<ApplyResult | undefined>;
  staged(): Promise<StagedRun | undefined>;
  /** The spec as last loaded, if it loaded. */
  spec(): Spec | undefined;
  idle(): Promise<void>;
  close(): Promise<void>;
}

/**
 * chokidar drops a file's `change` events for 50 ms after one it reported, without a trailing event (its
 * `_throttle`): a write that lands 40 ms after a truncation is never reported. Reading no sooner than this
 * after the last event reported means such a write has landed before the read (issue 19).
 */
const MIN_DEBOUNCE_MS = 75;

interface RunRequest {
  force?: 'all';
}

/**
 * The watch-mode daemon (design.md 7): chokidar on the spec, its includes and outDir. The watcher only
 * records what changed; the state machine in runner.ts decides when to run. Hand edits in outDir are
 * reported with no model call.
 */
export function createDaemon(options: DaemonOptions): Daemon {
  const emit = (event: DaemonEvent): void => {
    try {
      options.onEvent(event);
    } catch {
      // A rendering failure must not stop the daemon.
    }
  };
  const specPath = path.resolve(options.cwd, options.specFile);
  const displayPath = path.relative(options.cwd, specPath) || specPath;
  const ownFiles = options.ownFiles ?? [];
  let spec: Spec | undefined;
  let watcher: FSWatcher | undefined;
  let watched = new Set<string>();
  let started = false;
  let closed = false;
  // True from a run's start to its result: after that it only runs checks or looks at its inputs again.
  let generating = false;
  // Detection may probe a local Ollama, so it is async; it runs per run, as the spec may change provider.
  const makeProvider = options.createProvider ?? ((loaded: Spec) => detectAndCreateProvider(loaded.settings, options.env));
  const handEdits = createHandEditTracker();

  const runner = createRunner<RunRequest>({
    debounceMs: Math.max(options.debounceMs ?? 100, MIN_DEBOUNCE_MS),
    merge: (previous, next) => ({ ...previous, ...next }),
    plain: {},
    run: runOnce,
    refresh: refreshHandEdits,
    onPhase: (phase) => {
      if (phase === 'idle' && started) emit({ type: 'watch-idle' });
    },
  });

  async function runOnce(request: RunRequest, signal: AbortSignal): Promise<RunOutcome> {
    generating = true;
    try {
      return await generate(request, signal);
    } finally {
      generating = false;
    }
  }

  async function generate(request: RunRequest, signal: AbortSignal): Promise<RunOutcome> {
    const read = await readInputs({ specPath, displayPath, cwd: options.cwd, overrides: options.overrides });
    if (signal.aborted) return;
    if (!read.ok) {
      // An error from a half-written file is not worth a word: the finished write is read next.
      if (await inputsChanged(read.snapshot)) return 'again';
      emit({ type: 'spec-error', message: messageOf(read.error) });
      return;
    }
    const loaded = read.spec;
    spec = loaded;
    await updateWatched(loaded);
    try {
      const { provider, description } = await makeProvider(loaded);
      const auto = loaded.settings.apply === 'auto';
      const result = await runPipeline({
        spec: loaded,
        provider,
        providerIdentity: description,
        signal,
        onEvent: emit,
        mode: auto ? 'apply' : 'preview',
        ...(request.force === undefined ? {} : { force: request.force }),
      });
      generating = false;
      emit({ type: 'run-result', ...summarizeRun(result, auto) });
      if (auto && result.written.length > 0) await runChecksAfterApply(loaded, provider, description, signal);
    } catch (error) {
      if (signal.aborted) {
        emit({ type: 'run-cancelled' });
        return;
      }
      emit({ type: 'run-error', message: messageOf(error), ...(isSmolError(error) ? { code: error.code } : {}) });
    }
    // The watcher is not an oracle (it coalesces events): if the inputs moved on during the run, run again.
    return !signal.aborted && (await inputsChanged(read.snapshot)) ? 'again' : undefined;
  }

  async function refreshHandEdits(signal: AbortSignal): Promise<void> {
    const current = spec;
    if (current === undefined) return;
    const outcome = await handEdits.check(current);
    // A change arrived meanwhile: the status may be mid-change; it is looked at again after the run.
    if (signal.aborted || outcome === undefined) return;
    if ('error' in outcome) emit({ type: 'run-error', message: messageOf(outcome.error) });
    else emit({ type: 'hand-edit', files: outcome.edits });
  }

  /** `checks` after each apply (design.md 10), feeding failures to debug rounds when `fix: true`. */
  async function runChecksAfterApply(loaded: Spec, provider: Provider, description: string, signal?: AbortSignal): Promise<void> {
    if (loaded.settings.checks.length === 0) return;
    try {
      const result = await checkAndFix({ spec: loaded, provider, providerIdentity: description, apply: loaded.settings.apply === 'auto', onEvent: emit, ...(signal === undefined ? {} : { signal }) });
      const last = result.rounds.at(-1)?.results ?? [];
      emit({
        type: 'checks-done',
        passed: result.passed,
        rounds: result.rounds.length,
        ...(result.stopped === undefined ? {} : { stopped: result.stopped }),
        failed: last.filter((check) => check.exitCode !== 0).map((check) => ({ command: check.command, exitCode: check.exitCode, output: check.output.slice(-4000) })),
      });
    } catch (error) {
      if (signal?.aborted !== true) emit({ type: 'run-error', message: messageOf(error) });
    }
  }

  async function updateWatched(loaded: Spec): Promise<void> {
    const wanted = new Set([specPath, ...loaded.includes.map((include) => include.absolutePath), loaded.outDir]);
    const added = [...wanted].filter((entry) => !watched.has(entry));
    const removed = [...watched].filter((entry) => !wanted.has(entry));
    watched = wanted;
    if (watcher !== undefined) {
      if (added.length > 0) watcher.add(added);
      if (removed.length > 0) await watcher.unwatch(removed);
    }
  }

  function isInput(absolute: string): boolean {
    return absolute === specPath || (spec?.includes.some((include) => include.absolutePath === absolute) ?? false);
  }

  function onFsEvent(file: string): void {
    const absolute = path.resolve(options.cwd, file);
    const current = spec;
    if (!isInput(absolute) && current !== undefined && isUnder(current.outDir, absolute)) {
      const state = statePaths(current.dir);
      if (isUnder(state.stateDir, absolute) || absolute === state.lockFile || absolute === state.editsFile) return;
      // The daemon's own writes (a run's, or its redirected output) are sorted out by the refresh.
      if (ownFiles.length === 0) return runner.touch();
      void isOwnedFile(absolute, ownFiles).then((owned) => {
        if (!owned) runner.touch();
      });
      return;
    }
    emit({ type: 'change', paths: [path.relative(options.cwd, absolute) || absolute] });
    runner.change({});
  }

  const ready = (async () => {
    try {
      spec = await loadSpec(displayPath, { cwd: options.cwd, ...(options.overrides === undefined ? {} : { overrides: options.overrides }) });
    } catch (error) {
      // Only a missing spec stops the daemon; any other error is reported once, by the first run.
      if (isSmolError(error) && error.code === 'SPEC_NOT_FOUND') throw error;
    }
    const initial = spec === undefined ? [specPath] : [specPath, ...spec.includes.map((include) => include.absolutePath), spec.outDir];
    watched = new Set(initial);
    watcher = watch(initial, {
      ignoreInitial: true,
      // The response cache, staging area and journal change on every run; never react to them.
      ignored: (file: string) => file.split(path.sep).some((part) => part === '.smol' || part === 'node_modules' || part === '.git'),
    });
    if (closed) return void (await watcher.close());
    watcher.on('all', (_event, file) => onFsEvent(file));
    watcher.on('error', (error) => emit({ type: 'run-error', message: `watcher: ${messageOf(error)}` }));
    await new Promise<void>((resolve) => watcher!.once('ready', () => resolve()));
    if (closed) return;
    emit({ type: 'watch-ready', spec: displayPath, watching: [...watched].map((entry) => path.relative(options.cwd, entry) || entry) });
    started = true;
    runner.change({});
  })();

  async function withStaged<T>(task: (session: StagedSession) => Promise<T>): Promise<T | undefined> {
    return runner.exclusive(async () => {
      const current = spec;
      if (current === undefined) return undefined;
      const paths = statePaths(current.dir);
      const staged = await loadStaged(paths);
      if (staged === undefined || staged.changes.length === 0) return undefined;
      let applied = false;
      return task({
        spec: current,
        staged,
        apply: async (choice = {}) => {
          if (applied) throw new Error('a staged session applies once');
          applied = true;
          const result = await applyStaged({ paths, outDir: current.outDir, staged, onEvent: emit, ...choice });
          if (result.applied.length > 0 && current.settings.checks.length > 0) {
            const { provider, description } = await makeProvider(current);
            await runChecksAfterApply(current, provider, description);
          }
          return result;
        },
      });
    });
  }

  let closing: Promise<void> | undefined;
  return {
    ready,
    rerun: (force) => runner.change(force === undefined ? {} : { force }),
    // A run that has reported its result is only looking at its inputs again (or running checks): Ctrl+C
    // then means quit, not cancel.
    cancel: () => (runner.running() && !generating ? false : runner.cancel()),
    running: () => runner.running() && generating,
    withStaged,
    applyStaged: () => withStaged((session) => session.apply()),
    async staged() {
      return spec === undefined ? undefined : loadStaged(statePaths(spec.dir));
    },
    spec: () => spec,
    idle: () => runner.idle(),
    close() {
      // Close once: keep the promise, abort the run, close the watcher, settle everything.
      closing ??= (async () => {
        closed = true;
        started = false;
        await Promise.allSettled([runner.close(), watcher?.close(), ready]);
      })();
      return closing;
    },
  };
}

function isUnder(root: string, candidate: string): boolean {
  const relative = path.relative(root, candidate);
  return relative === '' || (!relative.startsWith('..') && !path.isAbsolute(relative));
}

function messageOf(error: unknown): string {
  if (isSmolError(error)) return error.hint === undefined ? error.message : `${error.message}\n${error.hint}`;
  return error instanceof Error ? (error.stack ?? error.message) : String(error);
}
