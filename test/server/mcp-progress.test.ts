import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { RunEvent } from '../../src/engine/events.js';
import { progressReporter } from '../../src/server/mcp/progress.js';

const event = fc.oneof(
  fc.constantFrom<RunEvent>(
    { type: 'stage-start', stage: 'plan' },
    { type: 'stage-done', stage: 'files', source: 'lock' },
    { type: 'run-start', spec: 'p.md', outDir: 'app', provider: 'x', model: 'm' },
  ),
  fc.record({
    type: fc.constant('file-queued' as const),
    path: fc.constantFrom('a', 'b'),
    reasons: fc.constant<{ kind: 'new' }[]>([]),
  }),
  fc.record({ type: fc.constant('file-start' as const), path: fc.constantFrom('a', 'b') }),
  fc.record({
    type: fc.constant('file-progress' as const),
    path: fc.constantFrom('a', 'b'),
    chars: fc.nat(),
    tokens: fc.nat(),
  }),
  fc.record({
    type: fc.constant('file-done' as const),
    path: fc.constantFrom('a', 'b'),
    action: fc.constant('create' as const),
    cached: fc.boolean(),
  }),
);

describe('MCP progress notifications', () => {
  it('sends nothing without a progressToken', () => {
    const sent: unknown[] = [];
    const reporter = progressReporter(undefined, async (params) => void sent.push(params));
    reporter.onEvent({ type: 'stage-start', stage: 'plan' });
    reporter.note('waiting');
    expect(sent).toEqual([]);
  });

  it('numbers notifications in increasing order and sends streaming ones at most once a second', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(event, fc.integer({ min: 0, max: 700 })), { maxLength: 40 }), (steps) => {
        let clock = 0;
        const sent: { progress: number; message: string; at: number }[] = [];
        const reporter = progressReporter(
          't',
          async (params) => void sent.push({ ...params, at: clock }),
          () => clock,
        );
        for (const [runEvent, elapsed] of steps) {
          clock += elapsed;
          reporter.onEvent(runEvent);
        }
        for (const [index, entry] of sent.entries()) expect(entry.progress).toBe(index + 1);
        const streaming = sent.filter((entry) => entry.message.includes('tokens so far'));
        for (let index = 1; index < streaming.length; index += 1)
          expect(streaming[index]!.at - streaming[index - 1]!.at).toBeGreaterThanOrEqual(1000);
        const stageEvents = steps.filter(
          ([runEvent]) =>
            runEvent.type === 'stage-start' ||
            runEvent.type === 'stage-done' ||
            runEvent.type === 'file-start' ||
            runEvent.type === 'file-done',
        ).length;
        expect(sent.length - streaming.length).toBe(stageEvents);
      }),
    );
  });
});
