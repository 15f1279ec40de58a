import { mkdir, rename, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { resolveInside, withPathChecks } from '../../src/workspace/inside.js';
import { readOutputFile } from '../../src/workspace/read.js';
import { tempDir } from '../helpers/cli.js';

// withPathChecks remembers proven folders for one pass over files (issue 15); the memory ends with the pass
// and never makes a check weaker than the full one.
let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => {
  ({ dir, cleanup } = await tempDir('smol-scopes-'));
  await mkdir(path.join(dir, 'out', 'src'), { recursive: true });
  await mkdir(path.join(dir, 'elsewhere'));
  await writeFile(path.join(dir, 'elsewhere', 'a.ts'), 'secret');
});
afterEach(async () => cleanup());

/** Replaces out/src with a link to a folder outside out/. */
async function swapForLink(): Promise<void> {
  await rename(path.join(dir, 'out', 'src'), path.join(dir, 'out', 'src-old'));
  await symlink(path.join(dir, 'elsewhere'), path.join(dir, 'out', 'src'));
}

describe('path-check scopes', () => {
  it('a folder swapped for a link after a pass is refused by the next pass', async () => {
    const out = path.join(dir, 'out');
    await withPathChecks(async () => expect(await resolveInside(out, 'src/a.ts')).toBe(path.join(out, 'src', 'a.ts')));
    await swapForLink();
    await withPathChecks(async () => expect(readOutputFile(out, 'src/a.ts')).rejects.toThrow(/symlink/));
    await expect(resolveInside(out, 'src/a.ts')).rejects.toThrow(/symlink/);
  });

  it('passes at the same time each keep working, and nested passes share the outer memory', async () => {
    const out = path.join(dir, 'out');
    const results = await Promise.all(
      ['a.ts', 'b.ts', 'c.ts'].map((file) =>
        withPathChecks(async () => {
          const first = await resolveInside(out, `src/${file}`);
          const nested = await withPathChecks(() => resolveInside(out, `src/${file}`));
          return first === nested;
        }),
      ),
    );
    expect(results).toEqual([true, true, true]);
    await swapForLink();
    await expect(resolveInside(out, 'src/a.ts')).rejects.toThrow(/symlink/);
  });

  it("a link in a file's place is refused even within the pass that proved its folder", async () => {
    const out = path.join(dir, 'out');
    await withPathChecks(async () => {
      await resolveInside(out, 'src/a.ts');
      await symlink(path.join(dir, 'elsewhere', 'a.ts'), path.join(out, 'src', 'a.ts'));
      await expect(resolveInside(out, 'src/a.ts')).rejects.toThrow(/symbolic link/);
    });
  });
});
