import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SpecError, isSmolError } from '../../src/errors.js';
import { createFakeProvider } from '../../src/llm/fake.js';
import { parseSpecText } from '../../src/spec/load.js';
import { createDaemon, type DaemonEvent } from '../../src/watch/daemon.js';
import { tempDir } from '../helpers/cli.js';

const KEYS = [
  'model',
  'provider',
  'baseURL',
  'outDir',
  'concurrency',
  'temperature',
  'maxTokens',
  'rateLimit',
  'include',
  'ignore',
  'apply',
  'context',
  'checks',
  'budget',
  'price',
  'maxFiles',
  'bogus',
  'modle',
];
const yamlValue = fc.oneof(
  fc.integer({ min: -5, max: 100 }).map(String),
  fc.double({ noNaN: true, min: -3, max: 3 }).map(String),
  fc.constantFrom('gpt-4o', 'openai', 'ollama', 'nope', 'auto', 'review', 'full', 'true', 'null', '~', '""', "'x'"),
  fc.constantFrom(
    '[a, b]',
    '[]',
    '{ rpm: 5 }',
    '{ usd: -1 }',
    '{ input: 1, output: 2 }',
    '{ a: [1, { b: c }] }',
    'http://127.0.0.1:1/v1',
    'ftp://x',
  ),
  fc.string({ maxLength: 12 }),
);
const frontmatterLine = fc.oneof(
  fc.tuple(fc.constantFrom(...KEYS), yamlValue).map(([key, value]) => `${key}: ${value}`),
  fc.string({ maxLength: 30 }),
  fc.constantFrom(
    '  nested: 1',
    '- item',
    ': no key',
    'key: [unclosed',
    'key: "unterminated',
    '\t tab: 1',
    '---',
    '...',
  ),
);
const bodyLine = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.constantFrom(
    '## `src/a.ts`',
    '## `src/a.ts`',
    '## `../x`',
    '## `a b`',
    '```',
    '~~~',
    '# Title',
    '## Heading',
    '### `x.ts`',
    '',
  ),
);
/** A spec whose settings are all valid, with any body: most load, so the property sees both outcomes. */
const validSetting = fc.oneof(
  fc.integer({ min: 1, max: 64 }).map((value) => `concurrency: ${value}`),
  fc.double({ noNaN: true, min: 0, max: 2 }).map((value) => `temperature: ${value}`),
  fc.integer({ min: 1, max: 100_000 }).map((value) => `maxTokens: ${value}`),
  fc.constantFrom(
    'apply: auto',
    'apply: review',
    'outDir: app',
    'outDir: src/gen',
    'include: []',
    'ignore: ["assets/**"]',
  ),
);
const validSpec = fc
  .tuple(
    fc.constantFrom('gpt-4o', 'qwen2.5-coder:7b', 'm'),
    fc.uniqueArray(validSetting, { maxLength: 4, selector: (line) => line.split(':')[0] }),
    fc.array(bodyLine, { maxLength: 15 }),
  )
  .map(
    ([model, settings, body]) =>
      `---\nmodel: ${model}\n${settings.map((line) => `${line}\n`).join('')}---\n${body.join('\n')}`,
  );
const specText = fc.oneof(
  validSpec,
  fc
    .tuple(fc.array(frontmatterLine, { maxLength: 12 }), fc.array(bodyLine, { maxLength: 15 }), fc.boolean())
    .map(([front, body, closed]) => `---\n${front.join('\n')}\n${closed ? '---\n' : ''}${body.join('\n')}`),
  fc.string({ maxLength: 200 }),
  fc.string({ unit: 'binary', maxLength: 120 }),
);

describe('broken specs (property-based)', () => {
  it('every input gives a valid spec or a SpecError whose every issue has a key, a message and a line', async () => {
    let valid = 0;
    let invalid = 0;
    await fc.assert(
      fc.asyncProperty(specText, async (text) => {
        try {
          const spec = await parseSpecText(text, { file: '/tmp/smol-prop/prompt.md' });
          expect(spec.settings.model.length).toBeGreaterThan(0);
          valid += 1;
        } catch (error) {
          if (!(error instanceof SpecError)) {
            // Only user errors are allowed, e.g. a missing include; a bug would have no code.
            expect(isSmolError(error), String((error as Error)?.stack)).toBe(true);
            invalid += 1;
            return;
          }
          invalid += 1;
          expect(error.issues.length).toBeGreaterThan(0);
          for (const issue of error.issues) {
            expect(issue.key.length).toBeGreaterThan(0);
            expect(issue.message.length).toBeGreaterThan(0);
            expect(Number.isInteger(issue.line)).toBe(true);
            expect(issue.line).toBeGreaterThanOrEqual(1);
            expect(issue.line).toBeLessThanOrEqual(text.split('\n').length + 1);
          }
        }
      }),
      { numRuns: 600, seed: 20261124 },
    );
    // Both outcomes were exercised (each generator is a quarter of the inputs; most valid specs load).
    expect(valid).toBeGreaterThanOrEqual(60);
    expect(invalid).toBeGreaterThanOrEqual(60);
  });

  it('mutations of a valid spec never crash the loader', async () => {
    const base =
      '---\nmodel: gpt-4o\nconcurrency: 4\nrateLimit: { rpm: 10 }\ninclude: []\n---\n# App\n\nText.\n\n## `src/a.ts`\nA.\n';
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: base.length }),
        fc.integer({ min: 0, max: 8 }),
        fc.string({ maxLength: 6 }),
        async (at, cut, insert) => {
          const mutated = base.slice(0, at) + insert + base.slice(Math.min(base.length, at + cut));
          try {
            await parseSpecText(mutated, { file: '/tmp/smol-prop/prompt.md' });
          } catch (error) {
            expect(isSmolError(error), String((error as Error)?.stack)).toBe(true);
          }
        },
      ),
      { numRuns: 400, seed: 7 },
    );
  });
});

