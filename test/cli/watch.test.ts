import { rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startJsonProcess, type WatchedProcess } from '../helpers/daemon.js';
import { createProject, FAKE_KEY, specText, type TestProject } from '../helpers/project.js';
import { codeCalls, scriptedModel, type ScriptedApp } from '../helpers/scripted-model.js';

function makeApp(): ScriptedApp {
  return {
    files: {
      'a.txt': { section: 'A.', content: 'a\n' },
      'b.txt': { section: 'B.', content: 'b\n' },
    },
  };
}

let project: TestProject | undefined;
let daemon: WatchedProcess | undefined;
afterEach(async () => {
  await daemon?.stop();
  daemon = undefined;
  await project?.close();
  project = undefined;
});

function startWatch(p: TestProject): WatchedProcess {
  return startJsonProcess(['watch', '--json', '--provider', 'openai-compatible', '--base-url', p.server.url], { cwd: p.dir, env: { OPENAI_API_KEY: FAKE_KEY } });
}

const isResult = (event: { type: string }): boolean => event.type === 'run-result';

describe('smol watch', () => {
  it('runs on start, applies with `apply: auto`, and reruns on a save', async () => {
    const app = makeApp();
    project = await createProject(scriptedModel(() => app));
    await project.writeSpec({ settings: { apply: 'auto' }, sections: { 'a.txt': 'A.', 'b.txt': 'B.' } });
    daemon = startWatch(project);
    await daemon.waitFor((event) => event.type === 'watch-ready');
    await daemon.waitFor(isResult);
    expect(await project.read('app/a.txt')).toBe('a\n');
    const mark = daemon.events.length;
    project.server.requests.length = 0;
    app.files['b.txt'] = { section: 'B2.', content: 'b2\n' };
    await project.writeSpec({ settings: { apply: 'auto' }, sections: { 'a.txt': 'A.', 'b.txt': 'B, second version.' } });
    await daemon.waitFor(isResult, { from: mark });
    expect(await project.read('app/b.txt')).toBe('b2\n');
    expect(codeCalls(project.server.requests)).toEqual(['b.txt']);
  });

  it('handles an atomic save (write a temp file, rename over the spec) and coalesces rapid saves', async () => {
    const app = makeApp();
    project = await createProject(scriptedModel(() => app));
    await project.writeSpec({ settings: { apply: 'auto' }, sections: { 'a.txt': 'A.' } });
    daemon = startWatch(project);
    await daemon.waitFor(isResult);
    const mark = daemon.events.length;
    for (let index = 0; index < 5; index += 1) {
      const temp = path.join(project.dir, `.prompt.md.tmp${index}`);
      await writeFile(temp, specText({ settings: { apply: 'auto' }, body: `# Demo\n\nVersion ${index}.`, sections: { 'a.txt': 'A.' } }));
      await rename(temp, path.join(project.dir, 'prompt.md'));
    }
    await daemon.waitFor(isResult, { from: mark });
    // Give a would-be second run the chance to show up before counting.
    await daemon.waitFor((event) => event.type === 'run-start', { from: daemon.events.length, timeoutMs: 400 }).catch(() => undefined);
    expect(daemon.events.slice(mark).filter((event) => event.type === 'run-start')).toHaveLength(1);
    const lock = JSON.parse(await project.read('smol.lock')) as { spec: { lines: string[] } };
    expect(lock.spec.lines.join('\n')).toContain('Version 4.');
  });

  it('aborts the run in flight on a new save (the abort reaches the HTTP request) and reuses finished answers', async () => {
    const app = makeApp();
    const model = scriptedModel(() => app);
    let slow = true;
    let slowArrived: () => void = () => {};
    const slowRequest = new Promise<void>((resolve) => (slowArrived = resolve));
    project = await createProject(async (request) => {
      if (request.stage === 'code' && request.file === 'b.txt' && slow) {
        slow = false;
        slowArrived();
        return { ...model(request), delayMs: 5000 };
      }
      return model(request);
    });
    await project.writeSpec({ settings: { apply: 'auto', concurrency: 2 }, sections: { 'a.txt': 'A.', 'b.txt': 'B.' } });
    daemon = startWatch(project);
    await daemon.waitFor((event) => event.type === 'file-done' && event.path === 'a.txt');
    await slowRequest;
    const mark = daemon.events.length;
    await project.write('prompt.md', `${await project.read('prompt.md')}\nMore text.\n`);
    await daemon.waitFor((event) => event.type === 'run-cancelled', { from: mark });
    await daemon.waitFor(isResult, { from: mark });
    const firstB = project.server.requests.find((request) => request.file === 'b.txt');
    expect(firstB?.aborted).toBe(true);
    // a.txt finished in the cancelled run: the second run gets it without a new call.
    expect(project.server.requests.filter((request) => request.file === 'a.txt')).toHaveLength(1);
    expect(await project.read('app/b.txt')).toBe('b\n');
  });

  it('prints a spec error and keeps watching; notices hand edits with no model call', async () => {
    const app = makeApp();
    project = await createProject(scriptedModel(() => app));
    await project.writeSpec({ settings: { apply: 'auto' }, sections: { 'a.txt': 'A.' } });
    daemon = startWatch(project);
    await daemon.waitFor(isResult);
    let mark = daemon.events.length;
    await project.write('prompt.md', '---\nmodel: test-model\nconcurrency: lots\n---\nText\n');
    const error = await daemon.waitFor((event) => event.type === 'spec-error', { from: mark });
    expect(String(error.message)).toContain('concurrency');
    mark = daemon.events.length;
    const calls = project.server.requests.length;
    await project.write('app/a.txt', 'edited by hand\n');
    const edit = await daemon.waitFor((event) => event.type === 'hand-edit', { from: mark });
    expect(edit.files).toEqual([{ path: 'a.txt', disk: 'edited' }]);
    expect(project.server.requests.length).toBe(calls);
    mark = daemon.events.length;
    await project.writeSpec({ settings: { apply: 'auto' }, sections: { 'a.txt': 'A.' } });
    await daemon.waitFor(isResult, { from: mark });
    expect(await project.read('app/a.txt')).toBe('edited by hand\n');
  });

  it('stages with `apply: review` and exits cleanly on SIGTERM', async () => {
    const app = makeApp();
    project = await createProject(scriptedModel(() => app));
    await project.writeSpec({ sections: { 'a.txt': 'A.' } });
    daemon = startWatch(project);
    const result = await daemon.waitFor(isResult);
    expect((result.staged as { changes: unknown[] }).changes).toHaveLength(2);
    expect(await project.readOrUndefined('app/a.txt')).toBeUndefined();
    daemon.child.kill('SIGTERM');
    expect(await daemon.exited).toBe(0);
  });

  it('Ctrl+C once cancels the run in flight, twice exits with 130', async () => {
    const app = makeApp();
    const model = scriptedModel(() => app);
    project = await createProject(async (request) => (request.stage === 'code' ? { ...model(request), delayMs: 5000 } : model(request)));
    await project.writeSpec({ sections: { 'a.txt': 'A.' } });
    daemon = startWatch(project);
    await daemon.waitFor((event) => event.type === 'file-start');
    daemon.child.kill('SIGINT');
    await daemon.waitFor((event) => event.type === 'run-cancelled');
    daemon.child.kill('SIGINT');
    expect(await daemon.exited).toBe(130);
    expect(await project.readOrUndefined('app/a.txt')).toBeUndefined();
  });
});
