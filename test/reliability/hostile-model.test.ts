import { mkdir, readdir, readFile, stat, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isSmolError } from '../../src/errors.js';
import { tempDir } from '../helpers/cli.js';
import {
  startOpenAIServer,
  type MockOpenAIServer,
  type MockReply,
  type RecordedRequest,
} from '../helpers/openai-server.js';
import { FAKE_KEY } from '../helpers/project.js';

/**
 * The hostile-model corpus (issue 9): answers a model must never be able to turn into a write outside
 * outDir, a torn file or a crash. Each scenario scripts the plan, the file list and the code answers.
 */
interface Scenario {
  name: string;
  /** Raw arguments of the file-list tool call, or a reply for the files stage. */
  files: string | MockReply;
  /** Code answers by path (default: a fenced `ok` block). */
  code?: (request: RecordedRequest) => MockReply;
  plan?: MockReply;
  settings?: Record<string, unknown>;
  /** Prepare the project folder (e.g. plant a symlink). */
  setup?: (dir: string) => Promise<void>;
  /** What the run must report. */
  expect: { rejected?: string[]; failed?: string[]; written?: string[]; error?: RegExp };
}

const list = (...paths: string[]): string =>
  JSON.stringify({ files: paths.map((p) => ({ path: p, purpose: 'x', dependsOn: [] })) });
const ok = (): MockReply => ({ content: '```\nok\n```' });

