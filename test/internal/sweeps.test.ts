import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeText, sha256 } from '../../src/internal/hash.js';
import { mapLimit } from '../../src/internal/map-limit.js';

describe('decodeText (a file read once, hashed without encoding it again)', () => {
  it('gives the text and sha256(text) for any bytes, valid UTF-8 or not', () => {
    const bytes = fc.oneof(
      fc.uint8Array({ maxLength: 64 }),
      fc.string({ unit: 'grapheme' }).map((text) => new Uint8Array(Buffer.from(text))),
      fc.constantFrom(
        Uint8Array.of(0xff),
        Uint8Array.of(0xef, 0xbb, 0xbf, 0x61),
        Uint8Array.of(0xed, 0xa0, 0x80),
        Uint8Array.of(0xc0, 0xaf),
      ),
    );
    fc.assert(
      fc.property(bytes, (raw) => {
        const buffer = Buffer.from(raw);
        const text = buffer.toString('utf8');
        expect(decodeText(buffer)).toEqual({ text, hash: sha256(text) });
      }),
      { numRuns: 500 },
    );
  });
});

describe('mapLimit', () => {
  it('keeps the order, never runs more than the limit at once, and runs every item', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.nat(3), { maxLength: 40 }),
        fc.integer({ min: 1, max: 8 }),
        async (delays, limit) => {
          let running = 0;
          let most = 0;
          const result = await mapLimit(delays, limit, async (delay) => {
            running += 1;
            most = Math.max(most, running);
            for (let tick = 0; tick < delay; tick += 1) await Promise.resolve();
            running -= 1;
            return delay * 2;
          });
          expect(result).toEqual(delays.map((delay) => delay * 2));
          expect(most).toBeLessThanOrEqual(limit);
        },
      ),
    );
  });

  it('runs the other items when one fails, then throws the first failure', async () => {
    const seen: number[] = [];
    const failing = mapLimit([1, 2, 3, 4, 5, 6], 2, async (item) => {
      seen.push(item);
      if (item === 2 || item === 3) throw new Error(`item ${item}`);
      return item;
    });
    await expect(failing).rejects.toThrow('item 2');
    expect(seen.sort()).toEqual([1, 2, 3, 4, 5, 6]);
  });
});
