import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isInside, isInsideNormalised } from '../../src/workspace/inside.js';

// The path checks compare normalised absolute paths by prefix (issue 15); the answer must stay isInside's.
const segment = fc.oneof(
  fc.constantFrom('a', 'b', 'ab', '..a', '...', '.a', 'a..', '-', ' '),
  fc.stringMatching(/^[a-z.]{1,4}$/),
);
const absolute = fc.array(segment, { maxLength: 5 }).map((segments) => path.resolve('/', ...segments));

describe('isInsideNormalised', () => {
  it('answers as isInside for absolute, normalised paths', () => {
    fc.assert(
      fc.property(absolute, fc.array(segment, { maxLength: 3 }), fc.boolean(), (root, below, unrelated) => {
        const candidate = unrelated ? path.resolve('/', ...below) : path.join(root, ...below);
        expect(isInsideNormalised(root, candidate)).toBe(isInside(root, candidate));
        expect(isInsideNormalised(candidate, root)).toBe(isInside(candidate, root));
      }),
      { numRuns: 1000 },
    );
  });

  it('falls back to isInside for other spellings', () => {
    expect(isInsideNormalised('relative/root', path.resolve('relative/root/a'))).toBe(
      isInside('relative/root', path.resolve('relative/root/a')),
    );
    expect(isInsideNormalised('/r', '/r/..x')).toBe(false);
    expect(isInsideNormalised('/', '/a')).toBe(true);
  });
});
