import type { ToolCall } from './types.js';

/** More tool calls than any answer smol asks for has; a stream claiming more is refused. */
export const MAX_TOOL_CALLS = 64;

/** One streamed tool-call fragment, as OpenAI-compatible servers send it (fields may be missing or wrong). */
export interface ToolCallFragment {
  index?: unknown;
  id?: unknown;
  function?: { name?: unknown; arguments?: unknown } | null | undefined;
}

/**
 * Joins streamed tool-call fragments: the first of a call carries its id and name, later ones pieces of
 * the arguments. Calls are kept by their `index` in a map, never an array grown up to it: a server
 * sending `index: 200000000` once made an array of that length and ran out of memory (issue 13.6).
 * `add` returns a problem (an index that is not a small non-negative integer, too many calls) instead of
 * joining the fragment; the caller fails the call with it.
 */
export function toolCallCollector(): {
  add: (fragment: ToolCallFragment) => string | undefined;
  calls: () => ToolCall[];
} {
  const byIndex = new Map<number, { id: string | undefined; name: string; arguments: string }>();
  let last: number | undefined;
  return {
    add(fragment) {
      let slot: number;
      if (fragment.index !== undefined && fragment.index !== null) {
        if (typeof fragment.index !== 'number' || !Number.isSafeInteger(fragment.index) || fragment.index < 0) {
          return `a tool call with index ${JSON.stringify(fragment.index)?.slice(0, 40)} (not a non-negative integer)`;
        }
        slot = fragment.index;
      } else {
        // Some compatible servers omit `index`: a known id continues its call, a new id starts one,
        // no id continues the last call.
        const id = typeof fragment.id === 'string' ? fragment.id : undefined;
        const known = id === undefined ? undefined : [...byIndex].find(([, call]) => call.id === id)?.[0];
        slot = known ?? (id === undefined && last !== undefined ? last : nextFree(byIndex));
      }
      let call = byIndex.get(slot);
      if (call === undefined) {
        if (byIndex.size >= MAX_TOOL_CALLS) return `more than ${MAX_TOOL_CALLS} tool calls in one answer`;
        call = { id: undefined, name: '', arguments: '' };
        byIndex.set(slot, call);
      }
      last = slot;
      if (typeof fragment.id === 'string' && call.id === undefined) call.id = fragment.id;
      const name = fragment.function?.name;
      if (typeof name === 'string' && call.name === '') call.name = name;
      const args = fragment.function?.arguments;
      if (typeof args === 'string') call.arguments += args;
      return undefined;
    },
    calls: () =>
      [...byIndex.entries()]
        .sort(([a], [b]) => a - b)
        .map(([, call]) => ({ name: call.name, arguments: call.arguments })),
  };
}

function nextFree(calls: Map<number, unknown>): number {
  let slot = calls.size;
  while (calls.has(slot)) slot += 1;
  return slot;
}
