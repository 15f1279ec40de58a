import { afterEach, describe, expect, it } from 'vitest';
import { createProject, type TestProject } from '../helpers/project.js';
import { callsByStage, codeCalls, scriptedModel, type ScriptedApp } from '../helpers/scripted-model.js';

/** A three-file app whose plan sections follow the spec's per-file sections, like a real planner. */
function makeApp(): ScriptedApp {
  const lines = (name: string): string =>
    Array.from({ length: 8 }, (_, index) => `// ${name} line ${index + 1}`).join('\n');
  return {
    files: {
      'src/a.ts': { purpose: 'module a', section: 'Exports a().', content: `${lines('a')}\nexport const a = 1;\n` },
      'src/b.ts': {
        purpose: 'module b',
        dependsOn: ['src/a.ts'],
        section: 'Exports b(), uses a().',
        content: `${lines('b')}\nexport const b = 2;\n`,
      },
      'src/c.ts': { purpose: 'module c', section: 'Exports c().', content: `${lines('c')}\nexport const c = 3;\n` },
    },
  };
}

const SECTIONS = { 'src/a.ts': 'Module a.', 'src/b.ts': 'Module b.', 'src/c.ts': 'Module c.' };

/** Each file's disk state as `smol status --json` reports it. */
async function diskOf(p: TestProject): Promise<Record<string, { disk: string; recorded: boolean }>> {
  const status = await p.smol(['status', '--json']);
  const report = JSON.parse(status.stdout) as { files: { path: string; disk: string; recorded: boolean }[] };
  return Object.fromEntries(report.files.map((file) => [file.path, { disk: file.disk, recorded: file.recorded }]));
}

let project: TestProject | undefined;
let app: ScriptedApp;
afterEach(async () => {
  await project?.close();
  project = undefined;
});

async function freshProject(settings: Record<string, string | number> = {}): Promise<TestProject> {
  app = makeApp();
  project = await createProject(scriptedModel(() => app));
  await project.writeSpec({ settings, sections: SECTIONS });
  const first = await project.smol(['run', '--yes']);
  expect(first.code, first.stderr).toBe(0);
  expect(callsByStage(project.server.requests)).toEqual({ plan: 1, files: 1, code: 3 });
  project.server.requests.length = 0;
  return project;
}

