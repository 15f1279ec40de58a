import { collectGarbage } from '../../engine/gc.js';
import { statePaths } from '../../engine/paths.js';
import { loadSpecFromArgs } from '../context.js';
import type { ModelFlags } from '../options.js';
import type { CommandContext } from '../program.js';
import { count } from '../words.js';

interface GcFlags extends ModelFlags {
  cacheDays: number;
  json?: boolean;
}

/** `smol gc [spec]`: shrinks `.smol/` to what undo, redo, merges and the recent cache need. */
export async function gcCommand(
  { io, output }: CommandContext,
  specArg: string | undefined,
  flags: GcFlags,
): Promise<number> {
  const spec = await loadSpecFromArgs(specArg, flags, io);
  const result = await collectGarbage(statePaths(spec.dir), spec.outDir, { cacheDays: flags.cacheDays });
  if (flags.json === true) {
    output.json(result);
    return 0;
  }
  output.result(
    `.smol/: ${size(result.bytesBefore)} -> ${size(result.bytesAfter)}; removed ${count(result.removedObjects, 'stored version')}, ${count(result.removedMemos, 'generation memo')} and ${count(result.removedCacheEntries, 'cached answer')}; kept ${count(result.keptObjects, 'version')} that undo, redo and merges need.`,
  );
  return 0;
}

function size(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} kB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}