const SCENARIOS: Scenario[] = [
  {
    name: 'parent escape',
    files: list('../escape.txt', 'good.txt'),
    expect: { rejected: ['../escape.txt'], written: ['good.txt'] },
  },
  { name: 'deep parent escape', files: list('a/b/../../../../etc/x'), expect: { rejected: ['a/b/../../../../etc/x'] } },
  { name: 'absolute path', files: list('/etc/passwd'), expect: { rejected: ['/etc/passwd'] } },
  {
    name: 'absolute tmp path',
    files: list('/tmp/smol-hostile-abs.txt'),
    expect: { rejected: ['/tmp/smol-hostile-abs.txt'] },
  },
  { name: 'windows drive', files: list('C:\\Windows\\evil.dll'), expect: { rejected: ['C:\\\\Windows\\\\evil.dll'] } },
  { name: 'drive relative', files: list('d:evil.txt'), expect: { rejected: ['d:evil.txt'] } },
  { name: 'UNC path', files: list('\\\\server\\share\\x'), expect: { rejected: ['\\\\\\\\server\\\\share\\\\x'] } },
  { name: 'backslash escape', files: list('a\\..\\..\\x'), expect: { rejected: ['a\\\\..\\\\..\\\\x'] } },
  { name: '.git config', files: list('.git/config'), expect: { rejected: ['.git/config'] } },
  { name: '.git hook', files: list('.git/hooks/post-checkout'), expect: { rejected: ['.git/hooks/post-checkout'] } },
  { name: 'nested .git', files: list('vendor/.git/config'), expect: { rejected: ['vendor/.git/config'] } },
  { name: '.smol state', files: list('.smol/cache/aa/bb.json'), expect: { rejected: ['.smol/cache/aa/bb.json'] } },
  { name: 'NUL byte', files: list('a\u0000b.txt'), expect: { rejected: ['a\\u0000b.txt'] } },
  { name: 'escape sequence', files: list('a\u001b[2Jb.txt'), expect: { rejected: ['a\\u001b[2Jb.txt'] } },
  { name: 'newline in path', files: list('a\nb.txt'), expect: { rejected: ['a\\nb.txt'] } },
  { name: 'bidi override', files: list('invoice\u202etxt.exe'), expect: { rejected: ['invoice\u202etxt.exe'] } },
  { name: 'home relative', files: list('~/.bashrc'), expect: { rejected: ['~/.bashrc'] } },
  { name: 'empty path', files: list(''), expect: { rejected: [''] } },
  { name: 'dot path', files: list('.', './'), expect: { rejected: ['.', './'] } },
  { name: 'folder path', files: list('src/'), expect: { rejected: ['src/'] } },
  { name: 'device name', files: list('con.txt', 'aux'), expect: { rejected: ['con.txt', 'aux'] } },
  { name: 'reserved characters', files: list('a<b>.txt', 'q?.txt'), expect: { rejected: ['a<b>.txt', 'q?.txt'] } },
  {
    name: 'case duplicates',
    files: list('Readme.md', 'README.md'),
    expect: { rejected: ['Readme.md'], written: ['README.md'] },
  }, // the list is sorted first: README.md wins
  { name: 'exact duplicates', files: list('a.txt', 'a.txt'), expect: { rejected: ['a.txt'], written: ['a.txt'] } },
  {
    name: 'very long path',
    files: list(`${'d/'.repeat(600)}x.txt`),
    expect: { rejected: [`${'d/'.repeat(600)}x.txt`] },
  },
  { name: 'long segment', files: list(`${'x'.repeat(300)}.txt`), expect: { rejected: [`${'x'.repeat(300)}.txt`] } },
  {
    name: 'thousands of files',
    files: list(...Array.from({ length: 3000 }, (_, i) => `f${i}.txt`)),
    settings: { maxFiles: 5 },
    expect: { written: ['f0.txt', 'f1.txt', 'f10.txt', 'f100.txt', 'f1000.txt'] },
  }, // sorted, then cut
  {
    name: 'symlinked folder out of outDir',
    files: list('link/owned.txt', 'fine.txt'),
    setup: async (dir) => {
      await mkdir(path.join(dir, 'out'), { recursive: true });
      await mkdir(path.join(dir, 'elsewhere'));
      await symlink(path.join(dir, 'elsewhere'), path.join(dir, 'out', 'link'));
    },
    expect: { rejected: ['link/owned.txt'], written: ['fine.txt'] },
  },
  {
    name: 'symlinked file out of outDir',
    files: list('victim.txt'),
    setup: async (dir) => {
      await mkdir(path.join(dir, 'out'), { recursive: true });
      await writeFile(path.join(dir, 'precious.txt'), 'precious\n');
      await symlink(path.join(dir, 'precious.txt'), path.join(dir, 'out', 'victim.txt'));
    },
    expect: { rejected: ['victim.txt'] },
  },
  {
    name: 'hostile dependsOn',
    files: JSON.stringify({ files: [{ path: 'a.txt', purpose: 'x', dependsOn: ['../../etc/passwd', '/abs'] }] }),
    expect: { written: ['a.txt'] },
  },
  { name: 'truncated tool arguments', files: '{"files": [{"path": "a.txt", "purp', expect: { error: /file list/i } },
  {
    name: 'tool arguments of the wrong shape',
    files: JSON.stringify({ files: 'everything' }),
    expect: { error: /file list/i },
  },
  { name: 'empty tool arguments', files: '{}', expect: { error: /file list/i } },
  {
    name: 'paths that are not strings',
    files: JSON.stringify({ files: [{ path: 42 }, { path: null }] }),
    expect: { error: /file list/i },
  },
  {
    name: 'prose instead of a tool call',
    files: { content: 'Sure! I would create a server and a client.' },
    expect: { error: /did not call|file list/i },
  },
  { name: 'empty plan', files: list('a.txt'), plan: { content: '' }, expect: { error: /empty plan/i } },
  {
    name: 'plan cut off',
    files: list('a.txt'),
    plan: { content: '## Global\n\nStack: ', finishReason: 'length' },
    expect: { error: /plan was cut off/i },
  },
  { name: 'empty code answer', files: list('a.txt'), code: () => ({ content: '' }), expect: { failed: ['a.txt'] } },
  {
    name: 'whitespace code answer',
    files: list('a.txt'),
    code: () => ({ content: '   \n\n  ' }),
    expect: { failed: ['a.txt'] },
  },
  {
    name: 'fence that never closes',
    files: list('a.txt'),
    code: () => ({ content: 'Here:\n```ts\nexport const a = 1;\n' }),
    expect: { failed: ['a.txt'] },
  },
  { name: 'empty fence', files: list('a.txt'), code: () => ({ content: '```ts\n```' }), expect: { failed: ['a.txt'] } },
  {
    name: 'answer cut by the token limit',
    files: list('a.txt', 'b.txt'),
    code: (r) => (r.file === 'a.txt' ? { content: '```\npartial', finishReason: 'length' } : ok()),
    expect: { failed: ['a.txt'], written: ['b.txt'] },
  },
  {
    name: 'content filtered',
    files: list('a.txt'),
    code: () => ({ content: '```\nx\n```', finishReason: 'content_filter' }),
    expect: { failed: ['a.txt'] },
  },
  {
    name: 'absurd size',
    files: list('big.txt', 'small.txt'),
    settings: { maxFileBytes: 100_000 },
    code: (r) => (r.file === 'big.txt' ? { content: `\`\`\`\n${'x'.repeat(2_000_000)}\n\`\`\`` } : ok()),
    expect: { failed: ['big.txt'], written: ['small.txt'] },
  },
  {
    name: 'total size over the limit',
    files: list('a.txt', 'b.txt', 'c.txt'),
    settings: { maxTotalBytes: 2500, concurrency: 1 },
    code: () => ({ content: `\`\`\`\n${'y'.repeat(1000)}\n\`\`\`` }),
    expect: { failed: ['c.txt'], written: ['a.txt', 'b.txt'] },
  },
  {
    name: 'binary answer',
    files: list('bin.txt'),
    code: () => ({ content: '```\n\u0000\u0001\u0002ELF\u0000\n```' }),
    expect: { failed: ['bin.txt'] },
  },
  {
    name: 'invalid UTF-8',
    files: list('bad.txt'),
    code: () => ({ content: '```\nabc\ufffd\ufffddef\n```' }),
    expect: { failed: ['bad.txt'] },
  },
  {
    name: 'connection dropped mid-stream',
    files: list('a.txt', 'b.txt'),
    code: (r) => (r.file === 'a.txt' ? { content: `\`\`\`\n${'z'.repeat(400)}\n\`\`\``, dropConnection: true } : ok()),
    expect: { failed: ['a.txt'], written: ['b.txt'] },
  },
  {
    name: 'server error on one file',
    files: list('a.txt', 'b.txt'),
    code: (r) => (r.file === 'a.txt' ? { status: 500, error: { message: 'boom' } } : ok()),
    expect: { failed: ['a.txt'], written: ['b.txt'] },
  },
  {
    name: 'overwrite the spec itself',
    files: list('prompt.md', 'smol.lock', 'ok.txt'),
    settings: { outDir: '.' },
    expect: { rejected: ['prompt.md', 'smol.lock'], written: ['ok.txt'] },
  },
];

