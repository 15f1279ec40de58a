import { describe, expect, it } from 'vitest';
import {
  describeReason,
  describeReasons,
  hasReason,
  staleReasonSchema,
  type StaleReason,
} from '../../src/engine/reasons.js';

/** Every kind of reason, once: the tagged union code branches on, rendered to words only at the edge. */
const ALL: StaleReason[] = [
  { kind: 'new' },
  { kind: 'forced' },
  { kind: 'settings-changed' },
  { kind: 'shared-plan-changed' },
  { kind: 'plan-section-changed' },
  { kind: 'spec-section-changed' },
  { kind: 'file-list-changed' },
  { kind: 'dependency-changed', path: 'src/util.ts' },
  { kind: 'inputs-changed' },
  { kind: 'removed-from-plan' },
  { kind: 'out-dir-changed', from: 'old-app' },
  { kind: 'fix' },
];

describe('stale reasons as data', () => {
  it('covers every kind the schema knows', () => {
    expect(new Set(ALL.map((reason) => reason.kind))).toEqual(
      new Set(staleReasonSchema.options.map((option) => option.shape.kind.value)),
    );
  });

  it('renders each kind to its own words, naming the path or folder it carries', () => {
    const words = ALL.map(describeReason);
    expect(new Set(words).size).toBe(ALL.length);
    for (const text of words) expect(text).toMatch(/^[a-z]/);
    expect(describeReason({ kind: 'dependency-changed', path: 'src/util.ts' })).toContain('src/util.ts');
    expect(describeReason({ kind: 'out-dir-changed', from: 'old-app' })).toContain('old-app');
    expect(describeReasons([{ kind: 'forced' }, { kind: 'dependency-changed', path: 'a.ts' }])).toBe(
      'forced, dependency a.ts changed',
    );
    expect(describeReasons([])).toBe('');
  });

  it('reads back what it wrote (staging and journals store reasons as JSON) and refuses anything else', () => {
    for (const reason of ALL) expect(staleReasonSchema.parse(JSON.parse(JSON.stringify(reason)))).toEqual(reason);
    for (const bad of [
      { kind: 'because' },
      { kind: 'dependency-changed' },
      { kind: 'out-dir-changed', from: 3 },
      'new',
      null,
      { reason: 'new' },
    ]) {
      expect(staleReasonSchema.safeParse(bad).success, JSON.stringify(bad)).toBe(false);
    }
  });

  it('hasReason finds a kind, whatever it carries', () => {
    expect(hasReason(ALL, 'dependency-changed')).toBe(true);
    expect(hasReason([{ kind: 'new' }], 'forced')).toBe(false);
    expect(hasReason([], 'new')).toBe(false);
  });
});
