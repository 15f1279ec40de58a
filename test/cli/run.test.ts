import { mkdir, symlink, readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { allText, createProject, FAKE_KEY, type TestProject } from '../helpers/project.js';
import { callsByStage, scriptedModel, type ScriptedApp } from '../helpers/scripted-model.js';

const APP: ScriptedApp = {
  files: {
    'package.json': { purpose: 'manifest', content: '{ "name": "demo", "type": "module" }\n' },
    'src/index.ts': {
      purpose: 'entry point',
      dependsOn: ['src/lib/greet.ts'],
      content: "import { greet } from './lib/greet.js';\nconsole.log(greet('world'));\n",
    },
    'src/lib/greet.ts': {
      purpose: 'greeting',
      content: 'export function greet(name: string): string {\n  return `hello ${name}`;\n}\n',
    },
  },
};

let project: TestProject | undefined;
afterEach(async () => {
  await project?.close();
  project = undefined;
});

describe('smol run', () => {
  it('plans, lists and generates a codebase with nested paths, stripping fences and prose', async () => {
    project = await createProject(scriptedModel(() => APP));
    await project.writeSpec();
    const result = await project.smol(['run', '--yes']);
    expect(result.stderr).not.toContain('bug');
    expect(result.code).toBe(0);
    expect(await project.read('app/src/lib/greet.ts')).toBe(APP.files['src/lib/greet.ts']!.content);
    expect(await project.read('app/src/index.ts')).toBe(APP.files['src/index.ts']!.content);
    expect(await project.read('app/package.json')).toBe('{ "name": "demo", "type": "module" }\n');
    expect(callsByStage(project.server.requests)).toEqual({ plan: 1, files: 1, code: 3 });
    // Every request is attributed to its stage and file.
    const code = project.server.requests.filter((request) => request.stage === 'code');
    expect(code.map((request) => request.headers['x-smol-file']).sort()).toEqual([
      'package.json',
      'src/index.ts',
      'src/lib/greet.ts',
    ]);
    expect(result.stderr).toMatch(/3 new/);
    // The file list went through a JSON schema, which OpenAI-compatible servers constrain the answer to.
    const files = project.server.requests.find((request) => request.stage === 'files')!;
    expect(files.body.response_format).toMatchObject({
      type: 'json_schema',
      json_schema: { name: 'submit_file_list' },
    });
  });

  it('never writes without --yes when not in a terminal, and says so', async () => {
    project = await createProject(scriptedModel(() => APP));
    await project.writeSpec();
    const result = await project.smol(['run']);
    expect(result.code).toBe(0);
    expect(result.stderr).toContain('nothing written');
    expect(await project.readOrUndefined('app/src/index.ts')).toBeUndefined();
  });

  it('overlaps generation calls up to `concurrency`', async () => {
    let inFlight = 0;
    let peak = 0;
    // The first calls are held until `concurrency` of them are in flight at once (however slowly the
    // machine sends them); then every call is answered at once, and none may ever make it 4.
    let full: () => void = () => {};
    const reachedFull = new Promise<void>((resolve) => (full = resolve));
    const files: ScriptedApp['files'] = {};
    for (let index = 0; index < 6; index += 1) files[`f${index}.txt`] = { content: `file ${index}\n` };
    const model = scriptedModel(() => ({ files }));
    project = await createProject(async (request) => {
      if (request.stage !== 'code') return model(request);
      inFlight += 1;
      peak = Math.max(peak, inFlight);
      if (inFlight === 3) full();
      // A failure detector, not a wait: with fewer than 3 calls in flight, the gate opens after 10 s
      // and the peak is short.
      if (inFlight === 1 && peak === 1) setTimeout(full, 10_000).unref();
      await reachedFull;
      inFlight -= 1;
      return model(request);
    });
    await project.writeSpec({ settings: { concurrency: 3 } });
    const result = await project.smol(['run', '--yes']);
    expect(result.code).toBe(0);
    expect(peak).toBe(3);
    expect(callsByStage(project.server.requests).code).toBe(6);
  });

  it('reports a truncated answer as a failure for that file and writes the others', async () => {
    const model = scriptedModel(() => APP);
    project = await createProject((request) =>
      request.file === 'src/index.ts'
        ? { content: '```ts\nimport { greet } from', finishReason: 'length' }
        : model(request),
    );
    await project.writeSpec();
    const result = await project.smol(['run', '--yes']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/src\/index\.ts: .*cut off by the token limit/);
    expect(await project.readOrUndefined('app/src/index.ts')).toBeUndefined();
    expect(await project.read('app/src/lib/greet.ts')).toContain('greet');
  });

  it('refuses hostile paths, reports each by name, and writes nothing outside outDir', async () => {
    const hostile = [
      '../escape.txt',
      '/tmp/smol-abs.txt',
      'a/../../up.txt',
      '.git/config',
      'nul\u0000byte.txt',
      'link/through.txt',
      '.smol/cache/x',
      'C:\\win.txt',
    ];
    const files: ScriptedApp['files'] = { 'ok.txt': { content: 'fine\n' } };
    for (const file of hostile) files[file] = { content: 'pwned\n' };
    project = await createProject(scriptedModel(() => ({ files })));
    await project.writeSpec();
    const outside = path.join(project.dir, 'outside');
    await mkdir(path.join(project.dir, 'app'), { recursive: true });
    await mkdir(outside);
    await symlink(outside, path.join(project.dir, 'app', 'link'));
    const before = await project.listFiles();
    const result = await project.smol(['run', '--yes']);
    expect(result.code).toBe(0);
    for (const file of [
      '../escape.txt',
      '/tmp/smol-abs.txt',
      'a/../../up.txt',
      '.git/config',
      '.smol/cache/x',
      'C:\\\\win.txt',
      'link/through.txt',
    ]) {
      expect(result.stderr).toContain(`refused ${file}`);
    }
    expect(result.stderr).toContain('refused nul\\u0000byte.txt');
    expect(await project.read('app/ok.txt')).toBe('fine\n');
    const after = await project.listFiles();
    const added = after.filter((file) => !before.includes(file));
    expect(
      added.filter((file) => !file.startsWith('app/') && !file.startsWith('.smol/') && file !== 'smol.lock'),
    ).toEqual([]);
    expect(added).not.toContain('app/.git/config');
    await expect(readFile('/tmp/smol-abs.txt', 'utf8')).rejects.toThrow();
    expect(await allText(outside)).toBe('');
    // Only safe paths reached the generation stage.
    const generated = project.server.requests
      .filter((request) => request.stage === 'code')
      .map((request) => request.file);
    expect(generated).toEqual(['ok.txt']);
  });

  it('never prints or stores the API key', async () => {
    project = await createProject(scriptedModel(() => APP));
    await project.writeSpec();
    const ok = await project.smol(['run', '--yes', '--json']);
    project.server.setHandler(() => ({
      status: 401,
      error: {
        message: `Incorrect API key provided: ${FAKE_KEY}`,
        type: 'invalid_request_error',
        code: 'invalid_api_key',
      },
    }));
    await project.writeSpec({ body: '# Demo\n\nChanged, so the plan is asked again.' });
    const denied = await project.smol(['run', '--yes']);
    expect(denied.code).not.toBe(0);
    expect(denied.stderr.toLowerCase()).toMatch(/key|auth/);
    for (const output of [ok.stdout, ok.stderr, denied.stdout, denied.stderr, await allText(project.dir)]) {
      expect(output).not.toContain(FAKE_KEY);
    }
  });

  it('prints NDJSON events and nothing else on stdout with --json', async () => {
    project = await createProject(scriptedModel(() => APP));
    await project.writeSpec();
    const result = await project.smol(['run', '--yes', '--json']);
    expect(result.code).toBe(0);
    const events = result.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { type: string });
    expect(events[0]!.type).toBe('run-start');
    expect(events.map((event) => event.type)).toContain('file-done');
    expect(events.at(-1)!.type).toBe('result');
  });
});

