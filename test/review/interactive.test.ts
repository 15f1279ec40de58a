import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { StagedChange } from '../../src/engine/staging.js';
import { reviewChanges } from '../../src/review/interactive.js';
import type { ChangeView } from '../../src/review/render.js';

function view(path: string, action: StagedChange['action']): ChangeView {
  const change: StagedChange = {
    path,
    action,
    reasons: [{ kind: 'plan-section-changed' }],
    merged: false,
    before: 'x',
    after: action === 'conflict' ? null : 'y',
    generated: null,
    fresh: null,
    previous: null,
  };
  return { change, before: 'old\n', after: 'new\n', markers: undefined };
}

/** Reviews `views`, answering with `keys` (one character each, as a terminal in raw mode sends them). */
async function review(views: ChangeView[], keys: string, page?: (text: string) => Promise<void>) {
  const input = new PassThrough();
  const written: string[] = [];
  input.end(keys);
  const decision = await reviewChanges(views, {
    input,
    write: (text) => written.push(text),
    render: (shown) => `diff of ${shown.change.path}`,
    ...(page === undefined ? {} : { page }),
  });
  return { decision, screen: written.join('') };
}

describe('the file-by-file review', () => {
  it('settles conflicts with t (theirs), o (ours) and m (markers); n leaves one staged', async () => {
    const views = [
      view('a.ts', 'conflict'),
      view('b.ts', 'conflict'),
      view('c.ts', 'conflict'),
      view('d.ts', 'conflict'),
      view('e.ts', 'update'),
    ];
    const { decision, screen } = await review(views, 'tomny');
    expect(Object.fromEntries(decision.resolutions)).toEqual({ 'a.ts': 'theirs', 'b.ts': 'ours', 'c.ts': 'markers' });
    expect([...decision.accepted]).toEqual(['e.ts']);
    expect(screen).toContain(
      '[1/5] conflict in a.ts: [t]heirs (the new generation) [o]urs (keep yours) [m]arkers (both, to edit) [n]o (leave staged)',
    );
  });

  it('a (all) accepts the remaining changes but never settles a conflict; unknown keys ask again', async () => {
    const views = [view('a.ts', 'update'), view('b.ts', 'conflict'), view('c.ts', 'create')];
    const { decision, screen } = await review(views, 'xya');
    expect([...decision.accepted]).toEqual(['a.ts']);
    expect(decision.resolutions.size).toBe(0);
    expect(screen.match(/apply a\.ts\?/g)).toHaveLength(2);
    const rest = await review(views, 'a');
    expect([...rest.decision.accepted]).toEqual(['a.ts', 'c.ts']);
    expect(rest.screen).toContain('(1 conflict after this one left staged)');
  });

  it('s shows the change again through the pager when there is one; q quits and leaves the rest', async () => {
    const paged: string[] = [];
    const { decision } = await review(
      [view('a.ts', 'update'), view('b.ts', 'update')],
      'syq',
      async (text) => void paged.push(text),
    );
    expect(paged).toEqual(['\ndiff of a.ts\n']);
    expect([...decision.accepted]).toEqual(['a.ts']);
    expect(decision.cancelled).toBeUndefined();
  });
});
