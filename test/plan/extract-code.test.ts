import { describe, expect, it } from 'vitest';
import { extractCode } from '../../src/plan/extract-code.js';

describe('extractCode', () => {
  it('takes the fenced block and drops prose before and after', () => {
    const answer = 'Sure! Here is the file:\n\n```ts\nexport const a = 1;\n```\n\nHope this helps.';
    expect(extractCode(answer)).toEqual({ ok: true, content: 'export const a = 1;\n', fenced: true });
  });

  it('accepts a fence without a language tag and a tilde fence', () => {
    expect(extractCode('```\nplain\n```')).toEqual({ ok: true, content: 'plain\n', fenced: true });
    expect(extractCode('~~~python\nprint(1)\n~~~')).toEqual({ ok: true, content: 'print(1)\n', fenced: true });
  });

  it('takes an answer with no fence whole', () => {
    expect(extractCode('  body { margin: 0 }\n\n')).toEqual({
      ok: true,
      content: 'body { margin: 0 }\n',
      fenced: false,
    });
  });

  it('keeps inner fences when the outer fence is longer (Markdown files)', () => {
    const readme = '# Title\n\n```sh\nnpm test\n```\n';
    const answer = `Here:\n\n\`\`\`\`markdown\n${readme}\`\`\`\`\nDone.`;
    expect(extractCode(answer)).toEqual({ ok: true, content: readme, fenced: true });
  });

  it('takes only the first block when the model adds an example after it', () => {
    const answer = '```js\nexport default 1;\n```\n\nUsage:\n\n```js\nimport x from "./x.js";\n```';
    expect(extractCode(answer)).toEqual({ ok: true, content: 'export default 1;\n', fenced: true });
  });

  it('refuses a fence that never closes and an empty answer', () => {
    expect(extractCode('```ts\nexport const a = ')).toMatchObject({
      ok: false,
      reason: expect.stringContaining('never closes'),
    });
    expect(extractCode('   ')).toMatchObject({ ok: false });
    expect(extractCode('```\n\n```')).toMatchObject({ ok: false, reason: expect.stringContaining('empty') });
  });

  it('handles CRLF answers', () => {
    expect(extractCode('```ts\r\nconst a = 1;\r\n```\r\n')).toEqual({
      ok: true,
      content: 'const a = 1;\n',
      fenced: true,
    });
  });
});
