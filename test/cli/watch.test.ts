import { renameSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startJsonProcess, type JsonEvent, type Watched, type WatchedProcess } from '../helpers/daemon.js';
import { createProject, FAKE_KEY, specText, type SpecOptions, type TestProject } from '../helpers/project.js';
import { codeCalls, scriptedModel, type ScriptedApp } from '../helpers/scripted-model.js';
import { startInProcess } from '../helpers/watch-in-process.js';

function makeApp(): ScriptedApp {
  return {
    files: {
      'a.txt': { section: 'A.', content: 'a\n' },
      'b.txt': { section: 'B.', content: 'b\n' },
    },
  };
}

let project: TestProject | undefined;
let daemon: Watched | undefined;
afterEach(async () => {
  await daemon?.stop();
  daemon = undefined;
  await project?.close();
  project = undefined;
});

const flags = (p: TestProject): string[] => ['--provider', 'openai-compatible', '--base-url', p.server.url];
/** `smol watch --json` in this process (stopped with `q`). */
function startWatch(p: TestProject): Watched {
  return (daemon = startInProcess(['watch', '--json', ...flags(p)], { cwd: p.dir, env: { OPENAI_API_KEY: FAKE_KEY } }));
}
/** `smol watch` as a subprocess, for signals, a real stdout file and the human output. */
function startWatchProcess(p: TestProject, extra: { json?: boolean; stdoutFile?: string } = {}): WatchedProcess {
  const started = startJsonProcess(['watch', ...(extra.json === false ? [] : ['--json']), ...flags(p)], {
    cwd: p.dir,
    env: { OPENAI_API_KEY: FAKE_KEY },
    ...(extra.stdoutFile === undefined ? {} : { stdoutFile: extra.stdoutFile }),
  });
  daemon = started;
  return started;
}

const isResult = (event: { type: string }): boolean => event.type === 'run-result';
/** `smol check` passes: the lock is the spec's and the files are the lock's. */
const checkPasses = async (p: TestProject): Promise<boolean> => (await p.smol(['check'])).code === 0;

