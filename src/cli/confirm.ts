import { keyReader } from '../review/interactive.js';
import type { CliIO, Output } from './io.js';

/** Asks a yes/no question on the terminal, one key press; anything but `y` is no. Ctrl+C is no. */
export async function confirm(io: CliIO, output: Output, question: string): Promise<boolean> {
  output.info(question.trimEnd());
  const keys = keyReader(io.stdin);
  try {
    const key = (await keys.next()).toLowerCase();
    return key === 'y';
  } finally {
    keys.close();
  }
}
