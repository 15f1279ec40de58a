import { describe, expect, it } from 'vitest';
import { closestName, editDistance, renderValue } from '../../src/spec/render.js';
import { keyLineLocator } from '../../src/spec/lines.js';

describe('renderValue', () => {
  it('renders values as short JSON', () => {
    expect(renderValue('gpt')).toBe('"gpt"');
    expect(renderValue(3)).toBe('3');
    expect(renderValue(null)).toBe('null');
    expect(renderValue(undefined)).toBe('nothing');
    expect(renderValue({ rpm: 5 })).toBe('{"rpm":5}');
    expect(renderValue(new Date('2024-05-01T00:00:00Z'))).toBe('date 2024-05-01');
  });

  it('redacts secret-looking strings, also inside lists and mappings', () => {
    const secret = 'sk-ant-api03-AAAAAAAAAAAAAAAA';
    expect(renderValue(secret)).not.toContain('AAAA');
    expect(renderValue([secret, { key: secret }])).not.toContain('AAAA');
    expect(renderValue(`prefix ${secret}`)).toContain('redacted');
  });

  it('shortens long strings and long structures', () => {
    expect(renderValue('y'.repeat(81))).toBe(`"${'y'.repeat(24)}…" [81 characters]`);
    expect(renderValue('y'.repeat(80))).toBe(`"${'y'.repeat(80)}"`);
    expect(renderValue(Array.from({ length: 100 }, (_, index) => index)).length).toBeLessThanOrEqual(100);
  });
});

describe('closestName', () => {
  const keys = ['model', 'provider', 'baseURL', 'concurrency', 'maxTokens', 'rpm', 'tpm'];
  it('suggests likely typos only', () => {
    expect(closestName('modle', keys)).toBe('model');
    expect(closestName('baseurl', keys)).toBe('baseURL');
    expect(closestName('concurency', keys)).toBe('concurrency');
    expect(closestName('max_tokens', keys)).toBe('maxTokens');
    expect(closestName('rpn', keys)).toBe('rpm');
    expect(closestName('colour', keys)).toBeUndefined();
    expect(closestName('x', [])).toBeUndefined();
  });

  it('counts edits', () => {
    expect(editDistance('kitten', 'sitting')).toBe(3);
    expect(editDistance('ab', 'ba')).toBe(1);
    expect(editDistance('', 'abc')).toBe(3);
  });
});

describe('keyLineLocator', () => {
  const frontmatter = [
    '',
    'model: m',
    'rateLimit:',
    '  rpm: 1',
    '  "tpm": 2',
    'include:',
    '- a',
    '- b',
    'budget: { usd: 1 }',
  ];
  const lineOf = keyLineLocator(frontmatter, 1);
  it('finds top-level, nested, quoted and list-item keys', () => {
    expect(lineOf(['model'])).toBe(2);
    expect(lineOf(['rateLimit', 'rpm'])).toBe(4);
    expect(lineOf(['rateLimit', 'tpm'])).toBe(5);
    expect(lineOf(['include', 1])).toBe(8);
  });
  it('falls back to the parent key, then to line 1', () => {
    expect(lineOf(['budget', 'usd'])).toBe(9);
    expect(lineOf(['rateLimit', 'nope'])).toBe(3);
    expect(lineOf(['nope'])).toBe(1);
  });
});
