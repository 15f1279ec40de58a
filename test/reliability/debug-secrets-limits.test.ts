import { afterEach, describe, expect, it } from 'vitest';
import { allText, createProject, FAKE_KEY, type TestProject } from '../helpers/project.js';
import { scriptedModel, type ScriptedApp } from '../helpers/scripted-model.js';
import type { MockReply, RecordedRequest } from '../helpers/openai-server.js';

const CALC = 'export function add(a, b) {\n  return a - b;\n}\n';

let project: TestProject | undefined;
afterEach(async () => {
  await project?.close();
  project = undefined;
});

/** A generated two-file app whose debug answers come from `debug`; `frontmatter` lines are added to the spec. */
async function generated(
  debug: (request: RecordedRequest) => MockReply,
  frontmatter: string[] = [],
): Promise<TestProject> {
  const app: ScriptedApp = {
    files: {
      'calc.mjs': { purpose: 'arithmetic', content: CALC },
      'notes.md': { purpose: 'notes', content: '# Notes\n' },
    },
  };
  const model = scriptedModel(() => app);
  project = await createProject((request) => (request.stage === 'debug' ? debug(request) : model(request)));
  await project.write(
    'prompt.md',
    `---\nmodel: test-model\noutDir: app\n${frontmatter.join('\n')}\n---\n# Calc\n\nA calculator.\n`,
  );
  const first = await project.smol(['run', '--yes']);
  expect(first.code, first.stderr).toBe(0);
  return project;
}

const fixes = (...files: [string, string][]): MockReply => ({
  content: `Fixed.\n\n${files.map(([file, content]) => `### \`${file}\`\n\n\`\`\`js\n${content}\n\`\`\`\n`).join('\n')}`,
});

const debugPrompts = (p: TestProject): string =>
  JSON.stringify(p.server.requests.filter((request) => request.stage === 'debug').map((request) => request.body));

describe('debug fixes obey the content limits', () => {
  it('refuses a fix over maxFileBytes with a NUL byte, and a new binary file: reported, never written', async () => {
    // Far over maxFileBytes, yet under what smol reads of one answer (maxTokens × 32 bytes, see unbounded-answers.test).
    const huge = `${'x'.repeat(200_000)}\u0000tail`;
    const p = await generated(
      () => fixes(['calc.mjs', huge], ['logo.png', '\u0000PNG\u0001\u0002']),
      ['maxFileBytes: 1000'],
    );
    const result = await p.smol(['debug', '--run', 'exit 1', '--yes']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/refused calc\.mjs: .*NUL bytes/);
    expect(result.stderr).toMatch(/refused logo\.png: .*NUL bytes/);
    expect(await p.read('app/calc.mjs')).toBe(CALC);
    expect(await p.readOrUndefined('app/logo.png')).toBeUndefined();
    expect(result.stderr).toContain('No usable fix was proposed.');
  });

  it('refuses what is over maxFileBytes or maxTotalBytes and writes the fixes within them', async () => {
    const p = await generated(
      () => fixes(['calc.mjs', 'a'.repeat(900)], ['notes.md', 'b'.repeat(900)], ['big.txt', 'c'.repeat(5000)]),
      ['maxFileBytes: 1000', 'maxTotalBytes: 1500'],
    );
    const result = await p.smol(['debug', '--run', 'exit 1', '--yes', '--json']);
    const report = JSON.parse(result.stdout.trim().split('\n').at(-1)!) as {
      fixed: string[];
      rejected: { path: string; reason: string }[];
    };
    expect(report.fixed).toEqual(['calc.mjs']);
    expect(report.rejected).toEqual([
      { path: 'notes.md', reason: 'the run would write more than maxTotalBytes (1500); nothing written' },
      { path: 'big.txt', reason: '5001 bytes is more than maxFileBytes (1000); nothing written' },
    ]);
    expect(await p.read('app/calc.mjs')).toBe(`${'a'.repeat(900)}\n`);
    expect(await p.read('app/notes.md')).toBe('# Notes\n');
    expect(await p.readOrUndefined('app/big.txt')).toBeUndefined();
  });
});

describe("checks and debug --run never hand smol's key to the model", () => {
  it('a check that prints the environment runs without the key, and `fix: true` sends no key in the debug prompt', async () => {
    const p = await generated(() => fixes(['calc.mjs', CALC.replace('-', '+')]));
    await p.write(
      'prompt.md',
      (await p.read('prompt.md')).replace(
        'outDir: app',
        'outDir: app\napply: auto\nchecks: ["printenv OPENAI_API_KEY; echo key=$OPENAI_API_KEY; exit 1"]\nfix: true\nmaxFixRounds: 1',
      ),
    );
    for (const args of [
      ['debug', '--checks'],
      ['run', '--all'],
    ]) {
      const result = await p.smol(args);
      expect(result.code).toBe(1);
      expect(result.stderr).toContain('key=\n');
      expect(`${result.stdout}${result.stderr}`).not.toContain(FAKE_KEY);
    }
    expect(debugPrompts(p)).toContain('key=');
    expect(debugPrompts(p)).not.toContain(FAKE_KEY);
  });

  it('debug --run: the command gets no key; a key in the error or in a file sent along is redacted', async () => {
    const p = await generated(() => fixes(['calc.mjs', CALC.replace('-', '+')]));
    // The generated app holds the key (a hard-coded config), and the command prints the file.
    await p.write('app/notes.md', `# Notes\n\napiKey: ${FAKE_KEY}\n`);
    const result = await p.smol(['debug', '--run', 'cat notes.md; printenv | grep -c OPENAI_API_KEY; exit 1', '--yes']);
    expect(result.code, result.stderr).toBe(0);
    const prompt = debugPrompts(p);
    expect(prompt).toContain('apiKey: [redacted]');
    expect(prompt).not.toContain(FAKE_KEY);
    // An error file given by the user is redacted too.
    const errorFile = await p.smol(['debug', '--error-file', 'app/notes.md']);
    expect(errorFile.code, errorFile.stderr).toBe(1);
    expect(debugPrompts(p)).not.toContain(FAKE_KEY);
    expect(await allText(`${p.dir}/.smol`)).not.toContain(FAKE_KEY);
  });

  it('a passing check that leaves a background server running is reported as passing', async () => {
    const p = await generated(
      () => fixes(['calc.mjs', CALC]),
      ['checks: ["node -e \\"setInterval(() => {}, 1000)\\" & echo serving"]'],
    );
    const result = await p.smol(['debug', '--checks']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain('check passed');
  });
});
