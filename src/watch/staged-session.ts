import { applyStaged, type ApplyResult, type ConflictResolution } from '../engine/apply.js';
import { statePaths } from '../engine/paths.js';
import { loadStaged, type StagedChange, type StagedRun } from '../engine/staging.js';
import type { Spec } from '../spec/types.js';
import type { DaemonEvent } from './events.js';
import { runChecksAfterApply, type MakeProvider } from './run-spec.js';

/** Which staged changes to apply and how to settle conflicts (the engine's `applyStaged` options). */
interface ApplyChoice {
  accept?: ((change: StagedChange) => boolean) | undefined;
  resolutions?: ReadonlyMap<string, ConflictResolution> | undefined;
}

/** What a key press that applies or reviews gets: the staged run, and a way to apply it (once). */
export interface StagedSession {
  spec: Spec;
  staged: StagedRun;
  apply(choice?: ApplyChoice): Promise<ApplyResult>;
}

/**
 * The staged run of `spec` as a session, or undefined when nothing is staged. Applying runs the spec's
 * checks afterwards, as a run with `apply: auto` does.
 */
export async function openStagedSession(
  spec: Spec,
  emit: (event: DaemonEvent) => void,
  makeProvider: MakeProvider,
): Promise<StagedSession | undefined> {
  const paths = statePaths(spec.dir);
  const staged = await loadStaged(paths);
  if (staged === undefined || staged.changes.length === 0) return undefined;
  let applied = false;
  return {
    spec,
    staged,
    apply: async (choice = {}) => {
      if (applied) throw new Error('a staged session applies once');
      applied = true;
      const result = await applyStaged({ paths, outDir: spec.outDir, staged, onEvent: emit, ...choice });
      if (result.applied.length > 0 && spec.settings.checks.length > 0) {
        await runChecksAfterApply(emit, spec, await makeProvider(spec));
      }
      return result;
    },
  };
}
