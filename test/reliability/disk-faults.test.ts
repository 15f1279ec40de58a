import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

// Simulated disk faults: write-file-atomic (every file smol writes goes through it) fails on demand.
const faults = vi.hoisted(() => ({ failAfter: Number.POSITIVE_INFINITY, code: 'ENOSPC', writes: 0 }));
vi.mock('write-file-atomic', async (importOriginal) => {
  const original = (await importOriginal()) as { default: (...args: unknown[]) => Promise<void> };
  return {
    default: async (...args: unknown[]) => {
      faults.writes += 1;
      if (faults.writes > faults.failAfter) {
        throw Object.assign(new Error(`${faults.code}: simulated`), { code: faults.code });
      }
      return original.default(...args);
    },
  };
});

import { createFakeProvider } from '../../src/llm/fake.js';
import { computeStatus, loadSpec, runPipeline, SmolError } from '../../src/index.js';
import { tempDir } from '../helpers/cli.js';
import { writeFile } from 'node:fs/promises';

const FILES = ['a.txt', 'b.txt', 'c.txt', 'd.txt'];
function model(version: string) {
  return createFakeProvider((request) => {
    if (request.stage === 'plan') return { text: `## Global\n\n${version}\n\n${FILES.map((file) => `### \`${file}\`\n\n${file}`).join('\n\n')}` };
    if (request.stage === 'files') return { toolCalls: [{ name: 'submit_file_list', arguments: JSON.stringify({ files: FILES.map((file) => ({ path: file, purpose: file, dependsOn: [] })) }) }] };
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

describe.each(['ENOSPC', 'EROFS', 'EACCES'])('the disk refuses writes (%s)', (code) => {
  it('reports it as a user error, damages nothing on disk, and finishes on the next run', async () => {
    await writeFile(path.join(dir, 'prompt.md'), '---\nmodel: m\n---\nv1 program\n');
    const first = await runPipeline({ spec: await loadSpec(path.join(dir, 'prompt.md')), provider: model('v1'), mode: 'apply' });
    expect(first.written.sort()).toEqual(FILES);

    await writeFile(path.join(dir, 'prompt.md'), '---\nmodel: m\n---\nv2 program\n');
    const spec = await loadSpec(path.join(dir, 'prompt.md'));
    for (const failAfter of [0, 3, 12, 15, 17]) {
      faults.code = code;
      faults.writes = 0;
      faults.failAfter = failAfter;
      const error = await runPipeline({ spec, provider: model('v2'), mode: 'apply' }).then(
        () => undefined,
        (caught: unknown) => caught,
      );
      faults.failAfter = Number.POSITIVE_INFINITY;
      if (error !== undefined) {
        expect(error).toBeInstanceOf(SmolError);
        expect((error as SmolError).code).toBe('DISK_WRITE_FAILED');
        expect((error as SmolError).message).toContain(code);
      }
      // Every file is whole: the old or the new version, never a torn one.
      for (const file of FILES) expect([`v1 ${file}\n`, `v2 ${file}\n`]).toContain(await readFile(path.join(dir, 'app', file), 'utf8'));
      // Restore v1 for the next fault point, through smol itself (so the lock stays true).
      const back = await runPipeline({ spec: await loadSpec(path.join(dir, 'prompt.md')), provider: model('v2'), mode: 'apply' });
      expect(back.failed).toEqual([]);
      const status = await computeStatus(spec);
      expect(status.files.every((file) => file.disk === 'clean')).toBe(true);
      for (const file of FILES) expect(await readFile(path.join(dir, 'app', file), 'utf8')).toBe(`v2 ${file}\n`);
      await writeFile(path.join(dir, 'prompt.md'), '---\nmodel: m\n---\nv1 program\n');
      await runPipeline({ spec: await loadSpec(path.join(dir, 'prompt.md')), provider: model('v1'), mode: 'apply' });
      await writeFile(path.join(dir, 'prompt.md'), '---\nmodel: m\n---\nv2 program\n');
    }
  });
});
