import { SmolError } from '../errors.js';
import { isClosedPipe, type CliIO } from './io.js';

/**
 * Runs `work` with an AbortSignal that the first Ctrl+C (or SIGTERM) aborts; a second Ctrl+C exits at
 * once with 130. Nothing is half-written either way: every file is written atomically.
 */
export async function withCancellation<T>(io: CliIO, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  let interrupts = 0;
  const onSignal = (signal: NodeJS.Signals): void => {
    interrupts += 1;
    if (interrupts > 1) process.exit(130);
    io.stderr.write(signal === 'SIGINT' ? '\ncancelling… (Ctrl+C again to exit now)\n' : '\nstopping…\n');
    controller.abort();
  };
  // Nobody reads the output any more (`smol run --json | head -1`): stop as Ctrl+C would, quietly.
  const onPipeClosed = (error: unknown): void => {
    if (isClosedPipe(error)) controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  io.stdout.on('error', onPipeClosed);
  try {
    return await work(controller.signal);
  } catch (error) {
    if (controller.signal.aborted) {
      throw new SmolError('CANCELLED', 'Cancelled; nothing was half-written.', {
        exitCode: 130,
        hint: 'Run again to continue: finished answers are cached.',
      });
    }
    throw error;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    io.stdout.off('error', onPipeClosed);
  }
}
