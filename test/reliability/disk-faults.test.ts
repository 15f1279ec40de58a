import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { computeStatus, loadSpec, runPipeline, SmolError, statePaths, undoLast } from '../../src/index.js';
import { createFakeProvider } from '../../src/llm/fake.js';
import { tempDir } from '../helpers/cli.js';

// Simulated disk faults, counted over every write smol makes: output files (write-file-atomic) and its own
// state (writeStateFile: objects, cache, journal, lock, ledger, history, staging, edits file).
const faults = vi.hoisted(() => ({
  failAfter: Number.POSITIVE_INFINITY,
  code: 'ENOSPC',
  writes: 0,
  kinds: [] as string[],
}));
function fault(kind: string): Error | undefined {
  faults.writes += 1;
  faults.kinds.push(kind);
  return faults.writes > faults.failAfter
    ? Object.assign(new Error(`${faults.code}: simulated`), { code: faults.code })
    : undefined;
}
vi.mock('write-file-atomic', async (importOriginal) => {
  const original = (await importOriginal()) as { default: (...args: unknown[]) => Promise<void> };
  return {
    default: async (...args: unknown[]) => {
      const error = fault('output');
      if (error !== undefined) throw error;
      return original.default(...args);
    },
  };
});
vi.mock('../../src/workspace/state-file.js', async (importOriginal) => {
  const original = (await importOriginal()) as typeof import('../../src/workspace/state-file.js');
  const { asDiskError } = await import('../../src/workspace/disk-errors.js');
  return {
    ...original,
    writeStateFile: async (file: string, ...rest: unknown[]) => {
      const error = fault(`state ${path.basename(path.dirname(file))}/${path.basename(file)}`);
      // What the real one throws for a refused write.
      if (error !== undefined) throw asDiskError(error, 'write', file);
      return (original.writeStateFile as (...args: unknown[]) => Promise<void>)(file, ...rest);
    },
  };
});

const FILES = ['a.txt', 'b.txt', 'c.txt', 'd.txt'];
function model(version: string) {
  return createFakeProvider((request) => {
    if (request.stage === 'plan')
      return { text: `## Global\n\n${version}\n\n${FILES.map((file) => `### \`${file}\`\n\n${file}`).join('\n\n')}` };
    if (request.stage === 'files')
      return {
        toolCalls: [
          {
            name: 'submit_file_list',
            arguments: JSON.stringify({ files: FILES.map((file) => ({ path: file, purpose: file, dependsOn: [] })) }),
          },
        ],
      };
    return { text: `\`\`\`\n${version} ${request.file}\n\`\`\`` };
  });
}

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => {
  ({ dir, cleanup } = await tempDir('smol-disk-'));
  faults.failAfter = Number.POSITIVE_INFINITY;
  faults.writes = 0;
});
afterEach(async () => cleanup());

const specText = (version: string): string => `---\nmodel: m\n---\n${version} program\n`;
async function runVersion(version: string) {
  await writeFile(path.join(dir, 'prompt.md'), specText(version));
  return runPipeline({ spec: await loadSpec(path.join(dir, 'prompt.md')), provider: model(version), mode: 'apply' });
}
const contents = async (): Promise<string[]> =>
  Promise.all(FILES.map((file) => readFile(path.join(dir, 'app', file), 'utf8')));
const versionOf = (version: string): string[] => FILES.map((file) => `${version} ${file}\n`);

describe.each(['ENOSPC', 'EROFS', 'EACCES'])('the disk refuses writes (%s)', (code) => {
  it('at write points of an apply (every one for ENOSPC; its files and its state): a user error, nothing torn, finished on the next run', async () => {
    expect((await runVersion('v0')).written.sort()).toEqual(FILES);
    // Count the writes of one apply of a new version: objects, generation index, journal, files, lock,
    // ledger, history (the response cache's writes are best effort and off the critical path).
    faults.writes = 0;
    faults.kinds = [];
    await runVersion('measure');
    const total = faults.writes;
    const kinds = [...faults.kinds];
    expect(kinds).toContain('output');
    for (const state of ['.smol/journal.json', '/smol.lock', '.smol/ledger.json', 'history/state.json'])
      expect(
        kinds.some((kind) => kind.startsWith('state ') && kind.endsWith(state)),
        state,
      ).toBe(true);
    if (process.env.SMOL_FAULTS_DEBUG === '1') console.log(total, kinds);

    const previous = 'measure';
    // Every write point for one code; a spread of them for the others.
    const points =
      code === 'ENOSPC' ? [...Array(total).keys()] : [0, Math.floor(total / 3), Math.floor((2 * total) / 3), total - 1];
    for (const failAfter of points) {
      // A new version each time, so every kind of write happens again.
      const version = `v${failAfter + 1}`;
      faults.code = code;
      faults.writes = 0;
      faults.failAfter = failAfter;
      const error = await runVersion(version).then(
        () => undefined,
        (caught: unknown) => caught,
      );
      faults.failAfter = Number.POSITIVE_INFINITY;
      const where = `fault at write ${failAfter + 1} of ${total} (${kinds[failAfter]})`;
      if (error !== undefined) {
        expect(error, where).toBeInstanceOf(SmolError);
        expect((error as SmolError).code, where).toBe('DISK_WRITE_FAILED');
        expect((error as SmolError).message, where).toContain(code);
      }
      // Every file is whole: the old or the new version, never a torn one.
      const now = await contents();
      for (const index of FILES.keys())
        expect([versionOf(previous)[index], versionOf(version)[index]], where).toContain(now[index]);
      // The next run finishes (an interrupted apply first), and the lock is true to the disk.
      const back = await runVersion(version);
      expect(back.failed, where).toEqual([]);
      const status = await computeStatus(await loadSpec(path.join(dir, 'prompt.md')));
      expect(
        status.files.every((file) => file.disk === 'clean'),
        where,
      ).toBe(true);
      expect(await contents(), where).toEqual(versionOf(version));
      // And the history still walks back: undo restores the version before (where the next point starts).
      await undoLast(statePaths(dir), path.join(dir, 'app'));
      expect(await contents(), where).toEqual(versionOf(previous));
    }
  });
});
