import { lstatSync } from 'node:fs';
import * as z from 'zod';
import { resolveInsideNow } from '../workspace/inside.js';
import { readStateFile, writeStateFile } from '../workspace/state-file.js';
import type { StatePaths } from './paths.js';

/**
 * What smol wrote in THIS working copy (`.smol/ledger.json`): per output path, the content hash and the
 * inode it got. smol deletes a file (it left the plan) or undoes a write only when the file is still that
 * very file. The inode is what a cloned or crafted `.smol/` cannot forge: a checkout makes new inodes, so a
 * poisoned lock or history can never make smol delete or overwrite a file it did not write here.
 */
const entrySchema = z.object({ hash: z.string().regex(/^[0-9a-f]{64}$/), dev: z.string(), ino: z.string() });
const ledgerSchema = z.object({ version: z.literal(1), files: z.record(z.string(), entrySchema) });
type LedgerEntry = z.output<typeof entrySchema>;
export type Ledger = Map<string, LedgerEntry>;

export async function readLedger(paths: StatePaths): Promise<Ledger> {
  try {
    const text = await readStateFile(paths.ledger);
    if (text === undefined) return new Map();
    const parsed = ledgerSchema.safeParse(JSON.parse(text));
    return parsed.success ? new Map(Object.entries(parsed.data.files)) : new Map();
  } catch {
    // Unreadable: smol then deletes nothing it cannot prove it wrote, which is the safe side.
    return new Map();
  }
}

/** Records files smol just wrote (hash and inode) and forgets deleted ones. */
export async function recordWrites(
  paths: StatePaths,
  outDir: string,
  written: readonly { path: string; hash: string | null }[],
): Promise<void> {
  if (written.length === 0) return;
  const ledger = await readLedger(paths);
  for (const file of written) {
    if (file.hash === null) {
      ledger.delete(file.path);
      continue;
    }
    const identity = await identityOf(outDir, file.path);
    if (identity === undefined) ledger.delete(file.path);
    else ledger.set(file.path, { hash: file.hash, ...identity });
  }
  const files = Object.fromEntries([...ledger].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  await writeStateFile(paths.ledger, `${JSON.stringify({ version: 1, files })}\n`, { root: paths.root });
}

/** True when the file at `path` is the one smol wrote here with content `hash`. */
export async function wroteHere(ledger: Ledger, outDir: string, path: string, hash: string): Promise<boolean> {
  const entry = ledger.get(path);
  if (entry === undefined || entry.hash !== hash) return false;
  const identity = await identityOf(outDir, path);
  return identity !== undefined && identity.dev === entry.dev && identity.ino === entry.ino;
}

async function identityOf(outDir: string, relative: string): Promise<{ dev: string; ino: string } | undefined> {
  try {
    // Synchronous calls (workspace/sync-fs.ts says why).
    const target = resolveInsideNow(outDir, relative);
    const stats = lstatSync(target, { bigint: true });
    return stats.isFile() ? { dev: String(stats.dev), ino: String(stats.ino) } : undefined;
  } catch {
    return undefined;
  }
}
