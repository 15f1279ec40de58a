import { PassThrough, Writable } from 'node:stream';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { RunEvent } from '../../src/engine/events.js';
import { emptyUsage } from '../../src/engine/events.js';
import { createOutput, type CliIO } from '../../src/cli/io.js';
import { createJsonProgress, createProgress } from '../../src/cli/progress.js';
import { PROGRESS_INTERVAL_MS, throttleProgress } from '../../src/cli/progress-throttle.js';

class Collector extends Writable {
  text = '';
  constructor(readonly isTTY: boolean) {
    super();
  }
  override _write(chunk: Buffer | string, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.text += chunk.toString();
    callback();
  }
}

function memoryIO(options: { tty?: boolean; startedAt?: number } = {}): {
  io: CliIO;
  stdout: Collector;
  stderr: Collector;
} {
  const stdout = new Collector(false);
  const stderr = new Collector(options.tty === true);
  const stdin = new PassThrough();
  return {
    io: { stdin, stdout, stderr, env: { NO_COLOR: '1' }, cwd: '/', startedAt: options.startedAt },
    stdout,
    stderr,
  };
}

const progress = (path: string, tokens: number): RunEvent => ({
  type: 'file-progress',
  path,
  chars: tokens * 4,
  tokens,
});
const runStart: RunEvent = { type: 'run-start', spec: 'prompt.md', outDir: 'app', provider: 'fake', model: 'm' };
const runDone = (durationMs: number): RunEvent => ({
  type: 'run-done',
  usage: emptyUsage(),
  durationMs,
  counts: { create: 1 },
});

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['Date', 'setTimeout', 'clearTimeout', 'performance'] });
});
afterEach(() => {
  vi.useRealTimers();
});

