import { describe, expect, it } from 'vitest';
import { parseSections } from '../../src/spec/sections.js';

const lines = (...text: string[]): string => text.join('\n');

describe('parseSections', () => {
  it('splits per-file sections from the global text, with spec-file line numbers', () => {
    const body = lines(
      'A todo app.', // 10
      '', // 11
      '## `src/server.ts`', // 12
      'An HTTP server.', // 13
      '', // 14
      '## `./src\\\\client/app.tsx`', // 15
      'The UI.', // 16
      '## Notes', // 17
      'Keep it small.', // 18
    );
    const result = parseSections(body, 10, 'prompt.md');
    expect(result.sections).toEqual([
      { path: 'src/server.ts', text: 'An HTTP server.', line: 12 },
      { path: 'src/client/app.tsx', text: 'The UI.', line: 15 },
    ]);
    expect(result.globalText).toBe('A todo app.\n\n## Notes\nKeep it small.');
    expect(result.issues).toEqual([]);
  });

  it('keeps level-3 headings inside a section and ends it at a level-1 heading', () => {
    const body = lines(
      '## `a.ts`',
      '### Details',
      'inside',
      '#### deeper',
      'still inside',
      '# Appendix',
      'global again',
    );
    const result = parseSections(body, 1);
    expect(result.sections).toEqual([
      { path: 'a.ts', text: '### Details\ninside\n#### deeper\nstill inside', line: 1 },
    ]);
    expect(result.globalText).toBe('# Appendix\nglobal again');
  });

  it('ignores heading-like lines inside fenced code blocks', () => {
    const body = lines(
      '## `README.md`',
      '```markdown',
      '## `not/a/section.ts`',
      '# not a heading',
      '```',
      '~~~~',
      '## still code',
      '```',
      '~~~~',
      'after the fences',
      '## `b.ts`',
      'b',
    );
    const result = parseSections(body, 1);
    expect(result.sections.map((section) => section.path)).toEqual(['README.md', 'b.ts']);
    expect(result.sections[0]?.text).toContain('## `not/a/section.ts`');
    expect(result.sections[0]?.text).toContain('## still code');
    expect(result.sections[0]?.text.endsWith('after the fences')).toBe(true);
  });

  it('treats an unclosed fence as running to the end', () => {
    const result = parseSections(lines('intro', '```', '## `x.ts`'), 1);
    expect(result.sections).toEqual([]);
    expect(result.globalText).toBe('intro\n```\n## `x.ts`');
  });

  it('accepts double-backtick spans, trailing whitespace and closing hashes', () => {
    const body = lines('## ``weird`name.ts``  ', 'one', '## `` spaced.ts `` ##', 'two');
    const result = parseSections(body, 1);
    expect(result.sections.map((section) => section.path)).toEqual(['weird`name.ts', 'spaced.ts']);
  });

  it('does not treat other level-2 headings as files', () => {
    const body = lines(
      '## Overview',
      '## `npm test` runs the tests',
      '## The `src/a.ts` file',
      '## `npm test`',
      '##`no-space.ts`',
      '    ## `indented-code.ts`',
      '### `level-three.ts`',
    );
    const result = parseSections(body, 1);
    expect(result.sections).toEqual([]);
    expect(result.globalText).toBe(body);
  });

  it('reports a duplicate section on the line of the second heading', () => {
    const body = lines('## `src/a.ts`', 'one', '## `./src/a.ts`', 'two', '## `SRC/A.ts`', 'three');
    const result = parseSections(body, 5, 'spec.md');
    expect(result.sections).toHaveLength(3);
    expect(result.issues).toEqual([
      expect.objectContaining({
        key: 'body',
        file: 'spec.md',
        line: 7,
        message: expect.stringContaining('duplicate section `src/a.ts` (first at line 5)'),
      }),
      expect.objectContaining({
        key: 'body',
        file: 'spec.md',
        line: 9,
        message: expect.stringContaining('differs only in case'),
      }),
    ]);
  });

  it('handles CRLF line endings', () => {
    const result = parseSections('intro\r\n## `a.ts`\r\nbody\r\n', 3);
    expect(result.sections).toEqual([{ path: 'a.ts', text: 'body', line: 4 }]);
    expect(result.globalText).toBe('intro');
  });
});