describe('incremental regeneration (design.md 4.2)', () => {
  it('makes zero calls for an unchanged save, a whitespace-only edit, or concurrency/apply/rateLimit changes', async () => {
    const p = await freshProject();
    expect((await p.smol(['run', '--yes'])).code).toBe(0);
    await p.write(
      'prompt.md',
      (await p.read('prompt.md')).replace('A tiny demo program.', 'A  tiny demo program.   \n\n\n'),
    );
    expect((await p.smol(['run', '--yes'])).code).toBe(0);
    await p.write(
      'prompt.md',
      (await p.read('prompt.md')).replace(
        'model: test-model',
        'model: test-model\nconcurrency: 9\napply: auto\nrateLimit: { rpm: 10 }',
      ),
    );
    const result = await p.smol(['run', '--yes']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/0 calls/);
    expect(p.server.requests).toEqual([]);
  });

  it('regenerates only the file whose per-file section changed (plus its dependents when its plan section changes)', async () => {
    const p = await freshProject();
    app.files['src/c.ts']!.section = 'Exports c() and d().';
    app.files['src/c.ts']!.content = 'export const c = 3;\nexport const d = 4;\n';
    await p.writeSpec({ sections: { ...SECTIONS, 'src/c.ts': 'Module c, now with d.' } });
    const result = await p.smol(['run', '--yes']);
    expect(result.code, result.stderr).toBe(0);
    expect(callsByStage(p.server.requests)).toEqual({ plan: 1, code: 1 });
    expect(codeCalls(p.server.requests)).toEqual(['src/c.ts']);
    expect(await p.read('app/src/c.ts')).toContain('export const d = 4;');

    // A change to a's plan section reaches b, which depends on a, and nothing else.
    p.server.requests.length = 0;
    app.files['src/a.ts']!.section = 'Exports a() and aa().';
    await p.writeSpec({
      sections: { ...SECTIONS, 'src/c.ts': 'Module c, now with d.', 'src/a.ts': 'Module a, with aa.' },
    });
    expect((await p.smol(['run', '--yes'])).code).toBe(0);
    expect(codeCalls(p.server.requests)).toEqual(['src/a.ts', 'src/b.ts']);
  });

  it('sends the previous plan and the spec diff when re-planning, and keeps unreturned sections', async () => {
    const p = await freshProject();
    p.server.setHandler((request) =>
      request.stage === 'plan'
        ? { content: '### `src/c.ts`\n\nExports c() and e().' }
        : scriptedModel(() => app)(request),
    );
    await p.writeSpec({ sections: { ...SECTIONS, 'src/c.ts': 'Module c with e.' } });
    const result = await p.smol(['run', '--yes']);
    expect(result.code, result.stderr).toBe(0);
    const replan = p.server.requests.find((request) => request.stage === 'plan')!;
    const prompt = JSON.stringify(replan.body.messages);
    expect(prompt).toContain('Previous plan');
    expect(prompt).toContain('+Module c with e.');
    expect(codeCalls(p.server.requests)).toEqual(['src/c.ts']);
    const lock = JSON.parse(await p.read('smol.lock')) as { plan: { sections: { path: string; text: string }[] } };
    expect(lock.plan.sections.find((section) => section.path === 'src/a.ts')!.text).toBe('Exports a().');
    expect(lock.plan.sections.find((section) => section.path === 'src/c.ts')!.text).toBe('Exports c() and e().');
  });

  it('regenerates everything when the model or the temperature changes', async () => {
    const p = await freshProject();
    await p.writeSpec({ settings: { temperature: 0.7 }, sections: SECTIONS });
    expect((await p.smol(['run', '--yes'])).code).toBe(0);
    expect(codeCalls(p.server.requests)).toEqual(['src/a.ts', 'src/b.ts', 'src/c.ts']);
    p.server.requests.length = 0;
    const result = await p.smol(['plan', '--model', 'other-model']);
    expect(result.stdout).toMatch(/src\/a\.ts\s+regenerate: .*settings changed/);
  });

  it('serves an edit that is undone from the cache: no code call', async () => {
    const p = await freshProject();
    const original = await p.read('prompt.md');
    await p.writeSpec({ sections: { ...SECTIONS, 'src/c.ts': 'Module c, changed.' } });
    app.files['src/c.ts']!.section = 'Changed c.';
    expect((await p.smol(['run', '--yes'])).code).toBe(0);
    p.server.requests.length = 0;
    app.files['src/c.ts']!.section = 'Exports c().';
    await p.write('prompt.md', original);
    const result = await p.smol(['run', '--yes']);
    expect(result.code, result.stderr).toBe(0);
    expect(codeCalls(p.server.requests)).toEqual([]);
    expect(result.stderr).toMatch(/cached/);
  });

  it('sends the current content of an existing file when it is regenerated', async () => {
    const p = await freshProject();
    app.files['src/c.ts']!.section = 'Exports c() twice.';
    await p.writeSpec({ sections: { ...SECTIONS, 'src/c.ts': 'Module c twice.' } });
    expect((await p.smol(['run', '--yes'])).code).toBe(0);
    const request = p.server.requests.find((entry) => entry.stage === 'code')!;
    expect(JSON.stringify(request.body.messages)).toContain('Current content of `src/c.ts`');
    expect(JSON.stringify(request.body.messages)).toContain('// c line 1');
  });
});