describe('file-progress throttling', () => {
  it('passes about 10 progress events a second per file, and every other event', () => {
    const passed: RunEvent[] = [];
    const sink = throttleProgress((event) => passed.push(event));
    sink(runStart);
    // Two files streaming a token every millisecond for one second: 2,000 events.
    for (let ms = 0; ms < 1000; ms += 1) {
      sink(progress('a.ts', ms + 1));
      sink(progress('b.ts', ms + 1));
      vi.advanceTimersByTime(1);
    }
    sink({ type: 'file-done', path: 'a.ts', action: 'create', cached: false });
    const perFile = (path: string) =>
      passed.filter((event) => event.type === 'file-progress' && event.path === path).length;
    expect(perFile('a.ts')).toBe(1000 / PROGRESS_INTERVAL_MS);
    expect(perFile('b.ts')).toBe(1000 / PROGRESS_INTERVAL_MS);
    expect(passed[0]).toBe(runStart);
    expect(passed.at(-1)?.type).toBe('file-done');
  });

  it('a file started again (a later run) shows its first progress at once', () => {
    const passed: RunEvent[] = [];
    const sink = throttleProgress((event) => passed.push(event));
    sink(progress('a.ts', 1));
    sink({ type: 'file-done', path: 'a.ts', action: 'create', cached: false });
    sink(progress('a.ts', 1));
    expect(passed.filter((event) => event.type === 'file-progress')).toHaveLength(2);
  });

  it('for any timing: progress passed per file is at least the interval apart, none is dropped without cause, other events all pass in order', () => {
    const step = fc.record({
      wait: fc.integer({ min: 0, max: 250 }),
      event: fc.oneof(
        fc.record({ kind: fc.constant('progress' as const), path: fc.constantFrom('a', 'b', 'c') }),
        fc.record({ kind: fc.constant('done' as const), path: fc.constantFrom('a', 'b', 'c') }),
        fc.record({ kind: fc.constant('start' as const), path: fc.constantFrom('a', 'b', 'c') }),
      ),
    });
    fc.assert(
      fc.property(fc.array(step, { maxLength: 200 }), (steps) => {
        vi.setSystemTime(0);
        const passed: { event: RunEvent; at: number }[] = [];
        const sink = throttleProgress((event) => passed.push({ event, at: Date.now() }));
        const sent: { event: RunEvent; at: number }[] = [];
        for (const { wait, event } of steps) {
          vi.advanceTimersByTime(wait);
          const runEvent: RunEvent =
            event.kind === 'progress'
              ? progress(event.path, 1)
              : event.kind === 'done'
                ? { type: 'file-done', path: event.path, action: 'create', cached: false }
                : { type: 'file-start', path: event.path };
          sent.push({ event: runEvent, at: Date.now() });
          sink(runEvent);
        }
        const others = (list: { event: RunEvent }[]) =>
          list.filter((entry) => entry.event.type !== 'file-progress').map((entry) => entry.event);
        expect(others(passed)).toEqual(others(sent));
        // Replay: the last progress passed per file, forgotten at file-done.
        const last = new Map<string, number>();
        let cursor = 0;
        for (const entry of sent) {
          const wasPassed = passed[cursor]?.event === entry.event;
          if (wasPassed) cursor += 1;
          if (entry.event.type === 'file-done') last.delete(entry.event.path);
          if (entry.event.type !== 'file-progress') continue;
          const previous = last.get(entry.event.path);
          const due = previous === undefined || entry.at - previous >= PROGRESS_INTERVAL_MS;
          expect(wasPassed).toBe(due);
          if (wasPassed) last.set(entry.event.path, entry.at);
        }
        expect(cursor).toBe(passed.length);
      }),
    );
  });

  it('--json prints the throttled events', () => {
    const { io, stdout } = memoryIO();
    const { onEvent } = createJsonProgress(createOutput(io));
    onEvent(runStart);
    for (let ms = 0; ms < 500; ms += 1) {
      onEvent(progress('a.ts', ms + 1));
      vi.advanceTimersByTime(1);
    }
    const lines = stdout.text
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { type: string; tokens?: number });
    expect(lines.filter((line) => line.type === 'file-progress')).toHaveLength(500 / PROGRESS_INTERVAL_MS);
    expect(lines[0]?.type).toBe('run-start');
  });

  it('the terminal redraws the live lines about 10 times a second, however fast tokens come', () => {
    const { io, stderr } = memoryIO({ tty: true });
    const view = createProgress(io, createOutput(io));
    view.onEvent(runStart);
    view.onEvent({ type: 'file-queued', path: 'a.ts', reasons: [{ kind: 'new' }] });
    view.onEvent({ type: 'file-start', path: 'a.ts' });
    for (let ms = 0; ms < 1000; ms += 1) {
      view.onEvent(progress('a.ts', ms + 1));
      vi.advanceTimersByTime(1);
    }
    view.stop();
    const draws = stderr.text.split('generating, ').length - 1;
    expect(draws).toBeGreaterThan(0);
    expect(draws).toBeLessThanOrEqual(1000 / PROGRESS_INTERVAL_MS + 1);
  });
});

describe('the run summary time', () => {
  it('is the whole command, from io.startedAt, for the first run; a later run (watch) shows its own time', () => {
    const { io, stderr } = memoryIO({ startedAt: performance.now() });
    const view = createProgress(io, createOutput(io));
    vi.advanceTimersByTime(1500); // Node's start, loading, the spec
    view.onEvent(runStart);
    vi.advanceTimersByTime(500);
    view.onEvent(runDone(500));
    expect(stderr.text).toMatch(/· 2\.0s\n$/);
    vi.advanceTimersByTime(10_000); // watch waits for the next save
    view.onEvent(runStart);
    vi.advanceTimersByTime(300);
    view.onEvent(runDone(300));
    expect(stderr.text).toMatch(/· 0\.3s\n$/);
  });

  it("without io.startedAt (in-process), is the library's time for the run", () => {
    const { io, stderr } = memoryIO();
    const view = createProgress(io, createOutput(io));
    vi.advanceTimersByTime(1500);
    view.onEvent(runStart);
    vi.advanceTimersByTime(700);
    view.onEvent(runDone(400));
    expect(stderr.text).toMatch(/· 0\.4s\n$/);
  });
});