describe('the daemon survives broken specs', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeAll(async () => ({ dir, cleanup } = await tempDir('smol-daemon-prop-')));
  afterAll(async () => cleanup());

  // Issue 19: this test used to pass only with a pause before the last save. The daemon now converges on
  // the last save whatever came before it, so the last save follows the burst directly.
  it('keeps watching through 40 random saves and runs the good spec saved right after them', async () => {
    const events: DaemonEvent[] = [];
    const listeners = new Set<() => void>();
    const specFile = path.join(dir, 'prompt.md');
    const good = '---\nmodel: m\napply: auto\n---\nA program.\n';
    await writeFile(specFile, good);
    const provider = createFakeProvider((request) =>
      request.stage === 'plan'
        ? { text: '## Global\n\nx\n\n### `a.txt`\n\nA.' }
        : request.stage === 'files'
          ? {
              toolCalls: [
                {
                  name: 'submit_file_list',
                  arguments: JSON.stringify({ files: [{ path: 'a.txt', purpose: 'a', dependsOn: [] }] }),
                },
              ],
            }
          : { text: '```\na\n```' },
    );
    const onEvent = (event: DaemonEvent): void => {
      events.push(event);
      for (const listener of listeners) listener();
    };
    const daemon = createDaemon({
      specFile: 'prompt.md',
      cwd: dir,
      env: {},
      onEvent,
      debounceMs: 20,
      createProvider: () => ({ provider, description: 'fake' }),
    });
    /** Resolves when an event at or after `from` matches (no polling, no fixed sleep). */
    const next = (predicate: (event: DaemonEvent) => boolean, from: number): Promise<number> =>
      new Promise((resolve, reject) => {
        const check = (): void => {
          const index = events.slice(from).findIndex(predicate);
          if (index === -1) return;
          listeners.delete(check);
          clearTimeout(timer);
          resolve(from + index);
        };
        const timer = setTimeout(() => {
          listeners.delete(check);
          reject(new Error(`no matching event; got ${events.map((event) => event.type).join(', ')}`));
        }, 20_000);
        listeners.add(check);
        check();
      });
    try {
      await daemon.ready;
      await next((event) => event.type === 'run-result', 0);
      const mark = events.length;
      await writeFile(specFile, '---\nmodel: m\nconcurrency: lots\n---\n');
      await next((event) => event.type === 'spec-error', mark);
      // Bursts of saves 30 ms apart, as an editor makes them (the gaps are input, not waits), and every
      // fourth save waits until the daemon has caught up with it, so that broken specs do get read.
      for (const [index, sample] of fc.sample(specText, { numRuns: 40, seed: 99 }).entries()) {
        const before = events.length;
        await writeFile(specFile, sample);
        if (index % 4 === 3) await next((event) => event.type === 'watch-idle', before);
        else await new Promise((resolve) => setTimeout(resolve, 30));
      }
      await writeFile(specFile, `${good}\nFinal.\n`);
      // Converged: idle, with the last save applied (smol.lock records the spec it was made from).
      let from = mark;
      for (;;) {
        from = (await next((event) => event.type === 'watch-idle', from)) + 1;
        const lock = await readFile(path.join(dir, 'smol.lock'), 'utf8').catch(() => '');
        if (lock.includes('Final.')) break;
      }
      expect(events.slice(mark).some((event) => event.type === 'spec-error')).toBe(true);
      expect(
        events.filter((event) => event.type === 'run-error' && /bug|TypeError|ReferenceError/.test(event.message)),
      ).toEqual([]);
      // Every cancelled run had a change behind it and a run after it.
      events.forEach((event, index) => {
        if (event.type !== 'run-cancelled') return;
        expect(events.slice(0, index).some((earlier) => earlier.type === 'change')).toBe(true);
        expect(events.slice(index).some((later) => later.type === 'run-start')).toBe(true);
      });
    } finally {
      await daemon.close();
    }
  }, 60_000);
});
