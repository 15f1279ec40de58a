import { merge as diff3Merge } from 'node-diff3';

export type MergeResult = { clean: true; content: string } | { clean: false; withMarkers: string; conflicts: number };

/**
 * Three-way line merge (node-diff3): base = what smol last wrote, ours = the file on disk (hand edits),
 * theirs = the new generation. A clean merge keeps both the edit and the regeneration.
 */
export function mergeThreeWay(base: string, ours: string, theirs: string): MergeResult {
  if (ours === theirs) return { clean: true, content: ours };
  if (base === ours) return { clean: true, content: theirs };
  if (base === theirs) return { clean: true, content: ours };
  const result = diff3Merge(toLines(ours), toLines(base), toLines(theirs), {
    label: { a: 'yours (on disk)', o: 'last generated', b: 'new generation' },
  });
  const text = result.result.join('\n');
  if (!result.conflict) return { clean: true, content: text };
  const conflicts = result.result.filter((line) => line.startsWith('<<<<<<<')).length;
  return { clean: false, withMarkers: text, conflicts };
}

function toLines(text: string): string[] {
  return text.split('\n');
}
