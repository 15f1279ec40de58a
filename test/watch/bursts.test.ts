import { open, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import type { Watched } from '../helpers/daemon.js';
import { createProject, FAKE_KEY, specText, type TestProject } from '../helpers/project.js';
import { scriptedModel, type ScriptedApp } from '../helpers/scripted-model.js';
import { startInProcess } from '../helpers/watch-in-process.js';

/**
 * Issue 19 end to end: bursts of saves against the real chokidar watcher and the real CLI (`smol watch
 * --json` through `main`, `apply: auto`), then `smol check` after each burst. Saves are plain writes,
 * writes where the editor truncates first and writes a little later (the daemon can read the empty file in
 * between), and editors' atomic saves (a temp file renamed over the spec); some are broken specs; the last
 * is valid.
 */

type SaveKind = 'plain' | 'truncate-then-write' | 'atomic';
interface Save {
  kind: SaveKind;
  broken: boolean;
  /** Time until the next save (and, for truncate-then-write, between the truncation and the write). */
  gapMs: number;
}

const save: fc.Arbitrary<Save> = fc.record({
  kind: fc.constantFrom<SaveKind>('plain', 'truncate-then-write', 'atomic'),
  broken: fc.boolean(),
  gapMs: fc.integer({ min: 0, max: 60 }),
});
const burst = fc.array(save, { minLength: 5, maxLength: 25 });

const BROKEN = [
  '---\nmodel: test-model\napply: auto\nconcurrency: lots\n---\nText\n',
  '---\napply: auto\n---\nNo model.\n',
  '---\nmodel: [unclosed\n',
  '',
];

function makeApp(): ScriptedApp {
  return { files: { 'a.txt': { section: 'A.', content: 'a\n' }, 'b.txt': { section: 'B.', content: 'b\n' } } };
}

const valid = (sentence: string): string =>
  specText({ settings: { apply: 'auto' }, body: `# Demo\n\n${sentence}`, sections: { 'a.txt': 'A.', 'b.txt': 'B.' } });
const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function writeSpec(dir: string, kind: SaveKind, text: string, gapMs: number, index: number): Promise<void> {
  const file = path.join(dir, 'prompt.md');
  if (kind === 'plain') return writeFile(file, text);
  if (kind === 'atomic') {
    const temp = path.join(dir, `.prompt.md.${index}.tmp`);
    await writeFile(temp, text);
    return rename(temp, file);
  }
  const handle = await open(file, 'w');
  try {
    // The gap is part of the scenario (an editor between truncating and writing), not a wait for an event.
    await pause(gapMs);
    await handle.writeFile(text);
  } finally {
    await handle.close();
  }
}

let project: TestProject | undefined;
let daemon: Watched | undefined;
afterEach(async () => {
  await daemon?.stop();
  daemon = undefined;
  await project?.close();
  project = undefined;
});

describe('smol watch converges after bursts of saves (issue 19)', () => {
  it('runs on the last save of every burst: `smol check` passes after each', async () => {
    project = await createProject(scriptedModel(makeApp));
    const p = project;
    await p.write('prompt.md', valid('Version 0.'));
    daemon = startInProcess(['watch', '--json', '--provider', 'openai-compatible', '--base-url', p.server.url], {
      cwd: p.dir,
      env: { OPENAI_API_KEY: FAKE_KEY },
    });
    const watched = daemon;
    await watched.waitFor((event) => event.type === 'run-result');
    const bursts = fc.sample(burst, { numRuns: 8, seed: 1919 });
    let counter = 0;
    for (const [number, saves] of bursts.entries()) {
      const mark = watched.events.length;
      for (const [index, step] of saves.entries()) {
        counter += 1;
        const last = index === saves.length - 1;
        const text =
          step.broken && !last
            ? BROKEN[counter % BROKEN.length]!
            : valid(`Burst ${number}, save ${index}${last ? ', the last' : ''}.`);
        await writeSpec(p.dir, step.kind, text, step.gapMs, counter);
        if (!last) await pause(step.gapMs);
      }
      const marker = `Burst ${number}, save ${saves.length - 1}, the last.`;
      await watched.waitForConvergence(
        async () => (await p.read('smol.lock')).includes(marker) && (await p.smol(['check'])).code === 0,
        { from: mark },
      );
    }
    const events = watched.events;
    expect(events.filter((event) => event.type === 'run-error')).toEqual([]);
    // A run is cancelled only by a change, and a run always follows a cancelled one. (A run cancelled before
    // it began says no `run-start`, test/engine/run-start.test.ts: the change is then after the previous one.)
    let lastStart = 0;
    events.forEach((event, index) => {
      if (event.type === 'run-start') lastStart = index;
      if (event.type !== 'run-cancelled') return;
      expect(events.slice(lastStart, index).some((earlier) => earlier.type === 'change')).toBe(true);
      expect(events.slice(index).some((later) => later.type === 'run-start')).toBe(true);
    });
  }, 120_000);
});