describe('hand edits are never lost (design.md 4.4)', () => {
  it('merges a hand edit with a regeneration that touches other lines', async () => {
    const p = await freshProject();
    await p.write('app/src/c.ts', (await p.read('app/src/c.ts')).replace('// c line 1', '// c line 1 EDITED BY HAND'));
    app.files['src/c.ts']!.section = 'Exports c = 30.';
    app.files['src/c.ts']!.content = (app.files['src/c.ts']!.content as string).replace(
      'export const c = 3;',
      'export const c = 30;',
    );
    await p.writeSpec({ sections: { ...SECTIONS, 'src/c.ts': 'Module c is 30.' } });
    const result = await p.smol(['run', '--yes']);
    expect(result.code, result.stderr).toBe(0);
    const merged = await p.read('app/src/c.ts');
    expect(merged).toContain('EDITED BY HAND');
    expect(merged).toContain('export const c = 30;');
    // The merge keeps the file an edit: the generation (without the edit) stays the merge base.
    expect((await diskOf(p))['src/c.ts']).toEqual({ disk: 'edited', recorded: true });
    // A second regeneration merges the edit again (issue: it used to become the base and be lost).
    app.files['src/c.ts']!.content = (app.files['src/c.ts']!.content as string).replace(
      'export const c = 30;',
      'export const c = 31;',
    );
    app.files['src/c.ts']!.section = 'Exports c = 31.';
    await p.writeSpec({ sections: { ...SECTIONS, 'src/c.ts': 'Module c is 31.' } });
    const again = await p.smol(['run', '--yes']);
    expect(again.code, again.stderr).toBe(0);
    expect(await p.read('app/src/c.ts')).toContain('EDITED BY HAND');
    expect(await p.read('app/src/c.ts')).toContain('export const c = 31;');
  });

  it('never writes a conflict over the file, and says how to resolve it', async () => {
    const p = await freshProject();
    const edited = (await p.read('app/src/c.ts')).replace('export const c = 3;', 'export const c = 333; // mine');
    await p.write('app/src/c.ts', edited);
    app.files['src/c.ts']!.section = 'Exports c = 30.';
    app.files['src/c.ts']!.content = (app.files['src/c.ts']!.content as string).replace(
      'export const c = 3;',
      'export const c = 30;',
    );
    await p.writeSpec({ sections: { ...SECTIONS, 'src/c.ts': 'Module c is 30.' } });
    const result = await p.smol(['run', '--yes']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/src\/c\.ts.*(conflict|overlap)/);
    expect(result.stderr).toContain('smol apply --theirs');
    expect(await p.read('app/src/c.ts')).toBe(edited);
  });

  it('leaves an edited file that is not stale alone and reports it', async () => {
    const p = await freshProject();
    await p.write('app/src/a.ts', '// rewritten by hand\n');
    app.files['src/c.ts']!.section = 'Changed.';
    await p.writeSpec({ sections: { ...SECTIONS, 'src/c.ts': 'Module c changed.' } });
    const result = await p.smol(['run', '--yes']);
    expect(result.code, result.stderr).toBe(0);
    expect(await p.read('app/src/a.ts')).toBe('// rewritten by hand\n');
    expect(result.stderr).toMatch(/src\/a\.ts.*edited by hand/);
    expect((await diskOf(p))['src/a.ts']).toEqual({ disk: 'edited', recorded: false });
    expect((await p.smol(['status'])).stdout).toMatch(/Edited by hand[^\n]*\n\s+src\/a\.ts/);
  });

  it('does not recreate a file deleted by hand unless asked with regen', async () => {
    const p = await freshProject();
    await p.write('app/src/b.ts', '');
    const { rm } = await import('node:fs/promises');
    await rm(`${p.dir}/app/src/b.ts`);
    app.files['src/a.ts']!.section = 'Exports a() v2.';
    await p.writeSpec({ sections: { ...SECTIONS, 'src/a.ts': 'Module a v2.' } });
    const result = await p.smol(['run', '--yes']);
    expect(result.code, result.stderr).toBe(0);
    expect(await p.readOrUndefined('app/src/b.ts')).toBeUndefined();
    expect((await diskOf(p))['src/b.ts']?.disk).toBe('missing');
    expect((await p.smol(['status'])).stdout).toMatch(/Deleted by hand[^\n]*\n\s+src\/b\.ts/);
    const regen = await p.smol(['regen', 'src/b.ts', '--yes']);
    expect(regen.code, regen.stderr).toBe(0);
    expect(await p.read('app/src/b.ts')).toContain('export const b = 2;');
  });

  it('deletes a file dropped from the plan only if nobody edited it', async () => {
    const p = await freshProject();
    await p.write('app/src/b.ts', '// kept: edited by hand\n');
    delete app.files['src/b.ts'];
    delete app.files['src/c.ts'];
    await p.writeSpec({ sections: { 'src/a.ts': 'Module a.' } });
    const result = await p.smol(['run', '--yes']);
    expect(result.code, result.stderr).toBe(0);
    expect(await p.readOrUndefined('app/src/c.ts')).toBeUndefined();
    expect(await p.read('app/src/b.ts')).toBe('// kept: edited by hand\n');
  });
});

