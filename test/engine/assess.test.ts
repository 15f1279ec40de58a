import { copyFile, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readDiskView, type PreviousOutDir } from '../../src/engine/assess.js';
import { changeWithoutGeneration } from '../../src/engine/changes.js';
import { readLedger, recordWrites } from '../../src/engine/ledger.js';
import { entry, HASH, specFolder, type Folder } from './fixtures.js';

/** The view's fields that say whether the file is carried (absent keys read as undefined). */
const carry = (view: {
  content?: string | undefined;
  movedFrom?: string | undefined;
  replaces?: string | undefined;
}) => ({
  content: view.content,
  movedFrom: view.movedFrom,
  replaces: view.replaces,
});

/**
 * outDir moved (design.md 4.4): the lock names `web/`, the spec `app/` again. A file of `web/` is carried to
 * `app/` when `app/` has no such file, or only the one smol itself left there when outDir moved away (the
 * ledger, keyed from the project root, proves it by hash and inode). A file of the user's in `app/`, or one
 * whose ledger record a clone or a copy cannot match, is looked at as it is: never written over.
 */

const OLD = 'first generation\n';
const NEW = 'second generation\n';
const locked = entry(NEW);

let folder: Folder;
let web: string;
beforeEach(async () => {
  folder = await specFolder();
  web = path.join(folder.paths.root, 'web');
  await mkdir(web, { recursive: true });
  await writeFile(path.join(web, 'a.txt'), NEW);
});
afterEach(() => folder.cleanup());

async function previous(): Promise<PreviousOutDir> {
  return { absolute: web, name: 'web', ledger: await readLedger(folder.paths) };
}

describe('a file carried back to an outDir smol wrote before', () => {
  it('replaces the file smol left there, and says what it replaces', async () => {
    await folder.writeOutputs({ 'a.txt': OLD });
    await recordWrites(folder.paths, folder.outDir, [{ path: 'a.txt', hash: HASH(OLD) }]);
    await recordWrites(folder.paths, web, [{ path: 'a.txt', hash: HASH(NEW) }]);
    const view = await readDiskView(folder.outDir, 'a.txt', locked, await previous());
    expect(view).toMatchObject({ state: 'clean', content: NEW, movedFrom: web, replaces: OLD });
    const change = changeWithoutGeneration({
      path: 'a.txt',
      disk: view,
      reasons: [{ kind: 'out-dir-changed', from: 'web' }],
    } as never);
    expect(change).toMatchObject({ action: 'update', before: OLD, after: NEW });
  });

  it('keeps a file of the user in its place (no ledger record): untracked, as smol never wrote it there', async () => {
    await folder.writeOutputs({ 'a.txt': 'mine\n' });
    const view = await readDiskView(folder.outDir, 'a.txt', locked, await previous());
    expect(view.state).toBe('untracked');
    expect(carry(view)).toEqual({ content: 'mine\n', movedFrom: undefined, replaces: undefined });
  });

  it('keeps a leftover the user changed since smol wrote it', async () => {
    await folder.writeOutputs({ 'a.txt': OLD });
    await recordWrites(folder.paths, folder.outDir, [{ path: 'a.txt', hash: HASH(OLD) }]);
    await folder.writeOutputs({ 'a.txt': `${OLD}hand\n` });
    const view = await readDiskView(folder.outDir, 'a.txt', locked, await previous());
    expect(carry(view)).toEqual({ content: `${OLD}hand\n`, movedFrom: undefined, replaces: undefined });
  });

  it('keeps a file with the same content but another inode (a checkout, a copy): the record proves nothing', async () => {
    await folder.writeOutputs({ 'a.txt': OLD });
    await recordWrites(folder.paths, folder.outDir, [{ path: 'a.txt', hash: HASH(OLD) }]);
    const file = path.join(folder.outDir, 'a.txt');
    await copyFile(file, `${file}.copy`);
    await rename(`${file}.copy`, file);
    const view = await readDiskView(folder.outDir, 'a.txt', locked, await previous());
    expect(carry(view)).toEqual({ content: OLD, movedFrom: undefined, replaces: undefined });
  });

  it('does not read a version 1 ledger (keys from outDir): it proves nothing', async () => {
    await folder.writeOutputs({ 'a.txt': OLD });
    await recordWrites(folder.paths, folder.outDir, [{ path: 'a.txt', hash: HASH(OLD) }]);
    const written = JSON.parse(await readFile(folder.paths.ledger, 'utf8')) as { files: Record<string, unknown> };
    expect(Object.keys(written.files)).toEqual(['app/a.txt']);
    await writeFile(
      folder.paths.ledger,
      JSON.stringify({ version: 1, files: { 'a.txt': written.files['app/a.txt'] } }),
    );
    expect((await readLedger(folder.paths)).files.size).toBe(0);
    const view = await readDiskView(folder.outDir, 'a.txt', locked, await previous());
    expect(carry(view)).toEqual({ content: OLD, movedFrom: undefined, replaces: undefined });
  });

  it('carries a file that is not in outDir, and looks at an equal one in place', async () => {
    expect(carry(await readDiskView(folder.outDir, 'a.txt', locked, await previous()))).toEqual({
      content: NEW,
      movedFrom: web,
      replaces: undefined,
    });
    await folder.writeOutputs({ 'a.txt': NEW });
    const inPlace = await readDiskView(folder.outDir, 'a.txt', locked, await previous());
    expect(inPlace.state).toBe('clean');
    expect(carry(inPlace)).toEqual({ content: NEW, movedFrom: undefined, replaces: undefined });
  });
});
