/**
 * `1 call`, `2 calls`, `0 files`: a count with its noun in agreement, for every line the CLI prints.
 * `plural` is for nouns that do not just take an `s` (`1 was`/`2 were` is not this helper's job).
 */
export function count(n: number, noun: string, plural = `${noun}s`): string {
  return `${n} ${n === 1 ? noun : plural}`;
}