describe('plan, status, check, regen and the lock', () => {
  it('smol plan shows each file and why, using only planning calls', async () => {
    const p = await freshProject();
    app.files['src/c.ts']!.section = 'New c.';
    await p.writeSpec({ sections: { ...SECTIONS, 'src/c.ts': 'Module c new.' } });
    const result = await p.smol(['plan']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/src\/c\.ts\s+regenerate: plan section changed/);
    expect(result.stdout).toMatch(/src\/a\.ts\s+up to date/);
    expect(codeCalls(p.server.requests)).toEqual([]);
    const json = await p.smol(['plan', '--json']);
    const parsed = JSON.parse(json.stdout) as {
      files: { path: string; regenerate: boolean; reasons: { kind: string }[] }[];
    };
    expect(parsed.files.find((file) => file.path === 'src/c.ts')).toMatchObject({
      regenerate: true,
      reasons: [{ kind: 'plan-section-changed' }, { kind: 'spec-section-changed' }],
    });
  });

  it('smol status and smol check need no model call and report drift', async () => {
    const p = await freshProject();
    const clean = await p.smol(['check']);
    expect(clean.code, clean.stderr).toBe(0);
    await p.write('app/src/a.ts', '// drift\n');
    const status = await p.smol(['status', '--json']);
    const report = JSON.parse(status.stdout) as { files: { path: string; disk: string }[] };
    expect(report.files.find((file) => file.path === 'src/a.ts')!.disk).toBe('edited');
    const drift = await p.smol(['check']);
    expect(drift.code).toBe(1);
    expect(drift.stderr).toContain('src/a.ts: edited');
    await p.writeSpec({ body: '# Demo\n\nSomething else entirely.', sections: SECTIONS });
    const changed = await p.smol(['check', '--json']);
    expect(changed.code).toBe(1);
    expect(JSON.parse(changed.stdout)).toMatchObject({ ok: false, specChanged: true });
    expect(p.server.requests).toEqual([]);
  });

  it('regen and run --all force regeneration', async () => {
    const p = await freshProject();
    expect((await p.smol(['regen', 'src/a.ts', '--yes'])).code).toBe(0);
    expect(codeCalls(p.server.requests)).toEqual(['src/a.ts']); // forced: asks the model again, not the cache
    const unknown = await p.smol(['regen', 'nope.ts', '--yes']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('not in the plan');
    const all = await p.smol(['run', '--all', '--yes', '--json']);
    expect(all.code).toBe(0);
    const forced = all.stdout
      .split('\n')
      .filter((line) => line.includes('"file-queued"'))
      .map((line) => JSON.parse(line) as { reasons: { kind: string }[] });
    expect(forced).toHaveLength(3);
    expect(forced.every((event) => event.reasons.some((reason) => reason.kind === 'forced'))).toBe(true);
  });

  it('gives a clear error for a damaged lock, and run --all rebuilds it', async () => {
    const p = await freshProject();
    await p.write('smol.lock', '{ "version": 1, "files": ');
    const broken = await p.smol(['run', '--yes']);
    expect(broken.code).toBe(2);
    expect(broken.stderr).toContain('smol.lock is damaged');
    expect(broken.stderr).toContain('smol run --all');
    expect(p.server.requests).toEqual([]);
    const rebuilt = await p.smol(['run', '--all', '--yes']);
    expect(rebuilt.code, rebuilt.stderr).toBe(0);
    expect((await p.smol(['check'])).code).toBe(0);
  });

  it('writes a stable, sorted lock: an unchanged run leaves it byte for byte', async () => {
    const p = await freshProject();
    const before = await p.read('smol.lock');
    expect(before.endsWith('\n')).toBe(true);
    expect(Object.keys(JSON.parse(before) as object)).toEqual([
      'files',
      'outDir',
      'plan',
      'promptVersion',
      'settings',
      'spec',
      'version',
    ]);
    expect((await p.smol(['run', '--yes'])).code).toBe(0);
    expect(await p.read('smol.lock')).toBe(before);
  });
});
