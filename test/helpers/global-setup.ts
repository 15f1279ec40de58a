import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The CLI tests run `bin/smol.js`, which imports the bundle in `dist/bundle/`; make sure it is current. */
export default function setup(): void {
  if (process.env.SMOL_SKIP_BUILD === '1') return;
  const root = fileURLToPath(new URL('../..', import.meta.url));
  execFileSync(process.execPath, [`${root}/node_modules/typescript/bin/tsc`, '-p', 'tsconfig.build.json'], {
    cwd: root,
    stdio: 'inherit',
  });
  execFileSync(process.execPath, [`${root}/scripts/bundle-cli.js`], { cwd: root, stdio: 'inherit' });
}
