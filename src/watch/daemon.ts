import path from 'node:path';
import { watch, type FSWatcher } from 'chokidar';
import { applyStaged, type ApplyResult } from '../engine/apply.js';
import type { RunEvent } from '../engine/events.js';
import { statePaths } from '../engine/paths.js';
import { runPipeline, type RunResult } from '../engine/run.js';
import { loadStaged, type StagedRun } from '../engine/staging.js';
import { computeStatus, type StatusReport } from '../engine/status.js';
import { isSmolError } from '../errors.js';
import { detectAndCreateProvider } from '../llm/create.js';
import type { Provider } from '../llm/types.js';
import { loadSpec, type SpecOverrides } from '../spec/load.js';
import type { Spec } from '../spec/types.js';
import { checkAndFix } from '../debug/checks.js';
import { createRunner } from './runner.js';

/** What the daemon reports; the CLI renders these (and prints them as NDJSON with `--json`). */
export type DaemonEvent =
  | { type: 'watch-ready'; spec: string; watching: string[] }
  | { type: 'change'; paths: string[] }
  | { type: 'spec-error'; message: string }
  | { type: 'run-error'; message: string; code?: string }
  | { type: 'run-cancelled' }
  | { type: 'run-result'; staged: StagedRun; applied: boolean; failed: { path: string; message: string }[] }
  | { type: 'hand-edit'; files: { path: string; disk: string }[] }
  | { type: 'checks-done'; passed: boolean; rounds: number; stopped?: string; failed: { command: string; exitCode: number | null; output: string }[] }
  | RunEvent;

export interface DaemonOptions {
  /** The spec file (relative to `cwd`). */
  specFile: string;
  cwd: string;
  overrides?: SpecOverrides;
  env: Record<string, string | undefined>;
  onEvent: (event: DaemonEvent) => void;
  /** Quiet time before a run starts after the last change (default 100 ms). */
  debounceMs?: number;
  /** Builds the provider for a spec (default: from settings and `env`). */
  createProvider?: (spec: Spec) => { provider: Provider; description: string } | Promise<{ provider: Provider; description: string }>;
}

export interface Daemon {
  /** Resolves once the watcher is ready and the first run has been scheduled. */
  ready: Promise<void>;
  /** Runs again now (`all` regenerates every file). */
  rerun(force?: 'all'): void;
  /** Cancels the run in flight; true when there was one. */
  cancel(): boolean;
  running(): boolean;
  /** Applies what the last run staged (no model call). */
  applyStaged(): Promise<ApplyResult | undefined>;
  staged(): Promise<StagedRun | undefined>;
  /** The spec as last loaded, if it loaded. */
  spec(): Spec | undefined;
  idle(): Promise<void>;
  close(): Promise<void>;
}

interface RunRequest {
  force?: 'all';
}

