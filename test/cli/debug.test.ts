import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createProject, type TestProject } from '../helpers/project.js';
import { scriptedModel, type ScriptedApp } from '../helpers/scripted-model.js';
import type { MockReply, RecordedRequest } from '../helpers/openai-server.js';

const BROKEN_CALC = 'export function add(a, b) {\n  return a - b;\n}\n';
const FIXED_CALC = 'export function add(a, b) {\n  return a + b;\n}\n';
const TEST =
  "import { add } from './calc.mjs';\nif (add(2, 3) !== 5) {\n  console.error(`calc.mjs: add(2, 3) returned ${add(2, 3)}, expected 5`);\n  process.exit(1);\n}\nconsole.log('ok');\n";

function makeApp(): ScriptedApp {
  return {
    files: {
      'calc.mjs': { purpose: 'arithmetic', section: 'Exports add(a, b).', content: BROKEN_CALC },
      'test.mjs': { purpose: 'the test', dependsOn: ['calc.mjs'], section: 'Checks add.', content: TEST },
    },
  };
}

let project: TestProject | undefined;
afterEach(async () => {
  await project?.close();
  project = undefined;
});

async function generated(
  debug: (request: RecordedRequest) => MockReply,
  settings: Record<string, string | number> = {},
): Promise<{ p: TestProject; debugRequests: () => RecordedRequest[] }> {
  const app = makeApp();
  const model = scriptedModel(() => app);
  project = await createProject((request) => (request.stage === 'debug' ? debug(request) : model(request)));
  await project.writeSpec({ settings });
  const first = await project.smol(['run', '--yes']);
  expect(first.code, first.stderr).toBe(0);
  const p = project;
  return { p, debugRequests: () => p.server.requests.filter((request) => request.stage === 'debug') };
}

const fix = (file: string, content: string): MockReply => ({
  content: `The subtraction should be an addition.\n\n### \`${file}\`\n\n\`\`\`js\n${content}\`\`\`\n`,
});

