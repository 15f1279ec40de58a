import path from 'node:path';
import type { ApplyResult } from '../engine/apply.js';
import { statePaths } from '../engine/paths.js';
import { loadStaged, type StagedRun } from '../engine/staging.js';
import { isSmolError } from '../errors.js';
import { detectAndCreateProvider } from '../llm/create.js';
import { loadSpec, type SpecOverrides } from '../spec/load.js';
import type { Spec } from '../spec/types.js';
import { messageOf, type DaemonEvent } from './events.js';
import { createHandEditTracker, isOwnedFile, type FileIdentity } from './hand-edits.js';
import { createRunner, type Runner } from './runner.js';
import { runSpecOnce, type MakeProvider, type RunContext, type RunRequest } from './run-spec.js';
import { openStagedSession, type StagedSession } from './staged-session.js';
import { classifyFsEvent, createInputWatcher, watchedPaths, type InputWatcher } from './watcher.js';

export type { DaemonEvent, RunSummary } from './events.js';

export interface DaemonOptions {
  /** The spec file (relative to `cwd`). */
  specFile: string;
  cwd: string;
  overrides?: SpecOverrides | undefined;
  env: Record<string, string | undefined>;
  onEvent: (event: DaemonEvent) => void;
  /** Quiet time before a run starts after the last change (default 100 ms; at least {@link MIN_DEBOUNCE_MS}). */
  debounceMs?: number | undefined;
  /** Files the daemon itself writes to (its redirected output): changes to them are never hand edits. */
  ownFiles?: readonly FileIdentity[] | undefined;
  /** Builds the provider for a spec (default: from settings and `env`). */
  createProvider?: MakeProvider | undefined;
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

/**
 * The watch-mode daemon (design.md 7): chokidar on the spec, its includes and outDir. The watcher only
 * records what changed; the state machine in runner.ts decides when to run. Hand edits in outDir are
 * reported with no model call.
 */
export function createDaemon(options: DaemonOptions): Daemon {
  const specPath = path.resolve(options.cwd, options.specFile);
  const parts: DaemonParts = {
    options,
    emit: safeEmitter(options.onEvent),
    specPath,
    displayPath: path.relative(options.cwd, specPath) || specPath,
    // Detection may probe a local Ollama, so it is async; it runs per run, as the spec may change provider.
    makeProvider: options.createProvider ?? ((loaded: Spec) => detectAndCreateProvider(loaded.settings, options.env)),
    inputs: createInputWatcher(),
    state: { spec: undefined, generating: false, started: false, closed: false },
  };
  const { state, emit, makeProvider } = parts;
  const runner = scheduleRuns(parts);
  const ready = startWatching(parts, runner);

  async function withStaged<T>(task: (session: StagedSession) => Promise<T>): Promise<T | undefined> {
    return runner.exclusive(async () => {
      const session = state.spec === undefined ? undefined : await openStagedSession(state.spec, emit, makeProvider);
      return session === undefined ? undefined : task(session);
    });
  }

  let closing: Promise<void> | undefined;
  return {
    ready,
    rerun: (force) => runner.change({ force }),
    // A run that has reported its result is only looking at its inputs again (or running checks): Ctrl+C
    // then means quit, not cancel.
    cancel: () => (runner.running() && !state.generating ? false : runner.cancel()),
    running: () => runner.running() && state.generating,
    withStaged,
    applyStaged: () => withStaged((session) => session.apply()),
    async staged() {
      return state.spec === undefined ? undefined : loadStaged(statePaths(state.spec.dir));
    },
    spec: () => state.spec,
    idle: () => runner.idle(),
    close() {
      // Close once: keep the promise, abort the run, close the watcher, settle everything.
      closing ??= (async () => {
        state.closed = true;
        state.started = false;
        await Promise.allSettled([runner.close(), parts.inputs.close(), ready]);
      })();
      return closing;
    },
  };
}

/** What the daemon's pieces share. */
interface DaemonParts {
  options: DaemonOptions;
  emit: (event: DaemonEvent) => void;
  specPath: string;
  /** The spec's path as the user named it (relative to `cwd`), for messages. */
  displayPath: string;
  makeProvider: MakeProvider;
  inputs: InputWatcher;
  state: DaemonState;
}

interface DaemonState {
  /** The spec as last loaded, if it loaded. */
  spec: Spec | undefined;
  /** True from a run's start to its result: after that it only runs checks or looks at its inputs again. */
  generating: boolean;
  /** True once `watch-ready` was reported (and until close): `watch-idle` follows only then. */
  started: boolean;
  closed: boolean;
}

/** The state machine (runner.ts) with the daemon's runs and its hand-edit refresh plugged in. */
function scheduleRuns(parts: DaemonParts): Runner<RunRequest> {
  const { options, emit, state } = parts;
  const handEdits = createHandEditTracker();
  const runContext: RunContext = {
    specPath: parts.specPath,
    displayPath: parts.displayPath,
    cwd: options.cwd,
    overrides: options.overrides,
    emit,
    makeProvider: parts.makeProvider,
    loaded: async (loaded) => {
      state.spec = loaded;
      await parts.inputs.update(watchedPaths(parts.specPath, loaded));
    },
    reported: () => {
      state.generating = false;
    },
  };
  return createRunner<RunRequest>({
    debounceMs: Math.max(options.debounceMs ?? 100, MIN_DEBOUNCE_MS),
    // A forced full run stays forced when a plain change follows it.
    merge: (previous, next) => ({ force: next.force ?? previous?.force }),
    plain: {},
    run: async (request, signal) => {
      state.generating = true;
      try {
        return await runSpecOnce(runContext, request, signal);
      } finally {
        state.generating = false;
      }
    },
    refresh: async (signal) => {
      const current = state.spec;
      if (current === undefined) return;
      const outcome = await handEdits.check(current);
      // A change arrived meanwhile: the status may be mid-change; it is looked at again after the run.
      if (signal.aborted || outcome === undefined) return;
      if ('error' in outcome) emit({ type: 'run-error', message: messageOf(outcome.error) });
      else emit({ type: 'hand-edit', files: outcome.edits });
    },
    onPhase: (phase) => {
      if (phase === 'idle' && state.started) emit({ type: 'watch-idle' });
    },
  });
}

/** Loads the spec, starts the watcher on it and schedules the first run; resolves when that is done. */
async function startWatching(parts: DaemonParts, runner: Runner<RunRequest>): Promise<void> {
  const { options, emit, state } = parts;
  const relative = (absolute: string): string => path.relative(options.cwd, absolute) || absolute;
  state.spec = await loadInitialSpec(parts.displayPath, options);
  const onFile = (file: string): void => {
    const absolute = path.resolve(options.cwd, file);
    const kind = classifyFsEvent(absolute, parts.specPath, state.spec);
    if (kind === 'input') {
      emit({ type: 'change', paths: [relative(absolute)] });
      runner.change({});
    } else if (kind === 'output') {
      noticeOutputChange(absolute, options.ownFiles ?? [], runner);
    }
  };
  const onError = (error: unknown): void => emit({ type: 'run-error', message: `watcher: ${messageOf(error)}` });
  await parts.inputs.start(watchedPaths(parts.specPath, state.spec), { onFile, onError }, () => state.closed);
  if (state.closed) return;
  emit({ type: 'watch-ready', spec: parts.displayPath, watching: parts.inputs.paths().map(relative) });
  state.started = true;
  runner.change({});
}

/** A change in outDir: the refresh looks for hand edits, unless it is the daemon's own redirected output. */
function noticeOutputChange(absolute: string, ownFiles: readonly FileIdentity[], runner: Runner<RunRequest>): void {
  // A run's own writes are sorted out by the refresh too.
  if (ownFiles.length === 0) return runner.touch();
  void isOwnedFile(absolute, ownFiles).then((owned) => {
    if (!owned) runner.touch();
  });
}

/** Calls the listener; a rendering failure must not stop the daemon. */
function safeEmitter(onEvent: (event: DaemonEvent) => void): (event: DaemonEvent) => void {
  return (event) => {
    try {
      onEvent(event);
    } catch {
      // Swallowed on purpose: see above.
    }
  };
}

/** The spec before the first run, to know what to watch; only a missing spec stops the daemon. */
async function loadInitialSpec(displayPath: string, options: DaemonOptions): Promise<Spec | undefined> {
  try {
    const { cwd, overrides } = options;
    return await loadSpec(displayPath, { cwd, overrides });
  } catch (error) {
    // Any other error is reported once, by the first run.
    if (isSmolError(error) && error.code === 'SPEC_NOT_FOUND') throw error;
    return undefined;
  }
}
