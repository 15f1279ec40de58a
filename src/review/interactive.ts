import type { ChangeView } from './render.js';

/** What the reviewer said about each change. */
export interface ReviewDecision {
  accepted: Set<string>;
  /** True when the reviewer quit before the end: the rest are left staged. */
  quit: boolean;
  /** True when the reviewer pressed Ctrl+C: nothing is applied, and the command ends as cancelled. */
  cancelled?: boolean;
}

export interface ReviewIO {
  input: NodeJS.ReadableStream & { isTTY?: boolean; setRawMode?: (mode: boolean) => unknown };
  write: (text: string) => void;
  render: (view: ChangeView) => string;
}

/**
 * File-by-file review on a terminal: y(es) / n(o) / a(ll remaining) / q(uit) / s(how again).
 * Conflicts are shown but never accepted here: they are resolved with `smol apply --theirs|--ours|--markers`.
 */
export async function reviewChanges(views: readonly ChangeView[], io: ReviewIO): Promise<ReviewDecision> {
  const accepted = new Set<string>();
  const keys = keyReader(io.input);
  try {
    for (let index = 0; index < views.length; index += 1) {
      const view = views[index]!;
      io.write(`\n${io.render(view)}\n`);
      if (view.change.action === 'conflict') {
        io.write('(conflict: left staged)\n');
        continue;
      }
      for (;;) {
        io.write(`[${index + 1}/${views.length}] apply ${view.change.path}? [y]es [n]o [a]ll [q]uit [s]how again `);
        const key = (await keys.next()).toLowerCase();
        io.write(`${key}\n`);
        if (key === 'y') {
          accepted.add(view.change.path);
          break;
        }
        if (key === 'n') break;
        if (key === 'a') {
          for (const rest of views.slice(index)) if (rest.change.action !== 'conflict') accepted.add(rest.change.path);
          return { accepted, quit: false };
        }
        if (key === 'q') return { accepted, quit: true };
        if (key === '\u0003') return { accepted, quit: true, cancelled: true };
        if (key === 's') io.write(`\n${io.render(view)}\n`);
      }
    }
    return { accepted, quit: false };
  } finally {
    keys.close();
  }
}

/** Reads single key presses (raw mode on a terminal; one character at a time otherwise). */
export function keyReader(input: ReviewIO['input']): { next: () => Promise<string>; close: () => void } {
  const buffered: string[] = [];
  const waiting: ((key: string) => void)[] = [];
  const raw = input.isTTY === true && typeof input.setRawMode === 'function';
  if (raw) input.setRawMode!(true);
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
  input.on('data', onData);
  input.on('end', onEnd);
  input.resume();
  return {
    next: () => new Promise((resolve) => {
      const key = buffered.shift();
      if (key === undefined) waiting.push(resolve);
      else resolve(key);
    }),
    close: () => {
      input.off('data', onData);
      input.off('end', onEnd);
      if (raw) input.setRawMode!(false);
      input.pause();
    },
  };
}
