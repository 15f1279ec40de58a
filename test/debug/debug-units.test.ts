import { describe, expect, it } from 'vitest';
import { parseFixes } from '../../src/debug/parse-fixes.js';
import { rankByRelevance } from '../../src/debug/relevant-files.js';

describe('parseFixes', () => {
  it('reads each `### path` heading with its fenced block, and reports unusable ones', () => {
    const answer = [
      'Fixed the import.',
      '### `src/a.ts`',
      '```ts',
      'export const a = 1;',
      '```',
      '### `README.md`',
      '````md',
      '# Title',
      '```sh',
      'npm test',
      '```',
      '````',
      '### `src/b.ts`',
      'No code here.',
      '### `src/c.ts`',
      '```ts',
      'export const c =',
    ].join('\n');
    const { fixes, problems } = parseFixes(answer);
    expect(fixes).toEqual([
      { path: 'src/a.ts', content: 'export const a = 1;\n' },
      { path: 'README.md', content: '# Title\n```sh\nnpm test\n```\n' },
    ]);
    expect(problems).toEqual([
      'src/b.ts: no code block after the heading',
      'src/c.ts: the code block never closes (the answer looks cut off)',
    ]);
  });
});

describe('rankByRelevance', () => {
  const files = [
    { path: 'src/index.ts', dependsOn: ['src/server.ts'] },
    { path: 'src/server.ts', dependsOn: ['src/db.ts'] },
    { path: 'src/db.ts', dependsOn: [] },
    { path: 'src/util.ts', dependsOn: [] },
  ];

  it('puts files named in the error first (full paths before bare names), then their dependencies, then the rest', () => {
    const error = 'TypeError: x is undefined\n    at handler (/app/src/server.ts:12:5)\n    at db.ts:3';
    expect(rankByRelevance(error, files)).toEqual(['src/server.ts', 'src/db.ts', 'src/index.ts', 'src/util.ts']);
  });
});
