import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/cli.js';

const run = promisify(execFile);

describe('the published package', () => {
  it('`npm pack` ships the build, the bin, the schema, README and LICENSE, and no source maps', async () => {
    // --ignore-scripts: list what the current build would ship, without rebuilding (global setup built it).
    const { stdout } = await run('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? ROOT },
    });
    const [pack] = JSON.parse(stdout) as [{ files: { path: string }[] }];
    const files = pack.files.map((file) => file.path);
    expect(files.filter((file) => file.endsWith('.map'))).toEqual([]);
    expect(files).toEqual(
      expect.arrayContaining([
        'LICENSE',
        'README.md',
        'package.json',
        'bin/smol.js',
        'dist/cli/main.js',
        'dist/index.js',
        'dist/index.d.ts',
        'schema/smol-spec.schema.json',
      ]),
    );
    expect(files.filter((file) => !/^(dist|bin|schema)\//.test(file)).sort()).toEqual([
      'LICENSE',
      'README.md',
      'package.json',
    ]);
    // Nothing shipped points into src/, which is not shipped.
    const shipped = await Promise.all(
      files.filter((file) => file.endsWith('.js')).map((file) => readFile(path.join(ROOT, file), 'utf8')),
    );
    expect(shipped.filter((text) => text.includes('sourceMappingURL'))).toEqual([]);
    expect(await readFile(path.join(ROOT, 'LICENSE'), 'utf8')).toMatch(/^MIT License/);
    const manifest = JSON.parse(await readFile(path.join(ROOT, 'package.json'), 'utf8')) as {
      license: string;
      name: string;
    };
    expect(manifest.license).toBe('MIT');
  }, 60_000);

  it('README runs the MCP server from this package (`npx smol` would fetch another one)', async () => {
    const readme = await readFile(path.join(ROOT, 'README.md'), 'utf8');
    expect(readme).not.toMatch(/"args": \["smol"/);
    expect(readme).toContain('"args": ["-p", "smol-dev", "smol", "mcp"');
  });
});