describe('smol init', () => {
  it('writes a documented starter spec that loads, and git-ignores .smol/', async () => {
    project = await createProject(scriptedModel(() => APP));
    const result = await project.smol(['init']);
    expect(result.code).toBe(0);
    expect(await project.read('prompt.md')).toContain('model:');
    expect(await project.read('.gitignore')).toContain('.smol/');
    const again = await project.smol(['init']);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('already exists');
    const planned = await project.smol(['plan']);
    expect(planned.code).toBe(0);
  });
});

describe('smol --help and errors', () => {
  it('prints help for every command and the version', async () => {
    project = await createProject(scriptedModel(() => APP));
    for (const command of [
      'init',
      'run',
      'plan',
      'diff',
      'apply',
      'undo',
      'status',
      'check',
      'regen',
      'watch',
      'debug',
      'serve',
      'mcp',
      'doctor',
    ]) {
      const help = await project.smol([command, '--help']);
      expect(help.code).toBe(0);
      expect(help.stdout).toContain(`smol ${command}`);
      expect(help.stdout).toContain('Exit codes');
    }
    const version = await project.smol(['--version']);
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it('explains a bad spec with the key, the value and the line, without a stack', async () => {
    project = await createProject(scriptedModel(() => APP));
    await project.write('prompt.md', '---\nmodel: x\nconcurrency: many\nprovider: openia\n---\nText\n');
    const result = await project.smol(['run', '--yes']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/concurrency: .*"many".* at prompt\.md:3/);
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  it('says what to do when the spec file is missing', async () => {
    project = await createProject(scriptedModel(() => APP));
    const result = await project.smol(['run']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('smol init');
  });
});
