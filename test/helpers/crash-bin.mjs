// Test-only entry point: the CLI (as bin/smol.js runs it) with a crash point. SMOL_CRASH_AT names the
// journal step at which the process kills itself with SIGKILL, so a crash test knows exactly where it
// landed: `journal-written`, `file-written:N` (after the Nth file written), `lock-written`, `history-written`.
import { setJournalStepHook } from '../../dist/engine/journal.js';
import { main } from '../../dist/cli/main.js';

const [kind, count] = (process.env.SMOL_CRASH_AT ?? '').split(':');
let files = 0;
setJournalStepHook((step) => {
  if (step.kind !== kind) return;
  if (step.kind === 'file-written' && (files += 1) < Number(count)) return;
  process.kill(process.pid, 'SIGKILL');
});

process.exitCode = await main(process.argv.slice(2), {
  stdin: process.stdin,
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  cwd: process.cwd(),
});
