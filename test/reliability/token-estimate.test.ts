import { createRequire } from 'node:module';
import fc from 'fast-check';
import { Tiktoken, type TiktokenBPE } from 'js-tiktoken/lite';
import { describe, expect, it } from 'vitest';
import { isAbortError } from '../../src/llm/errors.js';
import { estimateTokens, estimateTokensAsync } from '../../src/llm/estimate.js';

// Issue 13.8: js-tiktoken is quadratic on long runs of one character class (16k `a`: a minute; 8k CJK
// characters without spaces: as long), blocking the event loop so Ctrl+C waited. Counting must be
// linear (bounded work per text) and interruptible. No timing is asserted: a quadratic count would not
// finish within the test timeout; the figures are in the README's Reliability table.

const require = createRequire(import.meta.url);
const exact = new Tiktoken(require('js-tiktoken/ranks/cl100k_base') as TiktokenBPE);

describe('the token estimate on hostile texts (13.8)', () => {
  it.each([
    ['16k `a`', 'a'.repeat(16_000)],
    ['8k CJK characters without spaces', '漢字仮名交じり文'.repeat(1000)],
    ['200k `[`', '['.repeat(200_000)],
    ['100k newlines', '\n'.repeat(100_000)],
    ['1 MB of one letter', 'a'.repeat(1_000_000)],
    ['1 MB of CJK', '漢字仮名交じり文'.repeat(125_000)],
    ['100k combining marks', `a${'\u0301'.repeat(100_000)}`],
  ])('%s is counted, and the count is sane', (_name, text) => {
    const count = estimateTokens(text, 'qwen2.5-coder');
    expect(count).toBeGreaterThan(0);
    // A token is at least a byte.
    expect(count).toBeLessThanOrEqual(Buffer.byteLength(text));
  });

  it('property: ordinary text (no run of 25 letters, spaces or symbols) is counted exactly as js-tiktoken counts it', () => {
    const word = fc.stringMatching(/^[a-zA-Z]{1,12}$/);
    const separator = fc.constantFrom(' ', '\n', ', ', '.\n\n', '(', ') ', ' = ', '; ', '\t', '  ');
    const text = fc
      .array(fc.tuple(word, separator), { maxLength: 400 })
      .map((parts) => parts.map(([a, b]) => a + b).join(''));
    fc.assert(
      fc.property(text, (sample) => {
        expect(estimateTokens(sample, 'gpt-4')).toBe(
          sample === '' ? 0 : Math.max(1, exact.encode(sample, [], []).length),
        );
      }),
      { numRuns: 200 },
    );
  });

  it('long runs are estimated close to the exact count: letters within 35%, symbols and spaces within a factor of 2.5', () => {
    for (const text of ['a'.repeat(600), 'ab'.repeat(300), '漢字仮名交じり文'.repeat(40), 'x'.repeat(30)]) {
      const truth = exact.encode(text, [], []).length;
      expect(Math.abs(estimateTokens(text, 'gpt-4') - truth) / truth).toBeLessThan(0.35);
    }
    for (const text of ['='.repeat(500), ' '.repeat(500), '\n'.repeat(500), '-*'.repeat(200)]) {
      const ratio = estimateTokens(text, 'gpt-4') / exact.encode(text, [], []).length;
      expect(ratio).toBeGreaterThan(0.5);
      expect(ratio).toBeLessThan(2.5);
    }
  });

  it('the async count lets the event loop run between windows, and an abort (Ctrl+C) stops it at once', async () => {
    const text = 'all work and no play makes jack a dull boy\n'.repeat(2000);
    const controller = new AbortController();
    let turns = 0;
    const counting = estimateTokensAsync(text, 'gpt-4', controller.signal, 0);
    // Runs at the counter's first turn of the event loop: the abort lands mid-count.
    setImmediate(() => {
      turns += 1;
      controller.abort();
    });
    const error = await counting.catch((caught: unknown) => caught);
    expect(turns).toBe(1);
    expect(isAbortError(error)).toBe(true);
    expect(await estimateTokensAsync(text, 'gpt-4', undefined, 0)).toBe(estimateTokens(text, 'gpt-4'));
  });
});
