import { mkdir, symlink, writeFile, readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { checkOutputPath, checkPlannedPaths, resolveInside } from '../../src/workspace/safe-path.js';
import { writeOutputFile } from '../../src/workspace/write.js';
import { tempDir } from '../helpers/cli.js';

describe('checkOutputPath', () => {
  it.each([
    ['../x', '`..` segment'],
    ['a/../../x', '`..` segment'],
    ['/etc/passwd', 'absolute path'],
    ['\\\\server\\share', 'absolute path'],
    ['C:\\Windows\\x', 'drive letter'],
    ['c:x', 'drive letter'],
    ['.git/config', 'never writes'],
    ['.GIT/hooks/pre-commit', 'never writes'],
    ['sub/.git/config', '.git'],
    ['.smol/cache/x', 'never writes'],
    ['a\u0000b', 'control'],
    ['a\nb', 'control'],
    ['', 'empty'],
    ['src/', 'folder'],
    ['~/x', 'home'],
    ['con.txt', 'device'],
  ])('refuses %j', (raw, reason) => {
    const check = checkOutputPath(raw);
    expect(check.ok).toBe(false);
    if (!check.ok) expect(check.reason).toContain(reason);
  });

  it('normalises safe paths', () => {
    expect(checkOutputPath('./src//a.ts')).toEqual({ ok: true, path: 'src/a.ts' });
    expect(checkOutputPath('src\\b.ts')).toEqual({ ok: true, path: 'src/b.ts' });
  });
});

describe('checkPlannedPaths', () => {
  it('refuses duplicates differing only in case, ignored paths and files past the limit', () => {
    const result = checkPlannedPaths(['a.ts', 'A.ts', 'assets/logo.png', 'b.ts', 'c.ts'], {
      maxFiles: 2,
      ignore: ['assets/**'],
    });
    expect(result.accepted).toEqual(['a.ts', 'b.ts']);
    expect(result.rejected.map((rejection) => rejection.path)).toEqual(['A.ts', 'assets/logo.png', 'c.ts']);
  });
});

describe('resolveInside and writeOutputFile', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeEach(async () => ({ dir, cleanup } = await tempDir()));
  afterEach(async () => cleanup());

  it('refuses to write through a symlinked folder that points outside', async () => {
    const out = path.join(dir, 'out');
    const outside = path.join(dir, 'outside');
    await mkdir(out);
    await mkdir(outside);
    await symlink(outside, path.join(out, 'link'));
    await expect(writeOutputFile(out, 'link/evil.txt', 'x')).rejects.toThrow(/outside/);
    await expect(readFile(path.join(outside, 'evil.txt'))).rejects.toThrow();
  });

  it('refuses to write through a symlinked file', async () => {
    const out = path.join(dir, 'out');
    await mkdir(out);
    await writeFile(path.join(dir, 'secret.txt'), 'keep');
    await symlink(path.join(dir, 'secret.txt'), path.join(out, 'file.txt'));
    await expect(writeOutputFile(out, 'file.txt', 'x')).rejects.toThrow(/link/);
    expect(await readFile(path.join(dir, 'secret.txt'), 'utf8')).toBe('keep');
  });

  it('writes nested paths atomically inside the root', async () => {
    const out = path.join(dir, 'out');
    const target = await writeOutputFile(out, 'a/b/c.txt', 'hello\n');
    expect(target).toBe(path.join(out, 'a', 'b', 'c.txt'));
    expect(await readFile(target, 'utf8')).toBe('hello\n');
    await expect(resolveInside(out, '../x')).rejects.toThrow(/\.\./);
  });
});