describe('smol watch', () => {
  it('runs on start, applies with `apply: auto`, and reruns on a save', async () => {
    const app = makeApp();
    project = await createProject(scriptedModel(() => app));
    await project.writeSpec({ settings: { apply: 'auto' }, sections: { 'a.txt': 'A.', 'b.txt': 'B.' } });
    const daemon = startWatch(project);
    await daemon.waitFor((event) => event.type === 'watch-ready');
    await daemon.waitFor(isResult);
    expect(await project.read('app/a.txt')).toBe('a\n');
    const mark = daemon.events.length;
    project.server.requests.length = 0;
    app.files['b.txt'] = { section: 'B2.', content: 'b2\n' };
    await project.writeSpec({
      settings: { apply: 'auto' },
      sections: { 'a.txt': 'A.', 'b.txt': 'B, second version.' },
    });
    await daemon.waitFor(isResult, { from: mark });
    expect(await project.read('app/b.txt')).toBe('b2\n');
    expect(codeCalls(project.server.requests)).toEqual(['b.txt']);
  });

  it('handles an atomic save (write a temp file, rename over the spec) and coalesces rapid saves', async () => {
    const app = makeApp();
    project = await createProject(scriptedModel(() => app));
    await project.writeSpec({ settings: { apply: 'auto' }, sections: { 'a.txt': 'A.' } });
    const daemon = startWatch(project);
    await daemon.waitFor(isResult);
    const mark = daemon.events.length;
    // Synchronous writes: the daemon sees all five saves at once, however loaded the machine is.
    for (let index = 0; index < 5; index += 1) {
      const temp = path.join(project.dir, `.prompt.md.tmp${index}`);
      writeFileSync(
        temp,
        specText({ settings: { apply: 'auto' }, body: `# Demo\n\nVersion ${index}.`, sections: { 'a.txt': 'A.' } }),
      );
      renameSync(temp, path.join(project.dir, 'prompt.md'));
    }
    const p = project;
    await daemon.waitForConvergence(
      async () => (await p.read('smol.lock')).includes('Version 4.') && (await checkPasses(p)),
      { from: mark },
    );
    expect(daemon.events.slice(mark).filter((event) => event.type === 'run-start')).toHaveLength(1);
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
    await project.writeSpec({
      settings: { apply: 'auto', concurrency: 2 },
      sections: { 'a.txt': 'A.', 'b.txt': 'B.' },
    });
    const daemon = startWatch(project);
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
    // Every cancellation has a change behind it and a run after it.
    const cancelled = daemon.events.findIndex((event) => event.type === 'run-cancelled');
    expect(daemon.events.slice(mark, cancelled).some((event) => event.type === 'change')).toBe(true);
    expect(daemon.events.slice(cancelled).some((event) => event.type === 'run-start')).toBe(true);
  });

  it('prints a spec error and keeps watching; notices hand edits with no model call', async () => {
    const app = makeApp();
    project = await createProject(scriptedModel(() => app));
    await project.writeSpec({ settings: { apply: 'auto' }, sections: { 'a.txt': 'A.' } });
    const daemon = startWatch(project);
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

  it('stages with `apply: review`, says what is left staged, and exits cleanly on SIGTERM', async () => {
    const app = makeApp();
    project = await createProject(scriptedModel(() => app));
    await project.writeSpec({ sections: { 'a.txt': 'A.' } });
    const daemon = startWatchProcess(project);
    const result = await daemon.waitFor(isResult);
    expect(result.changes).toEqual([
      { path: 'a.txt', action: 'create' },
      { path: 'b.txt', action: 'create' },
    ]);
    expect(await project.readOrUndefined('app/a.txt')).toBeUndefined();
    daemon.child.kill('SIGTERM');
    expect(await daemon.exited).toBe(0);
    expect(daemon.stderr()).toMatch(/left staged: 2 new \(a\.txt, b\.txt\)\. `smol apply` reviews and writes them/);
  });

  it('Ctrl+C once cancels the run in flight, twice exits with 130', async () => {
    const app = makeApp();
    const model = scriptedModel(() => app);
    project = await createProject(async (request) =>
      request.stage === 'code' ? { ...model(request), delayMs: 5000 } : model(request),
    );
    await project.writeSpec({ sections: { 'a.txt': 'A.' } });
    const daemon = startWatchProcess(project);
    await daemon.waitFor((event) => event.type === 'file-start');
    daemon.child.kill('SIGINT');
    await daemon.waitFor((event) => event.type === 'run-cancelled');
    // A cancel asked for by the user is not followed by another run: the daemon waits for the next save.
    await daemon.waitFor((event) => event.type === 'watch-idle');
    daemon.child.kill('SIGINT');
    expect(await daemon.exited).toBe(130);
    expect(daemon.events.filter((event) => event.type === 'run-start')).toHaveLength(1);
    expect(await project.readOrUndefined('app/a.txt')).toBeUndefined();
  });

  it('keeps events small: run-result carries paths and counts, not the staged contents (issue 18)', async () => {
    const files: ScriptedApp['files'] = {};
    const sections: SpecOptions['sections'] = {};
    for (let index = 0; index < 12; index += 1) {
      files[`src/file${index}.ts`] = {
        section: `File ${index}.`,
        content: `export const value${index} = ${index};\n`.repeat(40),
      };
      sections[`src/file${index}.ts`] = `File ${index}.`;
    }
    project = await createProject(scriptedModel(() => ({ files })));
    await project.writeSpec({ sections });
    const daemon = startWatch(project);
    await daemon.waitFor(isResult);
    const line = daemon.lines.find((text) => text.includes('"run-result"'))!;
    const result = JSON.parse(line) as JsonEvent;
    expect(result).toMatchObject({ applied: false, written: [], failed: [], refused: [], unchanged: 0 });
    expect(result.changes).toHaveLength(12);
    expect(line).not.toContain('export const');
    expect(line).not.toContain('lockHead');
    expect(Buffer.byteLength(line)).toBeLessThan(1500);
  });

  it('with outDir `.` and `--json > log` inside it, the log is not a hand edit and an empty hand edit is never reported (issue 13, item 15)', async () => {
    const app = makeApp();
    project = await createProject(scriptedModel(() => app));
    await project.writeSpec({ settings: { apply: 'auto', outDir: '.' }, sections: { 'a.txt': 'A.' } });
    const daemon = startWatchProcess(project, { stdoutFile: path.join(project.dir, 'watch.log') });
    await daemon.waitFor(isResult);
    let mark = daemon.events.length;
    await project.write('a.txt', 'edited by hand\n');
    const edit = await daemon.waitFor((event) => event.type === 'hand-edit', { from: mark });
    expect(edit.files).toEqual([{ path: 'a.txt', disk: 'edited' }]);
    // A later run, and the idle after it: a loop on the log would have reported by now.
    mark = daemon.events.length;
    await project.writeSpec({
      settings: { apply: 'auto', outDir: '.' },
      body: '# Demo\n\nSecond version.',
      sections: { 'a.txt': 'A.' },
    });
    await daemon.waitFor(isResult, { from: mark });
    await daemon.waitFor((event) => event.type === 'watch-idle', { from: mark });
    const handEdits = daemon.events.filter((event) => event.type === 'hand-edit');
    expect(handEdits).toHaveLength(1);
    expect(
      daemon.events.filter((event) => event.type === 'change').flatMap((event) => event.paths as string[]),
    ).not.toContain('watch.log');
  });

  it('says what it applied with `apply: auto`; words a deleted file truthfully; a bad spec at start prints its error once', async () => {
    const app = makeApp();
    project = await createProject(scriptedModel(() => app));
    await project.write('prompt.md', '---\nmodel: test-model\napply: auto\nconcurrency: lots\n---\nText\n');
    const daemon = startWatchProcess(project, { json: false });
    let at = await daemon.waitForText(/still watching/);
    await project.writeSpec({ settings: { apply: 'auto' }, sections: { 'a.txt': 'A.', 'b.txt': 'B.' } });
    at = await daemon.waitForText(/applied 2 files: a\.txt, b\.txt/, { from: at });
    expect(daemon.stderr().match(/concurrency/g)).toHaveLength(1);
    await project.write('app/b.txt', 'edited\n');
    at = await daemon.waitForText(/edited by hand: b\.txt \(kept; merged into the next regeneration\)/, { from: at });
    await project.write('app/b.txt', 'b\n');
    await rm(path.join(project.dir, 'app', 'a.txt'));
    await daemon.waitForText(/deleted by hand: a\.txt \(not recreated; `smol regen a\.txt` recreates it\)/, {
      from: at,
    });
    expect(daemon.stderr()).not.toContain('(missing)');
  });
});
