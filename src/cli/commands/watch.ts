import { statePaths } from '../../engine/paths.js';
import { loadViews, renderChange, stagedSummary } from '../../review/render.js';
import { createDaemon, type Daemon, type DaemonEvent } from '../../watch/daemon.js';
import { isClosedPipe } from '../io.js';
import { overridesFrom, type ModelFlags } from '../options.js';
import type { CommandContext } from '../program.js';
import { createProgress } from '../progress.js';
import { canReview, reportApply, reviewAndApply } from '../review-flow.js';
import { findSpec } from '../context.js';
import { count } from '../words.js';

const KEYS_HELP = 'keys: a apply · r review · d diffs · f force all · q quit · Ctrl+C cancel run';

/** `smol watch [spec]`: the daemon, with keys on a terminal. */
export async function watchCommand({ io, output }: CommandContext, specArg: string | undefined, flags: ModelFlags & { json?: boolean }): Promise<number> {
  const specFile = (await findSpec(specArg, io.cwd)).display;
  const json = flags.json === true;
  const interactive = !json && canReview(io);
  const progress = createProgress(io, output, json ? 'json' : 'auto');
  let busyWithKeys = false;
  let daemon: Daemon;

  const onEvent = (event: DaemonEvent): void => {
    if (json) return output.json(event);
    switch (event.type) {
      case 'watch-ready':
        output.info(`${output.colors.green('watching')} ${event.watching.join(', ')}${interactive ? `\n${output.colors.dim(KEYS_HELP)}` : ''}`);
        break;
      case 'change':
        output.info(output.colors.dim(`changed: ${event.paths.join(', ')}`));
        break;
      case 'spec-error':
        output.error(event.message);
        output.info(output.colors.dim('still watching: fix the spec and save.'));
        break;
      case 'run-error':
        output.error(event.message);
        break;
      case 'run-cancelled':
        output.info(output.colors.yellow('run cancelled; nothing was half-written.'));
        break;
      case 'checks-done':
        if (event.passed) output.info(output.colors.green(`checks passed${event.rounds > 1 ? ` after ${count(event.rounds - 1, 'fix round')}` : ''}`));
        else {
          for (const failure of event.failed) output.info(`${output.colors.red('check failed')} ${failure.command}\n${output.colors.dim(failure.output.trim().split('\n').slice(-15).join('\n'))}`);
          if (event.stopped !== undefined) output.info(output.colors.dim(`fix loop stopped: ${event.stopped}`));
        }
        break;
      case 'hand-edit':
        if (event.files.length > 0) output.info(`${output.colors.yellow('hand edits')}: ${event.files.map((file) => `${file.path} (${file.disk})`).join(', ')} (kept; merged on the next regeneration)`);
        break;
      case 'run-result': {
        const writable = event.staged.changes.filter((change) => change.action !== 'conflict');
        if (event.applied) break;
        if (event.staged.changes.length === 0) {
          output.info(output.colors.green('up to date'));
        } else {
          output.info(`${output.colors.bold('staged')}: ${stagedSummary(event.staged)}`);
          if (writable.length > 0) output.info(output.colors.dim(interactive ? 'press a to apply, r to review, d for diffs' : 'run `smol apply` to review and write them'));
        }
        break;
      }
      default:
        progress.onEvent(event);
    }
  };

  daemon = createDaemon({
    specFile,
    cwd: io.cwd,
    overrides: overridesFrom(flags),
    env: io.env,
    onEvent,
  });

  return new Promise<number>((resolve) => {
    let exiting = false;
    let interrupts = 0;
    const finish = async (code: number): Promise<void> => {
      if (exiting) return;
      exiting = true;
      detachKeys();
      process.off('SIGINT', onInterrupt);
      process.off('SIGTERM', onTerminate);
      io.stdout.off('error', onPipeClosed);
      progress.stop();
      await daemon.close();
      resolve(code);
    };
    const onInterrupt = (): void => {
      interrupts += 1;
      // Once cancels the run in flight; twice (or once when idle) exits.
      if (interrupts === 1 && daemon.cancel()) {
        if (!json) output.info(output.colors.yellow('cancelling the run… (Ctrl+C again to exit)'));
        return;
      }
      void finish(130);
    };
    const onTerminate = (): void => void finish(0);
    const onPipeClosed = (error: unknown): void => {
      if (isClosedPipe(error)) void finish(0);
    };
    process.on('SIGINT', onInterrupt);
    process.on('SIGTERM', onTerminate);
    io.stdout.on('error', onPipeClosed);

    const onKey = (chunk: Buffer | string): void => {
      if (busyWithKeys) return;
      for (const key of chunk.toString()) {
        if (key === '\u0003') onInterrupt();
        else if (key === 'q') void finish(0);
        else if (key === 'f') daemon.rerun('all');
        else if (key === 'a') void withKeysPaused(applyNow);
        else if (key === 'd') void withKeysPaused(showDiffs);
        else if (key === 'r') void withKeysPaused(review);
      }
    };
    const attachKeys = (): void => {
      if (!interactive) return;
      io.stdin.setRawMode?.(true);
      io.stdin.on('data', onKey);
      io.stdin.resume();
    };
    const detachKeys = (): void => {
      if (!interactive) return;
      io.stdin.off('data', onKey);
      io.stdin.setRawMode?.(false);
      io.stdin.pause();
    };
    const withKeysPaused = async (action: () => Promise<void>): Promise<void> => {
      busyWithKeys = true;
      detachKeys();
      try {
        await action();
      } catch (error) {
        output.error(error instanceof Error ? error.message : String(error));
      } finally {
        busyWithKeys = false;
        if (!exiting) attachKeys();
      }
    };
    const applyNow = async (): Promise<void> => {
      const staged = await daemon.staged();
      const result = await daemon.applyStaged();
      if (result === undefined || staged === undefined) output.info('nothing staged');
      else reportApply(output, result, staged);
    };
    const showDiffs = async (): Promise<void> => {
      const spec = daemon.spec();
      const staged = await daemon.staged();
      if (spec === undefined || staged === undefined || staged.changes.length === 0) return output.info('nothing staged');
      output.info(stagedSummary(staged));
      for (const view of await loadViews(statePaths(spec.dir).objects, staged)) output.info(`\n${renderChange(view, output.colors)}`);
    };
    const review = async (): Promise<void> => {
      const spec = daemon.spec();
      const staged = await daemon.staged();
      if (spec === undefined || staged === undefined || staged.changes.length === 0) return output.info('nothing staged');
      const result = await reviewAndApply(io, output, statePaths(spec.dir), spec.outDir, staged);
      if (result !== undefined) reportApply(output, result, staged);
    };

    daemon.ready.then(attachKeys, (error: unknown) => {
      output.error(error instanceof Error ? error.message : String(error));
      void finish(2);
    });
  });
}