let server: MockOpenAIServer;
let current: Scenario;
beforeAll(async () => {
  server = await startOpenAIServer({
    handler: (request) => {
      if (request.stage === 'plan') return current.plan ?? { content: '## Global\n\nPlain text files.\n' };
      if (request.stage === 'files')
        return typeof current.files === 'string'
          ? { toolCalls: [{ name: 'submit_file_list', arguments: current.files }] }
          : current.files;
      return current.code?.(request) ?? ok();
    },
  });
});
afterAll(async () => server.close());

describe(`hostile model output (${SCENARIOS.length} scenarios)`, () => {
  it.each(SCENARIOS.map((scenario) => [scenario.name, scenario] as const))('%s', async (_name, scenario) => {
    current = scenario;
    const { dir, cleanup } = await tempDir('smol-hostile-');
    try {
      await scenario.setup?.(dir);
      const outDir = (scenario.settings?.outDir as string | undefined) ?? 'out';
      const specFile = path.join(dir, 'prompt.md');
      const settings = Object.entries({
        model: 'm',
        provider: 'openai-compatible',
        baseURL: server.url,
        outDir: 'out',
        ...scenario.settings,
      })
        .map(([key, value]) => `${key}: ${typeof value === 'string' ? JSON.stringify(value) : String(value)}`)
        .join('\n');
      await writeFile(specFile, `---\n${settings}\n---\nA program.\n`);
      const before = await snapshot(dir, outDir);
      const { runPipeline, loadSpec, createProvider } = await import('../../src/index.js');
      const spec = await loadSpec(specFile);
      const { provider } = createProvider(
        { model: 'm', provider: 'openai-compatible', baseURL: server.url },
        { OPENAI_API_KEY: FAKE_KEY },
        { maxRetries: 0 },
      );
      let result: Awaited<ReturnType<typeof runPipeline>> | undefined;
      let error: unknown;
      try {
        result = await runPipeline({ spec, provider, mode: 'apply', cache: false });
      } catch (caught) {
        error = caught;
      }
      if (scenario.expect.error !== undefined) {
        expect(isSmolError(error), String(error)).toBe(true);
        expect((error as Error).message).toMatch(scenario.expect.error);
      } else {
        expect(error, String((error as Error | undefined)?.stack)).toBeUndefined();
        const rejected = result!.rejected.map((entry) => entry.path);
        for (const file of scenario.expect.rejected ?? []) expect(rejected).toContain(file);
        expect(result!.failed.map((entry) => entry.path).sort()).toEqual([...(scenario.expect.failed ?? [])].sort());
        for (const failure of result!.failed) expect(failure.message.length).toBeGreaterThan(10);
        expect(result!.written.sort()).toEqual([...(scenario.expect.written ?? [])].sort());
      }
      // Nothing outside outDir (and smol's own state) appeared or changed.
      expect(await snapshot(dir, outDir)).toEqual(before);
      await expect(stat('/tmp/smol-hostile-abs.txt')).rejects.toThrow();
      // No torn file: everything written is a whole answer.
      for (const file of (
        await listFiles(path.join(dir, outDir), outDir === '.' ? dir : path.join(dir, outDir))
      ).filter((entry) => !entry.includes(`${path.sep}.smol${path.sep}`))) {
        const text = await readFile(file, 'utf8');
        if (path.basename(file) !== 'prompt.md' && path.basename(file) !== 'smol.lock')
          expect(['ok\n', `${'y'.repeat(1000)}\n`]).toContain(text);
      }
      if (scenario.name.startsWith('symlinked file'))
        expect(await readFile(path.join(dir, 'precious.txt'), 'utf8')).toBe('precious\n');
      // No API key in anything smol wrote (outputs, lock, .smol/) or in what it reported.
      for (const file of await listFiles(dir))
        expect(await readFile(file, 'utf8').catch(() => '')).not.toContain(FAKE_KEY);
      expect(JSON.stringify(result ?? null) + String((error as Error | undefined)?.stack)).not.toContain(FAKE_KEY);
    } finally {
      await cleanup();
    }
  });
});

/** Every file outside outDir, .smol/ and smol.lock, with its content. */
async function snapshot(dir: string, outDir: string): Promise<Record<string, string>> {
  const result: Record<string, string> = {};
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    const full = path.join(entry.parentPath, entry.name);
    const relative = path.relative(dir, full);
    if (relative.startsWith('.smol') || relative === 'smol.lock' || entry.isDirectory()) continue;
    if (outDir !== '.' && (relative === outDir || relative.startsWith(`${outDir}/`))) continue;
    if (outDir === '.' && relative !== 'prompt.md') continue;
    result[relative] = entry.isSymbolicLink() ? 'symlink' : await readFile(full, 'utf8');
  }
  return result;
}

async function listFiles(root: string, only?: string): Promise<string[]> {
  const entries = await readdir(root, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => path.join(entry.parentPath, entry.name))
    .filter(
      (file) => only === undefined || (!file.includes(`${path.sep}.smol${path.sep}`) && path.dirname(file) === only),
    );
}
