import type { CommandResult } from '../debug/command.js';
import type { Output } from './io.js';

/** Shows each check's outcome; a failing one with the end of its output. */
export function reportChecks(output: Output, results: readonly CommandResult[], json: boolean): void {
  for (const result of results) {
    if (json) {
      output.json({ type: 'check', command: result.command, exitCode: result.exitCode, timedOut: result.timedOut, output: result.output.slice(-4000) });
      continue;
    }
    if (result.exitCode === 0) {
      output.info(`${output.colors.green('check passed')} ${result.command}`);
    } else {
      output.info(`${output.colors.red('check failed')} ${result.command} ${output.colors.dim(result.timedOut ? '(killed: checkTimeout)' : `(exit ${String(result.exitCode)})`)}`);
      const tail = result.output.trim().split('\n').slice(-20).join('\n');
      if (tail !== '') output.info(output.colors.dim(tail));
    }
  }
}
