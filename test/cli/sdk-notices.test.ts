import { afterEach, describe, expect, it, vi } from 'vitest';
import { anthropicReplyFrom, startAnthropicServer, type MockAnthropicServer } from '../helpers/anthropic-server.js';
import { runMain } from '../helpers/main-in-process.js';
import { createProject, FAKE_KEY, type TestProject } from '../helpers/project.js';
import { scriptedModel, type ScriptedApp } from '../helpers/scripted-model.js';

const APP: ScriptedApp = {
  files: Object.fromEntries(Array.from({ length: 6 }, (_, index) => [`f${index}.txt`, { content: `file ${index}\n` }])),
};

let project: TestProject | undefined;
let anthropic: MockAnthropicServer | undefined;
afterEach(async () => {
  vi.restoreAllMocks();
  await anthropic?.close();
  await project?.close();
  anthropic = undefined;
  project = undefined;
});

describe('what the provider SDKs print', () => {
  it("a deprecated Claude model: the SDK's own warning (one per call) is replaced by one line in smol's words", async () => {
    const warn = vi.spyOn(console, 'warn');
    const model = scriptedModel(() => APP);
    anthropic = await startAnthropicServer({ handler: (request) => anthropicReplyFrom(model(request)) });
    project = await createProject(() => ({ status: 500 }));
    // claude-sonnet-4-5 is in the SDK's list of deprecated models (end of life 2026-11-30).
    await project.writeSpec({ settings: { model: 'claude-sonnet-4-5', provider: 'anthropic' } });
    const result = await runMain(['run', '--yes'], {
      cwd: project.dir,
      env: { ANTHROPIC_API_KEY: FAKE_KEY, ANTHROPIC_BASE_URL: anthropic.url },
    });
    expect(result.stderr).not.toContain('bug');
    expect(result.code).toBe(0);
    expect(anthropic.requests).toHaveLength(8);
    expect(warn).not.toHaveBeenCalled();
    const notices = result.stderr.split('\n').filter((line) => line.includes('deprecated'));
    expect(notices).toEqual([
      'warning claude-sonnet-4-5 is deprecated: Anthropic retires it on November 30th, 2026. Set `model:` to a current model (https://docs.anthropic.com/en/docs/resources/model-deprecations lists them).',
    ]);
    expect(result.stderr).not.toContain('Please migrate');
  });

  it('a current model: nothing to say', async () => {
    const warn = vi.spyOn(console, 'warn');
    const model = scriptedModel(() => APP);
    anthropic = await startAnthropicServer({ handler: (request) => anthropicReplyFrom(model(request)) });
    project = await createProject(() => ({ status: 500 }));
    await project.writeSpec({ settings: { model: 'claude-sonnet-5-5', provider: 'anthropic' } });
    const result = await runMain(['run', '--yes'], {
      cwd: project.dir,
      env: { ANTHROPIC_API_KEY: FAKE_KEY, ANTHROPIC_BASE_URL: anthropic.url },
    });
    expect(result.code).toBe(0);
    expect(warn).not.toHaveBeenCalled();
    expect(result.stderr).not.toContain('deprecated');
    // Priced from the table: claude-sonnet-5-5 is $2 / $10 per million.
    expect(result.stderr).toMatch(/· \$0\.\d+ ·/);
  });
});
