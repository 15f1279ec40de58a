import { afterEach, describe, expect, it } from 'vitest';
import { createProject, FAKE_KEY, type TestProject } from '../helpers/project.js';
import { startTerminal, type Terminal } from '../helpers/pty.js';
import { scriptedModel, type ScriptedApp } from '../helpers/scripted-model.js';

function makeApp(): ScriptedApp {
  return {
    files: {
      'a.txt': { section: 'A.', content: 'a\n' },
      'b.txt': { section: 'B.', content: 'b\n' },
      'c.txt': { section: 'C.', content: 'c\n' },
    },
  };
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

function term(p: TestProject, args: string[], env: Record<string, string> = {}): Terminal {
  return startTerminal([...args, '--provider', 'openai-compatible', '--base-url', p.server.url], {
    cwd: p.dir,
    env: { OPENAI_API_KEY: FAKE_KEY, ...env },
  });
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

  it('smol watch: h shows the keys, d shows diffs, f says what it would cost and asks, Ctrl+C when idle exits with 130', async () => {
    project = await createProject(scriptedModel(makeApp));
    await project.writeSpec({ settings: { model: 'gpt-4o' } });
    terminal = term(project, ['watch']);
    let at = await terminal.waitFor(/press a to apply/);
    terminal.type('h');
    at = await terminal.waitFor(/keys[\s\S]*f\s+regenerate every file \(asks first: paid calls\)[\s\S]*q\s+quit/, {
      from: at,
    });
    terminal.type('d');
    at = await terminal.waitFor(/\+\+\+ b\/a\.txt/, { from: at });
    const calls = project.server.requests.length;
    terminal.type('f');
    at = await terminal.waitFor(
      /regenerate every file\? 3 files: 3 model calls, about [\d.]+k? tokens in, [\d.]+k? out, about \$[\d.]+ \(estimated from the files' sizes\)\. \[y\/N\]/,
      { from: at },
    );
    terminal.type('n');
    at = await terminal.waitFor(/not regenerated/, { from: at });
    expect(project.server.requests.length).toBe(calls);
    terminal.type('f');
    at = await terminal.waitFor(/\[y\/N\]/, { from: at });
    terminal.type('y');
    at = await terminal.waitFor(/staged: 3 new/, { from: at });
    expect(project.server.requests.filter((request) => request.stage === 'code').length).toBe(6);
    terminal.type('\u0003');
    expect(await terminal.exited).toBe(130);
  });

  it('smol watch: q with changes staged says what is left staged', async () => {
    project = await createProject(scriptedModel(makeApp));
    await project.writeSpec();
    terminal = term(project, ['watch']);
    await terminal.waitFor(/press a to apply/);
    terminal.type('q');
    expect(await terminal.exited).toBe(0);
    expect(terminal.screen()).toMatch(
      /left staged: 3 new \(a\.txt, b\.txt, c\.txt\)\. `smol apply` reviews and writes them/,
    );
  });

  it('smol watch: SIGTERM during a review ends it, exits 0 and says what is left staged', async () => {
    project = await createProject(scriptedModel(makeApp));
    await project.writeSpec();
    terminal = term(project, ['watch']);
    let at = await terminal.waitFor(/press a to apply/);
    terminal.type('r');
    at = await terminal.waitFor(/apply a\.txt\?/, { from: at });
    terminal.pty.kill('SIGTERM');
    expect(await terminal.exited).toBe(0);
    expect(terminal.screen().slice(at)).toMatch(/left staged: 3 new \(a\.txt, b\.txt, c\.txt\)/);
  });

  it('smol watch --json: keys are not echoed into the event stream; q quits', async () => {
    project = await createProject(scriptedModel(makeApp));
    await project.writeSpec();
    terminal = term(project, ['watch', '--json']);
    await terminal.waitFor(/"type":"run-result"/);
    terminal.type('zzz');
    terminal.type('q');
    expect(await terminal.exited).toBe(0);
    expect(terminal.screen()).not.toContain('zzz');
  });

  it('smol watch: a conflict is resolved inside the review (t takes the new generation)', async () => {
    const app = makeApp();
    project = await createProject(scriptedModel(() => app));
    await project.writeSpec({ sections: { 'a.txt': 'A.' } });
    terminal = term(project, ['watch']);
    let at = await terminal.waitFor(/press a to apply/);
    terminal.type('a');
    at = await terminal.waitFor(/applied 3 file/, { from: at });
    await project.write('app/a.txt', 'mine\n');
    at = await terminal.waitFor(/edited by hand: a\.txt/, { from: at });
    app.files['a.txt'] = { section: 'A, second.', content: 'theirs\n' };
    await project.writeSpec({ sections: { 'a.txt': 'A, second version.' } });
    at = await terminal.waitFor(
      /1 conflict between your edits and the new generation, left staged: a\.txt \(press r to resolve them\)/,
      { from: at },
    );
    terminal.type('r');
    at = await terminal.waitFor(
      /conflict in a\.txt: \[t\]heirs \(the new generation\) \[o\]urs \(keep yours\) \[m\]arkers/,
      { from: at },
    );
    terminal.type('t');
    await terminal.waitFor(/applied 1 file: a\.txt/, { from: at });
    expect(await project.read('app/a.txt')).toBe('theirs\n');
    expect((await project.smol(['check'])).code).toBe(0);
    terminal.type('q');
    expect(await terminal.exited).toBe(0);
  });

  const longApp = (): ScriptedApp => ({
    files: {
      'a.txt': { section: 'A.', content: `${Array.from({ length: 60 }, (_, index) => `line ${index}`).join('\n')}\n` },
    },
  });
  const pagerEnv = { PAGER: "sed 's/^/|pager| /'" };

  it('smol watch: long diffs go through $PAGER (d, and s in the review)', async () => {
    project = await createProject(scriptedModel(longApp));
    await project.writeSpec({ sections: { 'a.txt': 'A.' } });
    terminal = term(project, ['watch'], pagerEnv);
    let at = await terminal.waitFor(/press a to apply/);
    terminal.type('d');
    at = await terminal.waitFor(/\|pager\| \+\+\+ b\/a\.txt[\s\S]*\|pager\| \+line 59/, { from: at });
    terminal.type('r');
    at = await terminal.waitFor(/apply a\.txt\?/, { from: at });
    terminal.type('s');
    at = await terminal.waitFor(/\|pager\| \+line 59[\s\S]*apply a\.txt\?/, { from: at });
    terminal.type('q');
    at = await terminal.waitFor(/Nothing applied/, { from: at });
    terminal.type('q');
    expect(await terminal.exited).toBe(0);
  });

  it('smol watch --no-pager prints long diffs', async () => {
    project = await createProject(scriptedModel(longApp));
    await project.writeSpec({ sections: { 'a.txt': 'A.' } });
    terminal = term(project, ['watch', '--no-pager'], pagerEnv);
    const at = await terminal.waitFor(/press a to apply/);
    terminal.type('d');
    await terminal.waitFor(/\+line 59/, { from: at });
    expect(terminal.screen()).not.toContain('|pager|');
    terminal.type('q');
    expect(await terminal.exited).toBe(0);
  });
});
