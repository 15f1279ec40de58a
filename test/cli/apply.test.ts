import { afterEach, describe, expect, it } from 'vitest';
import { createProject, type TestProject } from '../helpers/project.js';
import { codeCalls, scriptedModel, type ScriptedApp } from '../helpers/scripted-model.js';

const SECTIONS = { 'a.txt': 'A.', 'b.txt': 'B.' };
function makeApp(): ScriptedApp {
  return {
    files: { 'a.txt': { section: 'A.', content: 'a1\na2\na3\na4\na5\n' }, 'b.txt': { section: 'B.', content: 'b1\n' } },
  };
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
    expect(diff.stdout).not.toContain('\u001b['); // no colour when not a terminal
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
    expect(coloured.stdout).toContain('\u001b[32m+b2');
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
      const status = JSON.parse((await p.smol(['status', '--json'])).stdout) as {
        files: { path: string; disk: string }[];
      };
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

// Crash safety of apply (a kill at each journal step): test/reliability/crash.test.ts.
