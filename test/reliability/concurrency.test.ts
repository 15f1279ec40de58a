import { afterEach, describe, expect, it } from 'vitest';
import { startJsonProcess, type WatchedProcess } from '../helpers/daemon.js';
import { createProject, FAKE_KEY, type TestProject } from '../helpers/project.js';
import { scriptedModel, type ScriptedApp } from '../helpers/scripted-model.js';

let project: TestProject | undefined;
let first: WatchedProcess | undefined;
afterEach(async () => {
  await first?.stop();
  first = undefined;
  await project?.close();
  project = undefined;
});

describe('two smol processes on one spec', () => {
  it('the second one is refused while the first works, and says who holds the lock', async () => {
    const app: ScriptedApp = { files: { 'a.txt': { content: 'a\n' }, 'b.txt': { content: 'b\n' } } };
    const model = scriptedModel(() => app);
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => (release = resolve));
    project = await createProject(async (request) => {
      if (request.stage === 'code') await gate;
      return model(request);
    });
    await project.writeSpec();
    first = startJsonProcess(
      ['run', '--yes', '--json', '--provider', 'openai-compatible', '--base-url', project.server.url],
      {
        cwd: project.dir,
        env: { OPENAI_API_KEY: FAKE_KEY },
      },
    );
    await first.waitFor((event) => event.type === 'file-start');
    const second = await project.smol(['run', '--yes']);
    expect(second.code).toBe(1);
    expect(second.stderr).toMatch(/Another smol is working on this spec: `smol run` \(pid \d+/);
    const apply = await project.smol(['apply', '--yes']);
    expect(apply.stderr).not.toContain('smol hit a bug');
    release();
    expect(await first.exited).toBe(0);
    expect(await project.read('app/a.txt')).toBe('a\n');
    // Once the first is done, the lock is free again.
    const third = await project.smol(['run', '--yes']);
    expect(third.code, third.stderr).toBe(0);
  });

  it('takes over a lock left by a process that died', async () => {
    const app: ScriptedApp = { files: { 'a.txt': { content: 'a\n' } } };
    project = await createProject(scriptedModel(() => app));
    await project.writeSpec();
    await project.write(
      '.smol/lock',
      `${JSON.stringify({ pid: 999_999_999, host: (await import('node:os')).hostname(), command: 'smol run', since: 'then' })}\n`,
    );
    const result = await project.smol(['run', '--yes']);
    expect(result.code, result.stderr).toBe(0);
  });
});
