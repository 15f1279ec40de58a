import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { estimatePromptTokens } from '../../src/llm/estimate.js';
import type { ChatMessage } from '../../src/llm/types.js';
import { tempDir } from '../helpers/cli.js';
import { runMain } from '../helpers/main-in-process.js';
import { createProject, specText, type TestProject } from '../helpers/project.js';
import { callsByStage, scriptedModel, type ScriptedApp } from '../helpers/scripted-model.js';

const APP: ScriptedApp = {
  files: {
    'a.txt': { purpose: 'first', content: 'alpha\n' },
    'b.txt': { purpose: 'second', content: 'bravo\n'.repeat(40) },
    'c.txt': { purpose: 'third', content: 'charlie\n' },
  },
};

/** A spec with `price:` (USD per million tokens), which specText cannot write. */
async function writePricedSpec(owner: TestProject): Promise<void> {
  await owner.write('prompt.md', specText().replace('outDir: app', 'outDir: app\nprice: { input: 3, output: 15 }'));
}

let project: TestProject | undefined;
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  await project?.close();
  project = undefined;
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

async function emptyRepo(): Promise<string> {
  const { dir, cleanup } = await tempDir();
  cleanups.push(cleanup);
  await mkdir(path.join(dir, '.git'));
  return dir;
}

