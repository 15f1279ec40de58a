#!/usr/bin/env node
// dist/bundle/ is the CLI bundled by scripts/bundle-cli.js (part of `npm run build`): it starts faster.
import { main } from '../dist/bundle/main.js';

process.exitCode = await main(process.argv.slice(2), {
  stdin: process.stdin,
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  cwd: process.cwd(),
  // performance.now() counts from the process's start: the run summary times the whole command.
  startedAt: 0,
});
