import { spawn } from 'node:child_process';
import { cp, readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BIN, runCli, tempDir } from '../helpers/cli.js';
import { createProject, FAKE_KEY, type TestProject } from '../helpers/project.js';
import { scriptedModel, type ScriptedApp } from '../helpers/scripted-model.js';

let project: TestProject | undefined;
afterEach(async () => {
  await project?.close();
  project = undefined;
});

const COUNT = 30;

describe('SIGKILL at random moments of a run (plan, generation, apply)', () => {
  it('each file is old or new, the lock agrees after recovery, hand edits survive, no key is stored', async () => {
    const files: ScriptedApp['files'] = {};
    const lines = (tag: string, index: number): string => Array.from({ length: 6 }, (_, line) => `${tag} ${index} line ${line}`).join('\n');
    for (let index = 0; index < COUNT; index += 1) files[`f${index}.txt`] = { section: 'v1', content: `${lines('old', index)}\n` };
    const app: ScriptedApp = { files };
    const model = scriptedModel(() => app);
    // A little latency so kills land in every stage, not only before the first request.
    project = await createProject(async (request) => ({ ...model(request), delayMs: request.stage === 'code' ? 15 : 30, chunkDelayMs: 2 }));
    await project.writeSpec({ settings: { concurrency: 4 } });
    expect((await project.smol(['run', '--yes'])).code).toBe(0);
    // A hand edit that the next regeneration must merge (it touches the first line only).
    const handEdited = (await project.read('app/f0.txt')).replace('old 0 line 0', 'HAND EDIT line 0');
    await project.write('app/f0.txt', handEdited);
    for (let index = 0; index < COUNT; index += 1) files[`f${index}.txt`] = { section: 'v2', content: `${lines('old', index).replace(`old ${index} line 5`, `new ${index} line 5`)}\n` };
    app.global = 'Version two.';
    await project.writeSpec({ settings: { concurrency: 4 }, body: '# Demo\n\nVersion two.' });

    const template = project.dir;
    const started = Date.now();
    const { dir: probe, cleanup: cleanProbe } = await tempDir();
    await cp(template, probe, { recursive: true });
    await runSmol(probe, project.server.url, undefined);
    const runMs = Date.now() - started;
    await cleanProbe();

    const trials = 10;
    for (let trial = 0; trial < trials; trial += 1) {
      const { dir, cleanup } = await tempDir();
      try {
        await cp(template, dir, { recursive: true });
        await runSmol(dir, project.server.url, Math.round((runMs * (trial + 1)) / trials));
        const status = await runCli(['status', '--json'], { cwd: dir });
        expect(status.code, status.stderr).toBe(0);
        const report = JSON.parse(status.stdout) as { files: { path: string; disk: string }[] };
        for (let index = 0; index < COUNT; index += 1) {
          const content = await readFile(path.join(dir, 'app', `f${index}.txt`), 'utf8');
          const old = `${lines('old', index)}\n`;
          const fresh = old.replace(`old ${index} line 5`, `new ${index} line 5`);
          if (index === 0) {
            // The hand edit survives whether or not the merge was applied.
            expect(content).toContain('HAND EDIT line 0');
            expect([handEdited, fresh.replace('old 0 line 0', 'HAND EDIT line 0')]).toContain(content);
          } else {
            expect([old, fresh]).toContain(content);
          }
        }
        // After recovery the lock agrees with the disk: every file is clean, or edited only where the hand edit stands unmerged.
        for (const file of report.files) {
          if (file.path === 'f0.txt') expect(['clean', 'edited']).toContain(file.disk);
          else expect(file.disk).toBe('clean');
        }
        // A second run finishes the job from where the kill left it.
        expect((await runSmol(dir, project.server.url, undefined)).code).toBe(0);
        expect(await readFile(path.join(dir, 'app', 'f0.txt'), 'utf8')).toContain('HAND EDIT line 0');
        expect(await readFile(path.join(dir, 'app', 'f7.txt'), 'utf8')).toContain('new 7 line 5');
        expect(await everything(dir)).not.toContain(FAKE_KEY);
      } finally {
        await cleanup();
      }
    }
  }, 180_000);
});

function runSmol(cwd: string, url: string, killAfterMs: number | undefined): Promise<{ code: number | null }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, 'run', '--yes', '--provider', 'openai-compatible', '--base-url', url], {
      cwd,
      env: { PATH: process.env.PATH ?? '', NO_COLOR: '1', OPENAI_API_KEY: FAKE_KEY },
      stdio: 'ignore',
    });
    const timer = killAfterMs === undefined ? undefined : setTimeout(() => child.kill('SIGKILL'), killAfterMs);
    child.on('close', (code) => {
      if (timer !== undefined) clearTimeout(timer);
      resolve({ code });
    });
  });
}

async function everything(dir: string): Promise<string> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  const texts = await Promise.all(entries.filter((entry) => entry.isFile()).map((entry) => readFile(path.join(entry.parentPath, entry.name), 'utf8')));
  return texts.join('\n');
}