describe('what the commands say', () => {
  it('counts agree with their nouns: 1 call, 1 change', async () => {
    project = await createProject(scriptedModel(() => ({ files: { 'a.txt': APP.files['a.txt']! } })));
    await project.writeSpec();
    const run = await project.smol(['run']);
    expect(run.code).toBe(0);
    expect(run.stderr).toContain('nothing written: 1 change staged.');
    expect(run.stderr).toMatch(/· 3 calls ·/);
    expect((await project.smol(['apply', '--yes'])).code).toBe(0);
    const regen = await project.smol(['regen', 'a.txt', '--yes']);
    expect(regen.code).toBe(0);
    expect(regen.stderr).toMatch(/· 1 call( \(\d cached\))? ·/);
    expect(`${run.stderr}${regen.stderr}`).not.toMatch(/\b1 (calls|changes|files)\b|\(s\)/);
  });

  it('a bad flag value says to fix the flag, not the spec', async () => {
    project = await createProject(scriptedModel(() => APP));
    await project.writeSpec();
    const result = await project.smol(['plan', '--temperature', '5']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--temperature');
    expect(result.stderr).toContain('Fix the flag and run again');
    expect(result.stderr).not.toContain('Fix the spec');
    expect(project.server.requests).toHaveLength(0);
  });

  it('a bad spec still says to fix the spec', async () => {
    project = await createProject(scriptedModel(() => APP));
    await project.writeSpec({ settings: { temperature: 5 } });
    const result = await project.smol(['plan']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('Fix the spec and run again');
  });
});

describe('smol plan: what a run would regenerate and spend', () => {
  it('summarises the files it lists, the planning calls and the estimate (not "no files")', async () => {
    project = await createProject(scriptedModel(() => APP));
    await writePricedSpec(project);
    const first = await project.smol(['plan']);
    expect(first.code).toBe(0);
    const summary = first.stderr.trim().split('\n').at(-1)!;
    expect(summary).toMatch(
      /^3 files: 3 to regenerate · planning: 2 calls · a run would make 3 calls: ~[\d.]+k? tokens in, ~[\d.]+k? out \(at most 24\.6k\) · ~\$[\d.]+ \(at most \$0\.\d+\)$/,
    );
    expect(first.stderr).not.toContain('no files');

    expect((await project.smol(['run', '--yes'])).code).toBe(0);
    const again = await project.smol(['plan']);
    expect(again.stderr.trim().split('\n').at(-1)).toBe(
      '3 files: 3 up to date · plan from smol.lock (no call) · a run would make no generation call',
    );
  });

  it('counts the prompt tokens from exactly what the generation calls then send', async () => {
    project = await createProject(scriptedModel(() => APP));
    await writePricedSpec(project);
    const plan = await project.smol(['plan', '--json']);
    const estimate = JSON.parse(plan.stdout).estimate as {
      calls: number;
      inputTokens: number;
      paths: string[];
      costUsd: number;
      maxCostUsd: number;
    };
    expect(estimate.calls).toBe(3);
    expect(estimate.paths.sort()).toEqual(['a.txt', 'b.txt', 'c.txt']);
    expect((await project.smol(['run', '--yes'])).code).toBe(0);
    const sent = project.server.requests.filter((request) => request.stage === 'code');
    const counted = sent.reduce(
      (sum, request) =>
        sum + estimatePromptTokens({ model: 'test-model', messages: request.body!.messages as ChatMessage[] }),
      0,
    );
    expect(estimate.inputTokens).toBe(counted);
    expect(estimate.costUsd).toBeLessThan(estimate.maxCostUsd);
  });

  it('says the cost is unknown when the model has no price', async () => {
    project = await createProject(scriptedModel(() => APP));
    await project.writeSpec();
    const result = await project.smol(['plan']);
    expect(result.stderr).toContain('cost unknown (no price for test-model: set `price:`)');
  });
});

describe('smol run --max-calls / --max-cost', () => {
  it('refuses before any generation call when the estimate is over the limit, with the numbers', async () => {
    project = await createProject(scriptedModel(() => APP));
    await writePricedSpec(project);
    const calls = await project.smol(['run', '--yes', '--max-calls', '2']);
    expect(calls.code).toBe(1);
    expect(calls.stderr).toMatch(
      /This run would make 3 calls: ~[\d.]+k? tokens in.*; --max-calls is 2\. Nothing was generated\./,
    );
    const cost = await project.smol(['run', '--yes', '--max-cost', '0.0001']);
    expect(cost.code).toBe(1);
    expect(cost.stderr).toMatch(
      /This run would make 3 calls: .* · ~\$[\d.]+ \(at most \$[\d.]+\); --max-cost is \$0\.0001\. Nothing was generated\./,
    );
    expect(callsByStage(project.server.requests).code).toBeUndefined();
    expect(await project.readOrUndefined('app/a.txt')).toBeUndefined();

    const within = await project.smol(['run', '--yes', '--max-calls', '3', '--max-cost', '$5']);
    expect(within.code).toBe(0);
    expect(callsByStage(project.server.requests).code).toBe(3);
  });

  it('refuses --max-cost without a price, and takes no nonsense amounts', async () => {
    project = await createProject(scriptedModel(() => APP));
    await project.writeSpec();
    const unpriced = await project.smol(['run', '--yes', '--max-cost', '1']);
    expect(unpriced.code).toBe(1);
    expect(unpriced.stderr).toContain('smol has no price for test-model');
    expect(unpriced.stderr).toContain('price:');
    const bad = await project.smol(['run', '--max-cost', 'lots']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--max-cost takes an amount of US dollars');
  });
});

describe('--quiet and --no-color', () => {
  it('--quiet drops progress and notes, keeps results, errors and their hints', async () => {
    project = await createProject(scriptedModel(() => APP));
    await project.writeSpec();
    const run = await project.smol(['--quiet', 'run', '--yes']);
    expect(run.code).toBe(0);
    expect(run.stderr).toBe('');
    expect(await project.read('app/a.txt')).toBe('alpha\n');
    const status = await project.smol(['status', '-q']);
    expect(status.stdout).toMatch(/^\d+ files?, \d+ clean/);
    const dir = await emptyRepo();
    const missing = await runMain(['status', '--quiet'], { cwd: dir });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('No prompt.md found');
    expect(missing.stderr).toContain('smol init');
  });

  it('--no-color wins over FORCE_COLOR', async () => {
    const dir = await emptyRepo();
    const colored = await runMain(['status'], { cwd: dir, env: { FORCE_COLOR: '1' } });
    expect(colored.stderr).toContain('\u001b[');
    const plain = await runMain(['status', '--no-color'], { cwd: dir, env: { FORCE_COLOR: '1' } });
    expect(plain.stderr).toContain('No prompt.md found');
    expect(plain.stderr).not.toContain('\u001b[');
  });
});
