import path from 'node:path';
import { watch, type FSWatcher } from 'chokidar';
import { statePaths } from '../engine/paths.js';
import type { Spec } from '../spec/types.js';
import { isInside } from '../workspace/inside.js';

/** What the daemon watches: the spec, and once it loaded, its includes and outDir. */
export function watchedPaths(specPath: string, spec: Spec | undefined): string[] {
  if (spec === undefined) return [specPath];
  return [specPath, ...spec.includes.map((include) => include.absolutePath), spec.outDir];
}

/**
 * What a file-system event means to the daemon: `input` (the spec or an include changed: a run is due),
 * `output` (something in outDir: maybe a hand edit, looked at by the refresh) or `state` (smol's own
 * bookkeeping: nothing to do).
 */
export type FsEventKind = 'input' | 'output' | 'state';

export function classifyFsEvent(absolute: string, specPath: string, spec: Spec | undefined): FsEventKind {
  const input = absolute === specPath || (spec?.includes.some((include) => include.absolutePath === absolute) ?? false);
  if (input || spec === undefined || !isInside(spec.outDir, absolute)) return 'input';
  const state = statePaths(spec.dir);
  if (isInside(state.stateDir, absolute) || absolute === state.lockFile || absolute === state.editsFile) return 'state';
  return 'output';
}

export interface InputWatcher {
  /** Starts chokidar on `initial`; resolves once it is ready (or at once when closed meanwhile). */
  start(initial: string[], handlers: WatchHandlers, isClosed: () => boolean): Promise<void>;
  /** Watches exactly `wanted` from now on (a spec's includes or outDir changed). */
  update(wanted: readonly string[]): Promise<void>;
  /** The watched paths, as given. */
  paths(): string[];
  close(): Promise<void>;
}

interface WatchHandlers {
  onFile: (file: string) => void;
  onError: (error: unknown) => void;
}

const IGNORED_FOLDERS = new Set(['.smol', 'node_modules', '.git']);

/** chokidar, and the set of paths it watches (kept here: chokidar's own list holds globs and folders). */
export function createInputWatcher(): InputWatcher {
  let watcher: FSWatcher | undefined;
  let watched = new Set<string>();
  return {
    async start(initial, handlers, isClosed) {
      watched = new Set(initial);
      const started = watch(initial, {
        ignoreInitial: true,
        // The response cache, staging area and journal change on every run; never react to them.
        ignored: (file: string) => file.split(path.sep).some((part) => IGNORED_FOLDERS.has(part)),
      });
      watcher = started;
      if (isClosed()) return void (await started.close());
      started.on('all', (_event, file) => handlers.onFile(file));
      started.on('error', handlers.onError);
      await new Promise<void>((resolve) => started.once('ready', () => resolve()));
    },
    async update(wanted) {
      const next = new Set(wanted);
      const added = [...next].filter((entry) => !watched.has(entry));
      const removed = [...watched].filter((entry) => !next.has(entry));
      watched = next;
      if (watcher === undefined) return;
      if (added.length > 0) watcher.add(added);
      if (removed.length > 0) await watcher.unwatch(removed);
    },
    paths: () => [...watched],
    close: async () => watcher?.close(),
  };
}
