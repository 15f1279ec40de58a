import { afterEach, describe, expect, it } from 'vitest';
import { createProject, FAKE_KEY, type TestProject } from '../helpers/project.js';
import { startTerminal, type Terminal } from '../helpers/pty.js';
import { scriptedModel, type ScriptedApp } from '../helpers/scripted-model.js';

function makeApp(): ScriptedApp {
  return { files: { 'a.txt': { section: 'A.', content: 'a\n' }, 'b.txt': { section: 'B.', content: 'b\n' }, 'c.txt': { section: 'C.', content: 'c\n' } } };
}

let project: TestProject | undefined;
let terminal: Terminal | undefined;
afterEach(async () => {
  if (terminal !== undefined) {
    try {
      terminal.pty.kill();
    } catch {
      // already gone
    }
  }
  terminal = undefined;
  await project?.close();
  project = undefined;
});

function term(p: TestProject, args: string[]): Terminal {
  return startTerminal([...args, '--provider', 'openai-compatible', '--base-url', p.server.url], { cwd: p.dir, env: { OPENAI_API_KEY: FAKE_KEY } });
}

describe('in a terminal', () => {
  it('smol run reviews file by file: yes, no, show again, then quit leaves the rest staged', async () => {
    project = await createProject(scriptedModel(makeApp));
    await project.writeSpec();
    terminal = term(project, ['run']);
    let at = await terminal.waitFor(/apply a\.txt\? \[y\]es/);
    terminal.type('y');
    at = await terminal.waitFor(/apply b\.txt\?/, { from: at });
    terminal.type('s');
    at = await terminal.waitFor(/\+b[\s\S]*apply b\.txt\?/, { from: at });
    terminal.type('n');
    at = await terminal.waitFor(/apply c\.txt\?/, { from: at });
    terminal.type('q');
    expect(await terminal.exited).toBe(0);
    expect(await project.read('app/a.txt')).toBe('a\n');
    expect(await project.readOrUndefined('app/b.txt')).toBeUndefined();
    expect(await project.readOrUndefined('app/c.txt')).toBeUndefined();
    expect(terminal.screen()).toMatch(/left staged/);
  });

  it('smol run: [a]ll applies the rest; progress and the summary show on the terminal', async () => {
    project = await createProject(scriptedModel(makeApp));
    await project.writeSpec();
    terminal = term(project, ['run']);
    await terminal.waitFor(/apply a\.txt\?/);
    terminal.type('a');
    expect(await terminal.exited).toBe(0);
    for (const file of ['a', 'b', 'c']) expect(await project.read(`app/${file}.txt`)).toBe(`${file}\n`);
    expect(terminal.screen()).toMatch(/3 new .* calls .* tokens in/);
  });

  it('smol watch takes keys: a applies what is staged, q quits', async () => {
    project = await createProject(scriptedModel(makeApp));
    await project.writeSpec();
    terminal = term(project, ['watch']);
    const at = await terminal.waitFor(/press a to apply/);
    expect(await project.readOrUndefined('app/a.txt')).toBeUndefined();
    terminal.type('a');
    await terminal.waitFor(/applied 3 file/, { from: at });
    expect(await project.read('app/c.txt')).toBe('c\n');
    terminal.type('q');
    expect(await terminal.exited).toBe(0);
  });

  it('smol watch: d shows diffs, f forces a rerun, Ctrl+C when idle exits with 130', async () => {
    project = await createProject(scriptedModel(makeApp));
    await project.writeSpec();
    terminal = term(project, ['watch']);
    let at = await terminal.waitFor(/press a to apply/);
    terminal.type('d');
    at = await terminal.waitFor(/\+\+\+ b\/a\.txt/, { from: at });
    terminal.type('f');
    at = await terminal.waitFor(/staged/, { from: at });
    terminal.type('\u0003');
    expect(await terminal.exited).toBe(130);
  });
});
