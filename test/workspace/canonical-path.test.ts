import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalPath, checkOutputPath } from '../../src/workspace/output-path.js';

const segment = fc.constantFrom('a', 'b', 'src', '.', '', 'x.ts', '..');
const rawPath = fc
  .tuple(
    fc.array(segment, { minLength: 1, maxLength: 6 }),
    fc.array(fc.constantFrom('/', '\\', '//'), { maxLength: 6 }),
  )
  .map(([segments, separators]) =>
    segments.map((part, index) => `${index === 0 ? '' : (separators[index] ?? '/')}${part}`).join(''),
  );

describe('canonicalPath', () => {
  it('spells an accepted path as checkOutputPath does, and is idempotent (property)', () => {
    fc.assert(
      fc.property(rawPath, (raw) => {
        const check = checkOutputPath(raw);
        if (check.ok) expect(canonicalPath(raw)).toBe(check.path);
        expect(canonicalPath(canonicalPath(raw))).toBe(canonicalPath(raw));
      }),
    );
  });

  it('turns backslashes into slashes and drops empty and `.` segments only', () => {
    expect(canonicalPath('./src//a\\b/./c.ts')).toBe('src/a/b/c.ts');
    expect(canonicalPath('a/../b')).toBe('a/../b');
  });
});
