import type { Recovery } from '../engine/journal.js';
import type { Output } from './io.js';

/** Says what recovery did before the command: an interrupted apply finished, or a foreign journal set aside. */
export function reportRecovery(output: Output, recovery: Recovery | undefined): void {
  if (recovery === undefined) return;
  if (recovery.refused !== undefined) {
    output.warn(`${recovery.refused}: not carried out; set aside as .smol/journal.refused.json.`);
    return;
  }
  output.info(output.colors.yellow(`finished an apply that was interrupted: ${recovery.files.length} file(s) written${recovery.skipped.length > 0 ? `; left as they are: ${recovery.skipped.join(', ')}` : ''}`));
  for (const failure of recovery.failed) output.warn(`${failure.path}: ${failure.message}`);
}
