import { execFileSync } from 'node:child_process';
import { accessSync, constants, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/**
 * The subprocess tests run `bin/smol.js`, which imports the bundle in `dist/bundle/` (built from `dist/`'s
 * sources by scripts/bundle-cli.js): make sure it is current. The build (tsc,
 * ~10 s of CPU) runs only when some source is newer than its output: `npm ci` already builds (`prepare`),
 * so CI does not build twice, and a second `npm test` with no edits starts at once.
 */
export default function setup(): () => void {
  build();
  // The tests' temp folders (os.tmpdir() in the workers) go to one folder per run, in memory when the
  // machine has a tmpfs: thousands of small files are written, renamed and removed, and on a disk shared
  // with other work that is most of the suite's time. What the tests prove does not depend on the file
  // system (durable writes are about power loss, which no test simulates). Removed at the end, whatever
  // a test left behind.
  const scratch = mkdtempSync(path.join(memoryFolder() ?? os.tmpdir(), 'smol-tests-'));
  process.env.TMPDIR = scratch;
  return () => rmSync(scratch, { recursive: true, force: true, maxRetries: 10, retryDelay: 50 });
}

function build(): void {
  if (process.env.SMOL_SKIP_BUILD === '1') return;
  const stale = staleOutput();
  if (stale === undefined) return;
  process.stderr.write(`building dist/ (${stale})\n`);
  execFileSync(process.execPath, [path.join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'], {
    cwd: ROOT,
    stdio: 'inherit',
  });
  execFileSync(process.execPath, [path.join(ROOT, 'scripts/bundle-cli.js')], { cwd: ROOT, stdio: 'inherit' });
}

/** `/dev/shm` (Linux's tmpfs) when it is a folder this user may write in. */
function memoryFolder(): string | undefined {
  try {
    if (!statSync('/dev/shm').isDirectory()) return undefined;
    accessSync('/dev/shm', constants.W_OK);
    return '/dev/shm';
  } catch {
    return undefined;
  }
}

/** Why dist/ needs a build, or undefined when every `src/**.ts` has a newer `dist/**.js`. */
function staleOutput(): string | undefined {
  const modified = (file: string): number | undefined => {
    try {
      return statSync(file).mtimeMs;
    } catch {
      return undefined;
    }
  };
  let oldestOutput = Number.POSITIVE_INFINITY;
  for (const entry of readdirSync(path.join(ROOT, 'src'), { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || !entry.name.endsWith('.ts') || entry.name.endsWith('.d.ts')) continue;
    const source = path.join(entry.parentPath, entry.name);
    const relative = path.relative(path.join(ROOT, 'src'), source).replace(/\.ts$/, '.js');
    const output = modified(path.join(ROOT, 'dist', relative));
    if (output === undefined) return `dist/${relative} is missing`;
    if (output < modified(source)!) return `src/${relative.replace(/\.js$/, '.ts')} changed`;
    oldestOutput = Math.min(oldestOutput, output);
  }
  const bundle = modified(path.join(ROOT, 'dist/bundle/main.js'));
  if (bundle === undefined) return 'dist/bundle/main.js is missing';
  oldestOutput = Math.min(oldestOutput, bundle);
  for (const config of ['tsconfig.json', 'tsconfig.build.json', 'scripts/bundle-cli.js', 'package-lock.json']) {
    if ((modified(path.join(ROOT, config)) ?? 0) > oldestOutput) return `${config} changed`;
  }
  return undefined;
}
