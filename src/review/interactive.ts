import type { ConflictResolution } from '../engine/apply.js';
import type { ChangeView } from './render.js';

/** What the reviewer said about each change. */
export interface ReviewDecision {
  accepted: Set<string>;
  /** How the reviewer settled conflicts, by path (for `applyStaged({ resolutions })`). */
  resolutions: Map<string, ConflictResolution>;
  /** True when the reviewer pressed Ctrl+C: nothing is applied, and the command ends as cancelled. */
  cancelled?: boolean;
}

export interface ReviewIO {
  input: NodeJS.ReadableStream & { isTTY?: boolean; setRawMode?: (mode: boolean) => unknown };
  write: (text: string) => void;
  render: (view: ChangeView) => string;
  /** Shows a change again (`s`) through a pager when it is long; keys are not read meanwhile. Default: `write`. */
  page?: (text: string) => Promise<void>;
  /** Ends the review as `q` would (the daemon is quitting). */
  signal?: AbortSignal;
}

const CONFLICT_KEYS: Record<string, ConflictResolution> = { t: 'theirs', o: 'ours', m: 'markers' };

/**
 * File-by-file review on a terminal: y(es) / n(o) / a(ll remaining) / q(uit) / s(how again). A conflict
 * asks instead: t(heirs: the new generation) / o(urs: keep your file) / m(arkers: both, to edit by hand) /
 * n(o: leave it staged); `a` never settles a conflict.
 */
export async function reviewChanges(views: readonly ChangeView[], io: ReviewIO): Promise<ReviewDecision> {
  const decision: ReviewDecision = { accepted: new Set(), resolutions: new Map() };
  const keys = keyReader(io.input, io.signal);
  const show = async (view: ChangeView): Promise<void> => {
    const text = `\n${io.render(view)}\n`;
    if (io.page === undefined) return io.write(text);
    keys.suspend();
    try {
      await io.page(text);
    } finally {
      keys.resume();
    }
  };
  try {
    for (let index = 0; index < views.length; index += 1) {
      io.write(`\n${io.render(views[index]!)}\n`);
      if ((await askAbout({ views, index, io, keys, show, decision })) === 'stop') return decision;
    }
    return decision;
  } finally {
    keys.close();
  }
}

/**
 * Asks about one change until a key settles it, recording the answer in `decision`. `stop` ends the
 * review: q, Ctrl+C, or `a` (which settles every remaining change that is not a conflict).
 */
async function askAbout(review: {
  views: readonly ChangeView[];
  index: number;
  io: ReviewIO;
  keys: KeyReader;
  show: (view: ChangeView) => Promise<void>;
  decision: ReviewDecision;
}): Promise<'next' | 'stop'> {
  const { views, index, io, keys, decision } = review;
  const view = views[index]!;
  const { path } = view.change;
  const conflict = view.change.action === 'conflict';
  for (;;) {
    io.write(
      conflict
        ? `[${index + 1}/${views.length}] conflict in ${path}: [t]heirs (the new generation) [o]urs (keep yours) [m]arkers (both, to edit) [n]o (leave staged) [q]uit [s]how again `
        : `[${index + 1}/${views.length}] apply ${path}? [y]es [n]o [a]ll [q]uit [s]how again `,
    );
    const key = (await keys.next()).toLowerCase();
    io.write(`${key === '\u0003' ? '^C' : key}\n`);
    if (key === 'q' || key === '\u0003') {
      // q ends the review and leaves the rest staged; Ctrl+C cancels the whole command (exit 130,
      // nothing applied).
      if (key === '\u0003') decision.cancelled = true;
      return 'stop';
    }
    if (key === 's') {
      await review.show(view);
      continue;
    }
    if (key === 'n') return 'next';
    const resolution = CONFLICT_KEYS[key];
    if (conflict && resolution !== undefined) {
      decision.resolutions.set(path, resolution);
      return 'next';
    }
    if (!conflict && key === 'y') {
      decision.accepted.add(path);
      return 'next';
    }
    if (!conflict && key === 'a') {
      for (const rest of views.slice(index))
        if (rest.change.action !== 'conflict') decision.accepted.add(rest.change.path);
      const conflicts = views.slice(index + 1).filter((rest) => rest.change.action === 'conflict').length;
      if (conflicts > 0) io.write(`(${conflicts} conflict${conflicts === 1 ? '' : 's'} after this one left staged)\n`);
      return 'stop';
    }
  }
}

/** Single key presses (raw mode on a terminal; one character at a time otherwise). */
export interface KeyReader {
  next: () => Promise<string>;
  /** Stops reading (and leaves raw mode) while another program owns the terminal, e.g. a pager. */
  suspend: () => void;
  resume: () => void;
  close: () => void;
}

/** Reads keys from `input`; once `signal` aborts, every read answers `q` and reading stops. */
export function keyReader(input: ReviewIO['input'], signal?: AbortSignal): KeyReader {
  const buffered: string[] = [];
  const waiting: ((key: string) => void)[] = [];
  const raw = input.isTTY === true && typeof input.setRawMode === 'function';
  const onData = (chunk: Buffer | string): void => {
    for (const key of chunk.toString().replace(/\r?\n/g, '')) {
      const resolve = waiting.shift();
      if (resolve === undefined) buffered.push(key);
      else resolve(key);
    }
  };
  const onEnd = (): void => {
    for (const resolve of waiting.splice(0)) resolve('q');
    buffered.push('q');
  };
  let reading = false;
  const start = (): void => {
    if (reading) return;
    reading = true;
    if (raw) input.setRawMode!(true);
    input.on('data', onData);
    input.on('end', onEnd);
    input.resume();
  };
  const stop = (): void => {
    if (!reading) return;
    reading = false;
    input.off('data', onData);
    input.off('end', onEnd);
    if (raw) input.setRawMode!(false);
    input.pause();
  };
  const onAbort = (): void => {
    stop();
    for (const resolve of waiting.splice(0)) resolve('q');
  };
  if (signal?.aborted === true) return { next: async () => 'q', suspend: () => {}, resume: () => {}, close: () => {} };
  signal?.addEventListener('abort', onAbort, { once: true });
  start();
  return {
    next: () =>
      new Promise((resolve) => {
        if (signal?.aborted === true) return resolve('q');
        const key = buffered.shift();
        if (key === undefined) waiting.push(resolve);
        else resolve(key);
      }),
    suspend: stop,
    resume: () => {
      if (signal?.aborted !== true) start();
    },
    close: () => {
      signal?.removeEventListener('abort', onAbort);
      stop();
    },
  };
}
