import { cp, readFile } from 'node:fs/promises';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { BIN, runCli, tempDir } from '../helpers/cli.js';
import { createProject, FAKE_KEY, type TestProject } from '../helpers/project.js';
import { codeCalls, scriptedModel, type ScriptedApp } from '../helpers/scripted-model.js';

const SECTIONS = { 'a.txt': 'A.', 'b.txt': 'B.' };
function makeApp(): ScriptedApp {
  return { files: { 'a.txt': { section: 'A.', content: 'a1\na2\na3\na4\na5\n' }, 'b.txt': { section: 'B.', content: 'b1\n' } } };
}

let project: TestProject | undefined;
afterEach(async () => {
  await project?.close();
  project = undefined;
});

async function generated(): Promise<{ p: TestProject; app: ScriptedApp }> {
  const app = makeApp();
  project = await createProject(scriptedModel(() => app));
  await project.writeSpec({ sections: SECTIONS });
  const first = await project.smol(['run', '--yes']);
  expect(first.code, first.stderr).toBe(0);
  project.server.requests.length = 0;
  return { p: project, app };
}

describe('smol diff, apply and undo', () => {
  it('diff stages and shows a summary and unified diffs, writing nothing; apply writes with no model call', async () => {
    const { p, app } = await generated();
    app.files['a.txt'] = { section: 'A2.', content: 'a1\na2\nNEW\na4\na5\n' };
    app.files['c.txt'] = { section: 'C.', content: 'c\n' };
    await p.writeSpec({ sections: { ...SECTIONS, 'a.txt': 'A two.', 'c.txt': 'C.' } });
    // Without --generate a diff is free: it says what generating would cost and stages nothing.
    const free = await p.smol(['diff']);
    expect(free.code, free.stderr).toBe(0);
    expect(free.stdout).toMatch(/3 files need generating \(3 model calls\)/); // the file list changed: an input of every file
    expect(p.server.requests.filter((request) => request.stage === 'code')).toEqual([]);
    const diff = await p.smol(['diff', '--generate']);
    expect(diff.code, diff.stderr).toBe(0);
    expect(diff.stdout).toMatch(/^1 changed, 1 new, 1 unchanged/m);
    expect(diff.stdout).toContain('--- a/a.txt');
    expect(diff.stdout).toContain('+NEW');
    expect(diff.stdout).toContain('-a3');
    expect(diff.stdout).toContain('+++ b/c.txt');
    expect(diff.stdout).not.toMatch(/\u001b\[/); // no colour when not a terminal
    expect(await p.read('app/a.txt')).toBe('a1\na2\na3\na4\na5\n');
    expect(await p.readOrUndefined('app/c.txt')).toBeUndefined();
    const calls = p.server.requests.length;
    const refused = await p.smol(['apply']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('--yes');
    const applied = await p.smol(['apply', '--yes']);
    expect(applied.code, applied.stderr).toBe(0);
    expect(p.server.requests.length).toBe(calls);
    expect(await p.read('app/a.txt')).toContain('NEW');
    expect(await p.read('app/c.txt')).toBe('c\n');
    expect((await p.smol(['check'])).code).toBe(0);
    expect((await p.smol(['apply', '--yes'])).stderr).toContain('Nothing is staged');
  });

  it('diff colours its output when FORCE_COLOR is set and honours NO_COLOR otherwise', async () => {
    const { p, app } = await generated();
    app.files['b.txt'] = { section: 'B2.', content: 'b2\n' };
    await p.writeSpec({ sections: { ...SECTIONS, 'b.txt': 'B two.' } });
    const coloured = await p.smol(['diff', '--generate'], { FORCE_COLOR: '1', NO_COLOR: '' });
    expect(coloured.stdout).toMatch(/\u001b\[32m\+b2/);
  });

  it('refuses a staged change whose file changed on disk since, instead of forcing it', async () => {
    const { p, app } = await generated();
    app.files['a.txt'] = { section: 'A2.', content: 'changed\n' };
    await p.writeSpec({ sections: { ...SECTIONS, 'a.txt': 'A two.' } });
    expect((await p.smol(['diff', '--generate'])).code).toBe(0);
    // Shown again for free: nothing moved since it was staged.
    const calls = p.server.requests.length;
    expect((await p.smol(['diff'])).stdout).toContain('+changed');
    expect(p.server.requests.length).toBe(calls);
    await p.write('app/a.txt', 'touched meanwhile\n');
    const applied = await p.smol(['apply', '--yes']);
    expect(applied.code).toBe(1);
    expect(applied.stderr).toContain('a.txt: changed on disk since it was staged');
    expect(await p.read('app/a.txt')).toBe('touched meanwhile\n');
  });

  it('resolves a conflict with --theirs, --ours or --markers', async () => {
    for (const [flag, expected, state] of [
      ['--theirs', 'a1\na2\nTHEIRS\na4\na5\n', 'clean'],
      ['--ours', 'a1\na2\nMINE\na4\na5\n', 'edited'],
      ['--markers', '<<<<<<<', 'conflict'],
    ] as const) {
      const { p, app } = await generated();
      await p.write('app/a.txt', 'a1\na2\nMINE\na4\na5\n');
      app.files['a.txt'] = { section: 'A2.', content: 'a1\na2\nTHEIRS\na4\na5\n' };
      await p.writeSpec({ sections: { ...SECTIONS, 'a.txt': 'A two.' } });
      const run = await p.smol(['run', '--yes']);
      expect(run.code).toBe(1);
      expect(run.stderr).toContain(`smol apply --theirs a.txt`);
      const resolved = await p.smol(['apply', flag, 'a.txt']);
      expect(resolved.code, resolved.stderr).toBe(0);
      expect(await p.read('app/a.txt')).toContain(expected);
      const status = JSON.parse((await p.smol(['status', '--json'])).stdout) as { files: { path: string; disk: string }[] };
      expect(status.files.find((file) => file.path === 'a.txt')?.disk).toBe(state);
      // Markers keep the file a conflict, and `smol check` fails until they are gone.
      expect((await p.smol(['check'])).code).toBe(flag === '--markers' ? 1 : 0);
      await p.close();
      project = undefined;
    }
  });

  it('undo reverts the last apply, and refuses (naming them) when files were edited since', async () => {
    const { p, app } = await generated();
    app.files['a.txt'] = { section: 'A2.', content: 'second\n' };
    await p.writeSpec({ sections: { ...SECTIONS, 'a.txt': 'A two.' } });
    expect((await p.smol(['run', '--yes'])).code).toBe(0);
    const lockAfter = await p.read('smol.lock');
    await p.write('app/a.txt', 'edited after apply\n');
    const refused = await p.smol(['undo']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('a.txt');
    expect(await p.read('smol.lock')).toBe(lockAfter);
    await p.write('app/a.txt', 'second\n');
    const undone = await p.smol(['undo']);
    expect(undone.code, undone.stderr).toBe(0);
    expect(await p.read('app/a.txt')).toBe('a1\na2\na3\na4\na5\n');
    expect(await p.read('app/b.txt')).toBe('b1\n');
    const status = await p.smol(['status', '--json']);
    const report = JSON.parse(status.stdout) as { files: { path: string; disk: string }[] };
    expect(report.files.every((file) => file.disk === 'clean')).toBe(true);
    expect(codeCalls(p.server.requests)).toEqual(['a.txt']);
    // Undo walks back through the history: the next one reverts the first run, then nothing is left.
    const first = await p.smol(['undo']);
    expect(first.code, first.stderr).toBe(0);
    expect(await p.readOrUndefined('app/a.txt')).toBeUndefined();
    const none = await p.smol(['undo']);
    expect(none.code).toBe(1);
    expect(none.stderr).toContain('Nothing to undo');
    const redo = await p.smol(['redo']);
    expect(redo.code, redo.stderr).toBe(0);
    expect(await p.read('app/a.txt')).toBe('a1\na2\na3\na4\na5\n');
  });
});

describe('crash safety (design.md 5)', () => {
  it('leaves every file old or new and the lock true, whenever an apply is killed', async () => {
    const count = 120;
    const files: ScriptedApp['files'] = {};
    for (let index = 0; index < count; index += 1) files[`dir${index % 7}/file${index}.txt`] = { section: 'v1', content: `old ${index}\n` };
    const app: ScriptedApp = { files };
    project = await createProject(scriptedModel(() => app));
    await project.writeSpec({ settings: { maxFiles: 500 } });
    expect((await project.smol(['run', '--yes'])).code).toBe(0);
    await project.write('app/hand.txt', 'a file smol does not own\n');
    for (const [name, file] of Object.entries(files)) files[name] = { ...file, section: 'v2', content: `new ${name}\n` };
    app.global = 'Version two.';
    await project.writeSpec({ settings: { maxFiles: 500 }, body: '# Demo\n\nVersion two.' });
    const staged = await project.smol(['diff']);
    expect(staged.code, staged.stderr).toBe(0);
    const template = project.dir;

    // Time one whole apply, then kill at points spread over it (and a little beyond).
    const { dir: probe, cleanup: cleanProbe } = await tempDir();
    await cp(template, probe, { recursive: true });
    const started = Date.now();
    expect((await runCli(['apply', '--yes'], { cwd: probe })).code).toBe(0);
    const applyMs = Date.now() - started;
    await cleanProbe();

    const trials = 12;
    const outcomes: string[] = [];
    for (let trial = 0; trial < trials; trial += 1) {
      const { dir, cleanup } = await tempDir();
      try {
        await cp(template, dir, { recursive: true });
        const killAfter = Math.round((applyMs * (trial + 1)) / trials);
        await killedApply(dir, killAfter);
        // Before recovery: no file is torn (each write is atomic), each is old or new.
        const before = await classify(dir, files);
        // The next start recovers (status rolls an unfinished journal forward) and tells the truth.
        const status = await runCli(['status', '--json'], { cwd: dir });
        expect(status.code, status.stderr).toBe(0);
        const report = JSON.parse(status.stdout) as { files: { path: string; disk: string }[] };
        const after = await classify(dir, files);
        expect(after.olds + after.news).toBe(count);
        // Recovery rolls a started apply forward: all new, and the lock agrees with the disk for every file.
        if (before.news > 0) expect(after.news).toBe(count);
        expect(report.files.filter((file) => file.disk !== 'clean')).toEqual([]);
        expect(await readFile(path.join(dir, 'app', 'hand.txt'), 'utf8')).toBe('a file smol does not own\n');
        outcomes.push(before.olds === count ? 'not started' : before.news === count ? 'finished' : 'cut mid-apply');
      } finally {
        await cleanup();
      }
    }
    // Where each kill landed depends on the machine's speed, so it is not asserted; every outcome was checked.
    expect(outcomes).toHaveLength(trials);
    process.env.SMOL_CRASH_DEBUG === '1' && console.log(outcomes);
  }, 120_000);
});

async function classify(dir: string, files: ScriptedApp['files']): Promise<{ olds: number; news: number }> {
  let olds = 0;
  let news = 0;
  for (const name of Object.keys(files)) {
    const content = await readFile(path.join(dir, 'app', name), 'utf8');
    const index = Number(/file(\d+)/.exec(name)![1]);
    if (content === `old ${index}\n`) olds += 1;
    else if (content === `new ${name}\n`) news += 1;
    else throw new Error(`torn file ${name}: ${JSON.stringify(content)}`);
  }
  return { olds, news };
}

function killedApply(cwd: string, afterMs: number): Promise<void> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, 'apply', '--yes'], { cwd, env: { PATH: process.env.PATH ?? '', NO_COLOR: '1', OPENAI_API_KEY: FAKE_KEY }, stdio: 'ignore' });
    const timer = setTimeout(() => child.kill('SIGKILL'), afterMs);
    child.on('close', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

