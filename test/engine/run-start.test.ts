import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { RunEvent } from '../../src/engine/events.js';
import { runPipeline } from '../../src/engine/run.js';
import { loadSpec } from '../../src/spec/load.js';
import { renderSpecFile, initialSpec, scriptedProvider } from '../model/app.js';

/**
 * A run cancelled before it began never says `run-start` (issue 17.8): in watch mode a save is reported
 * (`change`) and cancels the run at once, so a `run-start` after it would read as a run the save
 * cancelled although the save came first.
 */
let folder: string | undefined;
afterEach(async () => {
  if (folder !== undefined) await rm(folder, { recursive: true, force: true });
  folder = undefined;
});

describe('run-start', () => {
  it('is not emitted when the signal aborts while the run opens its state', async () => {
    folder = await mkdtemp(path.join(os.tmpdir(), 'smol-run-start-'));
    await writeFile(path.join(folder, 'prompt.md'), renderSpecFile(initialSpec()));
    const spec = await loadSpec(path.join(folder, 'prompt.md'));
    const controller = new AbortController();
    const events: RunEvent[] = [];
    const provider = scriptedProvider();
    const running = runPipeline({
      spec,
      provider,
      mode: 'apply',
      signal: controller.signal,
      onEvent: (event) => events.push(event),
    });
    // The run is past its first await (the process lock, the journal, the lock): a save lands now.
    controller.abort();
    await expect(running).rejects.toThrow();
    expect(events.map((event) => event.type)).not.toContain('run-start');
    expect(provider.calls).toHaveLength(0);
  });

  it('is emitted when nothing cancels the run', async () => {
    folder = await mkdtemp(path.join(os.tmpdir(), 'smol-run-start-'));
    await writeFile(path.join(folder, 'prompt.md'), renderSpecFile(initialSpec()));
    const spec = await loadSpec(path.join(folder, 'prompt.md'));
    const events: RunEvent[] = [];
    await runPipeline({ spec, provider: scriptedProvider(), mode: 'apply', onEvent: (event) => events.push(event) });
    expect(events[0]?.type).toBe('run-start');
  });
});
