import type { EventSink } from '../engine/events.js';
import type { Recovery } from '../engine/journal.js';
import type { Output } from './io.js';
import { count } from './words.js';

/** Says what recovery did before the command: an interrupted apply finished, or a foreign journal set aside. */
export function reportRecovery(output: Output, recovery: Recovery | undefined): void {
  if (recovery === undefined) return;
  if (recovery.refused !== undefined) {
    output.warn(`${recovery.refused}: not carried out; set aside as .smol/journal.refused.json.`);
    return;
  }
  output.info(
    output.colors.yellow(
      `finished an apply that was interrupted: ${count(recovery.files.length, 'file')} written${recovery.skipped.length > 0 ? `; left as they are: ${recovery.skipped.join(', ')}` : ''}`,
    ),
  );
  for (const failure of recovery.failed) output.warn(`${failure.path}: ${failure.message}`);
}

/** `sink`, plus the recovery a run does first (its `journal-recovered` event) said in words. */
export function withRecoveryReport(output: Output, sink: EventSink): EventSink {
  return (event) => {
    if (event.type === 'journal-recovered') {
      reportRecovery(output, {
        files: event.files,
        skipped: event.skipped,
        failed: event.failed ?? [],
        refused: event.refused,
      });
    }
    sink(event);
  };
}