describe('smol debug', () => {
  it('--run: a failing command is fixed in one round; the fix becomes the base in the lock', async () => {
    const { p, debugRequests } = await generated(() => fix('calc.mjs', FIXED_CALC));
    const result = await p.smol(['debug', '--run', 'node test.mjs', '--yes']);
    expect(result.code, result.stderr).toBe(0);
    expect(await p.read('app/calc.mjs')).toBe(FIXED_CALC);
    const request = debugRequests()[0]!;
    expect(request.headers['x-smol-stage']).toBe('debug');
    const prompt = JSON.stringify(request.body.messages);
    expect(prompt).toContain('returned -1, expected 5');
    // The file named in the error comes first.
    expect(prompt.indexOf('# `calc.mjs`')).toBeGreaterThan(-1);
    // Passing now: --run stops without a call.
    const again = await p.smol(['debug', '--run', 'node test.mjs']);
    expect(again.code).toBe(0);
    expect(again.stderr).toContain('passes');
    expect(debugRequests()).toHaveLength(1);
    // Recorded in the lock: clean (not a hand edit), not stale, and a run keeps it.
    const report = JSON.parse((await p.smol(['status', '--json'])).stdout) as {
      files: { path: string; disk: string }[];
    };
    expect(report.files.find((file) => file.path === 'calc.mjs')?.disk).toBe('clean');
    const calls = p.server.requests.length;
    expect((await p.smol(['run', '--yes'])).code).toBe(0);
    expect(p.server.requests.length).toBe(calls);
    expect(await p.read('app/calc.mjs')).toBe(FIXED_CALC);
  });

  it('reads the error from stdin or --error-file; without --yes the fix is staged for `smol apply`', async () => {
    const { p } = await generated(() => fix('calc.mjs', FIXED_CALC));
    await p.write('error.txt', 'calc.mjs: add(2, 3) returned -1, expected 5\n');
    const staged = await p.smol(['debug', '--error-file', 'error.txt']);
    expect(staged.code, staged.stderr).toBe(0);
    expect(staged.stderr).toContain('staged');
    expect(await p.read('app/calc.mjs')).toBe(BROKEN_CALC);
    expect((await p.smol(['apply', '--yes'])).code).toBe(0);
    expect(await p.read('app/calc.mjs')).toBe(FIXED_CALC);
    const empty = await p.smol(['debug']);
    expect(empty.code).toBe(2);
    expect(empty.stderr).toContain('empty');
  });

  it('refuses a fix outside outDir and writes nothing there', async () => {
    const { p } = await generated(() => ({
      content: `${fix('../escape.mjs', 'pwned\n').content}\n${fix('/tmp/smol-debug-abs.mjs', 'pwned\n').content}`,
    }));
    const result = await p.smol(['debug', '--run', 'node test.mjs', '--yes']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('refused ../escape.mjs');
    expect(result.stderr).toContain('refused /tmp/smol-debug-abs.mjs');
    expect(await p.readOrUndefined('escape.mjs')).toBeUndefined();
    expect(await p.read('app/calc.mjs')).toBe(BROKEN_CALC);
  });

  it('--checks with fix: true stops after maxFixRounds when the fixes do not help', async () => {
    let round = 0;
    const { p, debugRequests } = await generated(() => fix('calc.mjs', `${BROKEN_CALC}// attempt ${++round}\n`), {
      apply: 'auto',
    });
    await p.write(
      'prompt.md',
      (await p.read('prompt.md')).replace(
        'apply: auto',
        'apply: auto\nchecks: ["node test.mjs"]\nfix: true\nmaxFixRounds: 2',
      ),
    );
    const result = await p.smol(['debug', '--checks']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/stopped: max rounds \(2\)/);
    expect(debugRequests()).toHaveLength(2);
    expect(await p.read('app/calc.mjs')).toContain('// attempt 2');
  });

  it('checks run after `smol run` applies, and a failure is fixed automatically with fix: true', async () => {
    const app = makeApp();
    const model = scriptedModel(() => app);
    project = await createProject((request) =>
      request.stage === 'debug' ? fix('calc.mjs', FIXED_CALC) : model(request),
    );
    await project.write(
      'prompt.md',
      '---\nmodel: test-model\noutDir: app\napply: auto\nchecks: ["node test.mjs"]\nfix: true\n---\n# Calc\n\nA calculator.\n',
    );
    const result = await project.smol(['run']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain('check failed');
    expect(result.stderr).toContain('check passed');
    expect(await project.read('app/calc.mjs')).toBe(FIXED_CALC);
  });

  it('a check that hangs is killed after checkTimeout', async () => {
    const { p } = await generated(() => fix('calc.mjs', FIXED_CALC));
    await p.write(
      'prompt.md',
      (await p.read('prompt.md')).replace(
        'outDir: app',
        'outDir: app\nchecks: ["node -e \\"setInterval(() => {}, 1000)\\""]\ncheckTimeout: 0.5',
      ),
    );
    const result = await p.smol(['debug', '--checks', '--yes']);
    expect(result.stderr).toContain('killed');
  });

  it('keeps the request within the token budget, leaving out what does not fit', async () => {
    const app = makeApp();
    app.files['big.mjs'] = {
      purpose: 'data',
      content: `export const data = ${JSON.stringify('word '.repeat(6000))};\n`,
    };
    const model = scriptedModel(() => app);
    project = await createProject((request) =>
      request.stage === 'debug' ? fix('calc.mjs', FIXED_CALC) : model(request),
    );
    await project.writeSpec();
    expect((await project.smol(['run', '--yes'])).code).toBe(0);
    const result = await project.smol(['debug', '--run', 'node test.mjs', '--yes', '--max-context-tokens', '2000']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain('left out to stay within the token budget: big.mjs');
    const request = project.server.requests.find((entry) => entry.stage === 'debug')!;
    const prompt = JSON.stringify(request.body.messages);
    expect(prompt).not.toContain('word word word');
    expect(prompt).toContain('Other files (not shown)');
    expect(prompt.length).toBeLessThan(2000 * 6);
  });
});

describe('smol init --from-code', () => {
  it('describes an existing codebase and records it as the base: the first run changes nothing', async () => {
    project = await createProject((request) => {
      if (request.stage !== 'plan') return { status: 400, error: { message: 'unexpected' } };
      return {
        content:
          '## Global\n\nA tiny Node.js tool.\n\n### `src/main.mjs`\n\nThe entry point; prints a greeting.\n\n### `src/greet.mjs`\n\nExports greet(name).\n\n### `README.md`\n\nHow to run it.\n',
      };
    });
    const code = path.join(project.dir, 'code');
    await mkdir(path.join(code, 'src'), { recursive: true });
    await mkdir(path.join(code, 'node_modules', 'x'), { recursive: true });
    await writeFile(
      path.join(code, 'src', 'main.mjs'),
      "import { greet } from './greet.mjs';\nconsole.log(greet('you'));\n",
    );
    await writeFile(path.join(code, 'src', 'greet.mjs'), 'export const greet = (name) => `hi ${name}`;\n');
    await writeFile(path.join(code, 'README.md'), '# Tool\n\n```sh\nnode src/main.mjs\n```\n');
    await writeFile(path.join(code, 'node_modules', 'x', 'index.js'), 'ignored\n');
    await writeFile(path.join(code, 'logo.png'), Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 0, 0, 1]));
    await writeFile(path.join(code, 'package-lock.json'), '{}\n');
    const init = await project.smol(['init', '--from-code', 'code', '--model', 'test-model']);
    expect(init.code, init.stderr).toBe(0);
    const spec = await project.read('prompt.md');
    expect(spec).toContain('## `src/main.mjs`');
    expect(spec).toContain('## `src/greet.mjs`');
    expect(spec).toContain('outDir: "code"');
    expect(spec).not.toContain('node_modules');
    expect(init.stderr).toContain('skipped logo.png: binary');
    const calls = project.server.requests.length;
    const run = await project.smol(['run', '--yes']);
    expect(run.code, run.stderr).toBe(0);
    expect(project.server.requests.length).toBe(calls);
    expect(await project.read('code/src/greet.mjs')).toBe('export const greet = (name) => `hi ${name}`;\n');
    expect((await project.smol(['check'])).code).toBe(0);
  });
});
