import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SmolError, SpecError, type SpecIssue } from '../../src/errors.js';
import { loadSpec, parseSpecText, type SpecOverrides } from '../../src/spec/load.js';

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'smol-spec-'));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function write(relative: string, text: string): Promise<string> {
  const file = path.join(dir, relative);
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, text);
  return file;
}

/** Load `text` as `prompt.md` and return the SpecError's issues (failing if it loads). */
async function issuesOf(text: string, overrides?: SpecOverrides): Promise<SpecIssue[]> {
  await write('prompt.md', text);
  const error = await loadSpec('prompt.md', overrides === undefined ? { cwd: dir } : { cwd: dir, overrides }).then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(SpecError);
  return (error as SpecError).issues;
}

async function errorOf(text: string, overrides?: SpecOverrides): Promise<SpecError> {
  await write('prompt.md', text);
  const error = await loadSpec('prompt.md', overrides === undefined ? { cwd: dir } : { cwd: dir, overrides }).catch(
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(SpecError);
  return error as SpecError;
}

const spec = (frontmatter: string, body = 'A small app.'): string => `---\n${frontmatter}\n---\n${body}\n`;

describe('loadSpec: valid specs', () => {
  it('loads a spec that sets every key', async () => {
    await write('docs/api.md', 'API notes\r\n');
    const text = [
      '---',
      'model: gpt-4o',
      'provider: openai-compatible',
      'baseURL: http://127.0.0.1:11434/v1',
      'outDir: build/out',
      'concurrency: 8',
      'temperature: 0.2',
      'maxTokens: 4096',
      'rateLimit: { rpm: 500, tpm: 200000 }',
      'include: [docs/api.md]',
      'ignore: ["assets/**"]',
      'apply: auto',
      'context: full',
      'checks: ["npm test"]',
      'fix: true',
      'maxFixRounds: 3',
      'checkTimeout: 60',
      'budget: { usd: 5 }',
      'price: { input: 2.5, output: 10 }',
      'maxFiles: 50',
      'maxFileBytes: 1000',
      'maxTotalBytes: 50000',
      '---',
      'A todo app.',
      '',
      '## `src/server.ts`',
      'The server.',
      '',
    ].join('\n');
    await write('prompt.md', text);

    const loaded = await loadSpec('prompt.md', { cwd: dir });

    expect(loaded.settings).toEqual({
      model: 'gpt-4o',
      provider: 'openai-compatible',
      baseURL: 'http://127.0.0.1:11434/v1',
      outDir: 'build/out',
      concurrency: 8,
      temperature: 0.2,
      maxTokens: 4096,
      rateLimit: { rpm: 500, tpm: 200000 },
      include: ['docs/api.md'],
      ignore: ['assets/**'],
      apply: 'auto',
      context: 'full',
      checks: ['npm test'],
      fix: true,
      maxFixRounds: 3,
      checkTimeout: 60,
      budget: { usd: 5 },
      price: { input: 2.5, output: 10 },
      maxFiles: 50,
      maxFileBytes: 1000,
      maxTotalBytes: 50000,
    });
    expect(loaded.file).toBe(path.join(dir, 'prompt.md'));
    expect(loaded.displayPath).toBe('prompt.md');
    expect(loaded.dir).toBe(dir);
    expect(loaded.outDir).toBe(path.join(dir, 'build/out'));
    expect(loaded.body).toBe('A todo app.\n\n## `src/server.ts`\nThe server.\n');
    expect(loaded.globalText).toBe('A todo app.');
    expect(loaded.sections).toEqual([{ path: 'src/server.ts', text: 'The server.', line: 26 }]);
    expect(loaded.includes).toEqual([
      { path: 'docs/api.md', absolutePath: path.join(dir, 'docs/api.md'), text: 'API notes\n' },
    ]);
  });

  it('applies defaults', async () => {
    await write('prompt.md', spec('model: gpt-4o'));
    const loaded = await loadSpec('prompt.md', { cwd: dir });
    expect(loaded.settings).toEqual({
      model: 'gpt-4o',
      outDir: 'app',
      concurrency: 4,
      temperature: 0,
      maxTokens: 8192,
      include: [],
      ignore: [],
      apply: 'review',
      context: 'plan',
      checks: [],
      fix: false,
      maxFixRounds: 2,
      checkTimeout: 300,
      maxFiles: 200,
      maxFileBytes: 1_000_000,
      maxTotalBytes: 20_000_000,
    });
    expect(loaded.outDir).toBe(path.join(dir, 'app'));
    expect(loaded.includes).toEqual([]);
  });

  it('keeps an absolute outDir', async () => {
    const out = path.join(dir, 'elsewhere');
    await write('prompt.md', spec(`model: m\noutDir: ${JSON.stringify(out)}`));
    expect((await loadSpec('prompt.md', { cwd: dir })).outDir).toBe(out);
  });

  it('accepts a spec without frontmatter when the model comes from an override', async () => {
    await write('prompt.md', 'Just text.\n## `a.ts`\nA.\n');
    const loaded = await loadSpec(path.join(dir, 'prompt.md'), { overrides: { model: 'llama3' } });
    expect(loaded.settings.model).toBe('llama3');
    expect(loaded.sections).toEqual([{ path: 'a.ts', text: 'A.', line: 2 }]);
  });

  it('lets overrides win over the frontmatter and ignores undefined overrides', async () => {
    await write('prompt.md', spec('model: gpt-4o\nconcurrency: 2\ntemperature: 1'));
    const loaded = await loadSpec('prompt.md', {
      cwd: dir,
      overrides: { model: 'gpt-4.1', concurrency: 16, temperature: undefined, outDir: 'dist' },
    });
    expect(loaded.settings).toMatchObject({ model: 'gpt-4.1', concurrency: 16, temperature: 1, outDir: 'dist' });
    expect(loaded.outDir).toBe(path.join(dir, 'dist'));
  });

  it('parses inline prompt text, resolving includes against the virtual file', async () => {
    await write('more.md', 'More.');
    const loaded = await parseSpecText(spec('model: m\ninclude: [more.md]', 'Inline.'), {
      file: path.join(dir, '<inline>.md'),
      displayPath: 'inline prompt',
    });
    expect(loaded.displayPath).toBe('inline prompt');
    expect(loaded.includes.map((included) => included.text)).toEqual(['More.']);
    expect(loaded.globalText).toBe('Inline.');
  });

  it('does not share results between calls with the same text (gray-matter cache)', async () => {
    const text = spec('model: m\nconcurrency: 3');
    const first = await parseSpecText(text, { file: path.join(dir, 'a.md') });
    first.settings.include.push('mutated');
    const second = await parseSpecText(text, { file: path.join(dir, 'b.md') });
    expect(second.settings.include).toEqual([]);
    expect(second.settings.concurrency).toBe(3);
  });

  it('handles a BOM and CRLF line endings', async () => {
    await write('prompt.md', '\uFEFF---\r\nmodel: m\r\n---\r\nHello.\r\n## `a.ts`\r\nA.\r\n');
    const loaded = await loadSpec('prompt.md', { cwd: dir });
    expect(loaded.settings.model).toBe('m');
    expect(loaded.sections).toEqual([{ path: 'a.ts', text: 'A.', line: 5 }]);
  });
});

describe('loadSpec: bad input', () => {
  it('reports a missing spec file with a hint to run smol init', async () => {
    const error = await loadSpec('nope.md', { cwd: dir }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(SmolError);
    expect(error).not.toBeInstanceOf(SpecError);
    expect(error).toMatchObject({ code: 'SPEC_NOT_FOUND', exitCode: 2 });
    expect((error as SmolError).message).toContain('nope.md');
    expect((error as SmolError).hint).toContain('smol init');
  });

  it('names key, value, allowed type and line for a wrong type', async () => {
    const error = await errorOf(spec('model: gpt-4o\nconcurrency: four'));
    expect(error.code).toBe('SPEC_INVALID');
    expect(error.exitCode).toBe(2);
    expect(error.issues).toEqual([
      {
        key: 'concurrency',
        message: 'has the wrong type',
        received: '"four"',
        expected: 'a whole number',
        file: 'prompt.md',
        line: 3,
      },
    ]);
    expect(error.message).toBe('concurrency: has the wrong type (got "four", expected a whole number) at prompt.md:3');
  });

  it('reports out-of-range numbers with their bounds', async () => {
    const issues = await issuesOf(
      spec('model: m\n\nconcurrency: 65\ntemperature: -1\nmaxTokens: 1.5\nmaxFixRounds: 11'),
    );
    expect(issues).toEqual([
      expect.objectContaining({ key: 'concurrency', received: '65', expected: 'a whole number <= 64', line: 4 }),
      expect.objectContaining({ key: 'temperature', received: '-1', expected: 'a number >= 0', line: 5 }),
      expect.objectContaining({ key: 'maxTokens', message: 'must be a whole number', received: '1.5', line: 6 }),
      expect.objectContaining({ key: 'maxFixRounds', received: '11', expected: 'a whole number <= 10', line: 7 }),
    ]);
  });

  it('reports an unknown key with the closest known key', async () => {
    const issues = await issuesOf(spec('model: m\nconcurency: 8\nbaseUrl: http://x\nzzzzzz: 1'));
    expect(issues).toEqual([
      expect.objectContaining({ key: 'concurency', message: 'unknown key; did you mean `concurrency`?', line: 3 }),
      expect.objectContaining({ key: 'baseUrl', message: 'unknown key; did you mean `baseURL`?', line: 4 }),
      expect.objectContaining({
        key: 'zzzzzz',
        message: 'unknown key',
        expected: expect.stringContaining('model, provider'),
        line: 5,
      }),
    ]);
  });

  it('names the allowed providers for an unknown provider', async () => {
    const issues = await issuesOf(spec('model: m\nprovider: gemini'));
    expect(issues).toEqual([
      {
        key: 'provider',
        message: 'unknown provider',
        received: '"gemini"',
        expected: 'one of "openai", "azure", "anthropic", "ollama" or "openai-compatible"',
        file: 'prompt.md',
        line: 3,
      },
    ]);
  });

  it('points nested keys at their own line, block or flow style', async () => {
    const issues = await issuesOf(
      spec(
        'model: m\nrateLimit:\n  # per minute\n  tpm: 10\n  rpm: -5\n  rpn: 3\nbudget: { usd: "lots" }\nprice: { input: 1 }',
      ),
    );
    expect(issues).toEqual([
      expect.objectContaining({ key: 'rateLimit.rpm', received: '-5', expected: 'a whole number > 0', line: 6 }),
      expect.objectContaining({ key: 'rateLimit.rpn', message: 'unknown key; did you mean `rpm`?', line: 7 }),
      expect.objectContaining({ key: 'budget.usd', received: '"lots"', expected: 'a number', line: 8 }),
      expect.objectContaining({ key: 'price.output', message: 'is required', expected: 'a number', line: 9 }),
    ]);
  });

  it('points list items at their line', async () => {
    await write('a.md', 'A');
    const issues = await issuesOf(spec('model: m\ninclude:\n  - a.md\n  - 5\nchecks:\n- ""'));
    expect(issues).toEqual([
      expect.objectContaining({ key: 'include[1]', received: '5', expected: 'a string', line: 5 }),
      expect.objectContaining({ key: 'checks[0]', message: 'must not be empty', line: 7 }),
    ]);
  });

  it('rejects a baseURL that is not http(s)', async () => {
    const issues = await issuesOf(spec('model: m\nbaseURL: ftp://example.com'));
    expect(issues).toEqual([
      expect.objectContaining({
        key: 'baseURL',
        received: '"ftp://example.com"',
        expected: expect.stringContaining('http://'),
        line: 3,
      }),
    ]);
  });

  it('rejects an empty outDir and a null value', async () => {
    const issues = await issuesOf(spec('model: m\noutDir: ""\ntemperature:'));
    expect(issues).toEqual([
      expect.objectContaining({ key: 'outDir', message: 'must not be empty', line: 3 }),
      expect.objectContaining({ key: 'temperature', message: 'has no value', received: 'null', line: 4 }),
    ]);
  });

  it('turns a YAML syntax error into a frontmatter issue on the right file line', async () => {
    const issues = await issuesOf(spec('model: m\nconcurrency: 4\nrateLimit: { rpm: 5\ntemperature: 0'));
    expect(issues).toHaveLength(1);
    expect(issues[0]).toMatchObject({ key: 'frontmatter', file: 'prompt.md' });
    expect(issues[0]?.message).toMatch(/^YAML syntax error: /);
    expect(issues[0]?.line).toBeGreaterThanOrEqual(4);
    expect(issues[0]?.line).toBeLessThanOrEqual(5);
  });

  it('reports a YAML error on the exact line for a bad mapping', async () => {
    const issues = await issuesOf(spec('model: m\n\nconcurrency: 4\n  bad indent: x'));
    expect(issues).toEqual([expect.objectContaining({ key: 'frontmatter', line: 5 })]);
  });

  it('reports duplicate YAML keys', async () => {
    const issues = await issuesOf(spec('model: a\nmodel: b'));
    expect(issues).toEqual([
      expect.objectContaining({ key: 'frontmatter', message: expect.stringContaining('duplicated'), line: 3 }),
    ]);
  });

  it('does not also report a missing model when `model` is misspelt', async () => {
    const issues = await issuesOf(spec('modle: m'));
    expect(issues).toEqual([expect.objectContaining({ key: 'modle', message: 'unknown key; did you mean `model`?' })]);
  });

  it('reports a missing model with what to do', async () => {
    const issues = await issuesOf(spec('concurrency: 2'));
    expect(issues).toEqual([
      expect.objectContaining({
        key: 'model',
        message: expect.stringMatching(/is required.*`model:`.*--model/),
        line: 1,
      }),
    ]);
  });

  it('reports an empty body', async () => {
    const issues = await issuesOf('---\nmodel: m\n---\n\n   \n');
    expect(issues).toEqual([
      expect.objectContaining({ key: 'body', message: expect.stringContaining('the spec has no text'), line: 4 }),
    ]);
  });

  it('reports frontmatter that is not a mapping', async () => {
    expect(await issuesOf(spec('- model: m\n- concurrency: 2'))).toEqual([
      expect.objectContaining({
        key: 'frontmatter',
        message: expect.stringContaining('mapping'),
        received: '[{"model":"m"},{"concurrency":2}]',
      }),
    ]);
    expect(await issuesOf(spec('just a sentence'))).toEqual([
      expect.objectContaining({ key: 'frontmatter', received: '"just a sentence"' }),
    ]);
  });

  it('reports an unclosed frontmatter block', async () => {
    const issues = await issuesOf('---\nmodel: m\n');
    expect(issues).toEqual([
      expect.objectContaining({ key: 'frontmatter', message: expect.stringContaining('closing `---`'), line: 1 }),
    ]);
  });

  it('refuses JavaScript frontmatter instead of evaluating it', async () => {
    const marker = path.join(dir, 'evaluated');
    const text = `---js\n({ model: (require('fs').writeFileSync(${JSON.stringify(marker)}, 'x'), 'm') })\n---\nBody.\n`;
    const issues = await issuesOf(text);
    expect(issues).toEqual([
      expect.objectContaining({
        key: 'frontmatter',
        message: expect.stringContaining('unsupported frontmatter language'),
        received: '"js"',
      }),
    ]);
    await expect(import('node:fs').then((fs) => fs.existsSync(marker))).resolves.toBe(false);
  });

  it('reports a missing include on the line of its item', async () => {
    await write('ok.md', 'fine');
    const issues = await issuesOf(spec('model: m\ninclude:\n  - ok.md\n  - missing.md'));
    expect(issues).toEqual([
      expect.objectContaining({
        key: 'include[1]',
        received: '"missing.md"',
        message: expect.stringContaining('not found'),
        line: 5,
      }),
    ]);
  });

  it('reports a missing include written in flow style on the include line', async () => {
    const issues = await issuesOf(spec('model: m\ninclude: [gone.md]'));
    expect(issues).toEqual([expect.objectContaining({ key: 'include[0]', line: 3 })]);
  });

  it('collects every issue at once, in line order', async () => {
    const issues = await issuesOf(spec('provider: nope\nconcurrency: 0\nfix: maybe', '   '));
    expect(issues.map((issue) => [issue.key, issue.line])).toEqual([
      ['model', 1],
      ['provider', 2],
      ['concurrency', 3],
      ['fix', 4],
      ['body', 6],
    ]);
  });

  it('validates overrides and names the flag', async () => {
    const error = await errorOf(spec('model: m'), {
      concurrency: 100,
      provider: 'nope' as never,
      baseURL: 'localhost:1234',
    });
    expect(error.issues).toEqual([
      expect.objectContaining({
        key: 'provider',
        message: 'unknown provider in --provider',
        file: 'command line',
        line: 0,
      }),
      expect.objectContaining({
        key: 'baseURL',
        message: expect.stringContaining('in --base-url'),
        file: 'command line',
      }),
      expect.objectContaining({
        key: 'concurrency',
        message: 'is too large in --concurrency',
        received: '100',
        file: 'command line',
      }),
    ]);
  });

  it('reports frontmatter problems even when an override replaces the key', async () => {
    const issues = await issuesOf(spec('model: m\nconcurrency: -1'), { concurrency: 2 });
    expect(issues).toEqual([expect.objectContaining({ key: 'concurrency', file: 'prompt.md', line: 3 })]);
  });

  it('never puts a secret-looking value in a message', async () => {
    const secret = 'sk-proj-abcdefghijklmnop1234567890';
    const error = await errorOf(
      spec(`model: m\nprovider: ${secret}\nchecks: ["${secret}", 3]\nrateLimit: { rpm: "${secret}" }`),
      { baseURL: secret },
    );
    expect(error.issues.length).toBeGreaterThanOrEqual(4);
    const pastedAsKey = await errorOf(spec(`model: m\n${secret}: true`));
    expect(pastedAsKey.message).not.toContain('abcdefghijklmnop');
    const everything = JSON.stringify(error.issues) + error.message;
    expect(everything).not.toContain('abcdefghijklmnop');
    expect(everything).toContain('redacted');
  });

  it('keeps a secret on a line with a YAML error out of the message', async () => {
    const error = await errorOf(spec('model: m\napiKey: "sk-abcdefghijklmnopqrstuv\nconcurrency: 2'));
    expect(error.message).not.toContain('abcdefghijklmnop');
  });

  it('shortens long values', async () => {
    const long = 'x'.repeat(500);
    const issues = await issuesOf(spec(`model: m\nprovider: ${long}`));
    expect(issues[0]?.received).toBe(`"${'x'.repeat(24)}…" [500 characters]`);
  });
});