/**
 * The watch-mode daemon (design.md 7): chokidar on the spec, its includes and outDir. The watcher only
 * records what changed; a debounced single-flight runner does the work. Hand edits in outDir update the
 * status with no model call.
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
  let spec: Spec | undefined;
  let watcher: FSWatcher | undefined;
  let watched = new Set<string>();
  let applying = false;
  let editTimer: NodeJS.Timeout | undefined;
  // Detection may probe a local Ollama, so it is async; it runs per run, as the spec may change provider.
  const makeProvider = options.createProvider ?? ((loaded: Spec) => detectAndCreateProvider(loaded.settings, options.env));

  const runner = createRunner<RunRequest>({
    debounceMs: options.debounceMs ?? 100,
    merge: (previous, next) => ({ ...previous, ...next }),
    run: async (request, signal) => {
      let loaded: Spec;
      try {
        loaded = await loadSpec(specPath, { cwd: options.cwd, ...(options.overrides === undefined ? {} : { overrides: options.overrides }) });
      } catch (error) {
        emit({ type: 'spec-error', message: messageOf(error) });
        return;
      }
      spec = loaded;
      await updateWatched(loaded);
      let result: RunResult;
      try {
        const { provider, description } = await makeProvider(loaded);
        const auto = loaded.settings.apply === 'auto';
        if (auto) applying = true;
        result = await runPipeline({
          spec: loaded,
          provider,
          providerIdentity: description,
          signal,
          onEvent: emit,
          mode: auto ? 'apply' : 'preview',
          ...(request.force === undefined ? {} : { force: request.force }),
        });
        emit({ type: 'run-result', staged: result.staged, applied: auto, failed: result.failed });
        if (auto && result.written.length > 0) await runChecksAfterApply(loaded, provider, description, signal);
      } catch (error) {
        if (signal.aborted) emit({ type: 'run-cancelled' });
        else emit({ type: 'run-error', message: messageOf(error), ...(isSmolError(error) ? { code: error.code } : {}) });
      } finally {
        applying = false;
      }
    },
  });

  /** `checks` after each apply (design.md 10), feeding failures to debug rounds when `fix: true`. */
  async function runChecksAfterApply(loaded: Spec, provider: Provider, description: string, signal?: AbortSignal): Promise<void> {
    if (loaded.settings.checks.length === 0) return;
    applying = true;
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
      emit({ type: 'run-error', message: messageOf(error) });
    } finally {
      applying = false;
    }
  }

  async function updateWatched(loaded: Spec): Promise<void> {
    const wanted = new Set([specPath, ...loaded.includes.map((include) => include.absolutePath), loaded.outDir]);
    const added = [...wanted].filter((entry) => !watched.has(entry));
    const removed = [...watched].filter((entry) => !wanted.has(entry));
    if (watcher !== undefined) {
      if (added.length > 0) watcher.add(added);
      if (removed.length > 0) await watcher.unwatch(removed);
    }
    watched = wanted;
  }

  function onFsEvent(file: string): void {
    const absolute = path.resolve(options.cwd, file);
    const current = spec;
    const isInput = absolute === specPath || (current?.includes.some((include) => include.absolutePath === absolute) ?? false);
    if (!isInput && current !== undefined && isUnder(current.outDir, absolute)) {
      if (isUnder(statePaths(current.dir).stateDir, absolute) || absolute === statePaths(current.dir).lockFile) return;
      // Our own writes during an apply are not hand edits.
      if (applying || runner.running()) return;
      if (editTimer !== undefined) clearTimeout(editTimer);
      editTimer = setTimeout(() => void reportHandEdits(), 100);
      return;
    }
    emit({ type: 'change', paths: [path.relative(options.cwd, absolute) || absolute] });
    runner.schedule({});
  }

  async function reportHandEdits(): Promise<void> {
    editTimer = undefined;
    const current = spec;
    if (current === undefined) return;
    try {
      const report: StatusReport = await computeStatus(current);
      emit({ type: 'hand-edit', files: report.files.filter((file) => file.disk === 'edited' || file.disk === 'missing').map((file) => ({ path: file.path, disk: file.disk })) });
    } catch (error) {
      emit({ type: 'run-error', message: messageOf(error) });
    }
  }

  const ready = (async () => {
    try {
      spec = await loadSpec(specPath, { cwd: options.cwd, ...(options.overrides === undefined ? {} : { overrides: options.overrides }) });
    } catch (error) {
      if (isSmolError(error) && error.code === 'SPEC_NOT_FOUND') throw error;
      emit({ type: 'spec-error', message: messageOf(error) });
    }
    const initial = spec === undefined ? [specPath] : [specPath, ...spec.includes.map((include) => include.absolutePath), spec.outDir];
    watched = new Set(initial);
    watcher = watch(initial, {
      ignoreInitial: true,
      // The response cache, staging area and journal change on every run; never react to them.
      ignored: (file: string) => file.split(path.sep).includes('.smol') || file.split(path.sep).includes('node_modules') || file.split(path.sep).includes('.git'),
    });
    watcher.on('all', (_event, file) => onFsEvent(file));
    watcher.on('error', (error) => emit({ type: 'run-error', message: `watcher: ${messageOf(error)}` }));
    await new Promise<void>((resolve) => watcher!.once('ready', () => resolve()));
    emit({ type: 'watch-ready', spec: path.relative(options.cwd, specPath) || specPath, watching: [...watched].map((entry) => path.relative(options.cwd, entry) || entry) });
    runner.schedule({});
  })();

  let closing: Promise<void> | undefined;
  return {
    ready,
    rerun: (force) => runner.schedule(force === undefined ? {} : { force }),
    cancel: () => runner.cancel(),
    running: () => runner.running(),
    async applyStaged() {
      const current = spec;
      if (current === undefined) return undefined;
      const paths = statePaths(current.dir);
      const staged = await loadStaged(paths);
      if (staged === undefined || staged.changes.length === 0) return undefined;
      applying = true;
      let result: ApplyResult;
      try {
        result = await applyStaged({ paths, outDir: current.outDir, staged, onEvent: emit });
      } finally {
        applying = false;
      }
      if (result.applied.length > 0 && current.settings.checks.length > 0) {
        const { provider, description } = await makeProvider(current);
        await runChecksAfterApply(current, provider, description);
      }
      return result;
    },
    async staged() {
      return spec === undefined ? undefined : loadStaged(statePaths(spec.dir));
    },
    spec: () => spec,
    idle: () => runner.idle(),
    close() {
      // Close once: keep the promise, stop timers, abort the run, close the watcher, settle everything.
      closing ??= (async () => {
        if (editTimer !== undefined) clearTimeout(editTimer);
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
