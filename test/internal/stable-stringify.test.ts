import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { stableStringify } from '../../src/internal/hash.js';

/** stableStringify as it was before it was made faster (issue 15): the lock's bytes must not change. */
function reference(value: unknown, indent?: number): string {
  const sortKeys = (item: unknown): unknown => {
    if (Array.isArray(item)) return item.map(sortKeys);
    if (item !== null && typeof item === 'object') {
      return Object.fromEntries(
        Object.keys(item)
          .sort()
          .filter((key) => (item as Record<string, unknown>)[key] !== undefined)
          .map((key) => [key, sortKeys((item as Record<string, unknown>)[key])]),
      );
    }
    return item;
  };
  return JSON.stringify(sortKeys(value), null, indent);
}

describe('stableStringify', () => {
  it('writes what it always wrote, for any JSON value (integer-like, __proto__ and undefined members included)', () => {
    const key = fc.oneof(fc.string(), fc.constantFrom('10', '9', '0', '__proto__', 'constructor', 'toString', ''));
    const value = fc.letrec((tie) => ({
      node: fc.oneof(
        { depthSize: 'small' },
        fc.string(),
        fc.double(),
        fc.boolean(),
        fc.constant(null),
        fc.constant(undefined),
        fc.array(tie('node'), { maxLength: 4 }),
        fc.dictionary(key, tie('node'), { maxKeys: 5 }),
      ),
    })).node;
    fc.assert(
      fc.property(value, fc.constantFrom(undefined, 2), (input, indent) => {
        expect(stableStringify(input, indent)).toBe(reference(input, indent));
      }),
      { numRuns: 500 },
    );
  });
});
