import { describe, expect, it } from 'vitest';
import { mergeThreeWay } from '../../src/workspace/merge.js';

describe('mergeThreeWay', () => {
  const base = 'line 1\nline 2\nline 3\nline 4\nline 5\n';

  it('keeps a hand edit and a regeneration that touch different lines', () => {
    const ours = base.replace('line 1', 'line 1 (edited by hand)');
    const theirs = base.replace('line 5', 'line 5 (regenerated)');
    expect(mergeThreeWay(base, ours, theirs)).toEqual({
      clean: true,
      content: 'line 1 (edited by hand)\nline 2\nline 3\nline 4\nline 5 (regenerated)\n',
    });
  });

  it('reports a conflict with markers when both change the same line', () => {
    const result = mergeThreeWay(base, base.replace('line 3', 'mine'), base.replace('line 3', 'theirs'));
    expect(result.clean).toBe(false);
    if (!result.clean) {
      expect(result.conflicts).toBe(1);
      expect(result.withMarkers).toContain('<<<<<<< yours (on disk)');
      expect(result.withMarkers).toContain('mine');
      expect(result.withMarkers).toContain('theirs');
    }
  });
});
