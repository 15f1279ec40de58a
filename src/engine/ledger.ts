import { lstatSync } from 'node:fs';
import path from 'node:path';
import * as z from 'zod';
import { resolveInsideNow } from '../workspace/inside.js';
import { readStateFile, writeStateFile } from '../workspace/state-file.js';
import type { StatePaths } from './paths.js';

/**
 * What smol wrote in THIS working copy (`.smol/ledger.json`): per file, the content hash and the inode it
 * got. smol deletes a file (it left the plan), or writes over a file it left behind in an output folder the
 * spec names again, only when the file is still that very file. The inode is what a cloned or crafted
 * `.smol/` cannot forge: a checkout makes new inodes, so a poisoned lock or history can never make smol
 * delete or overwrite a file it did not write here.
 *
 * Keys are paths from the project root (`app/src/a.ts`), not from outDir: after outDir moves from `app` to
 * `web` and back, what smol wrote in `app/` is still known. Version 1 (keys relative to outDir) is not
 * read: it proves nothing, which is the safe side.
 */
const entrySchema = z.object({ hash: z.string().regex(/^[0-9a-f]{64}$/), dev: z.string(), ino: z.string() });
const ledgerSchema = z.object({ version: z.literal(2), files: z.record(z.string(), entrySchema) });
type LedgerEntry = z.output<typeof entrySchema>;
export interface Ledger {
  /** The project root the keys start from. */
  readonly root: string;
  readonly files: Map<string, LedgerEntry>;
}

export async function readLedger(paths: StatePaths): Promise<Ledger> {
  const files = new Map<string, LedgerEntry>();
  try {
    const text = await readStateFile(paths.ledger);
    const parsed = text === undefined ? undefined : ledgerSchema.safeParse(JSON.parse(text));
    if (parsed?.success === true) for (const [key, entry] of Object.entries(parsed.data.files)) files.set(key, entry);
  } catch {
    // Unreadable: smol then deletes nothing it cannot prove it wrote, which is the safe side.
  }
  return { root: paths.root, files };
}

/** The ledger's key of `relative` in `outDir`: its path from the project root, with `/`. */
function keyOf(root: string, outDir: string, relative: string): string {
  const folder = path.relative(root, outDir).split(path.sep).join('/');
  return folder === '' ? relative : `${folder}/${relative}`;
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
    const key = keyOf(paths.root, outDir, file.path);
    const identity = file.hash === null ? undefined : identityOf(outDir, file.path);
    if (file.hash === null || identity === undefined) ledger.files.delete(key);
    else ledger.files.set(key, { hash: file.hash, ...identity });
  }
  const files = Object.fromEntries([...ledger.files].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  await writeStateFile(paths.ledger, `${JSON.stringify({ version: 2, files })}\n`, { root: paths.root });
}

/** True when the file at `relative` in `outDir` is the one smol wrote here with content `hash`. */
export function wroteHere(ledger: Ledger, outDir: string, relative: string, hash: string): boolean {
  const entry = ledger.files.get(keyOf(ledger.root, outDir, relative));
  if (entry === undefined || entry.hash !== hash) return false;
  const identity = identityOf(outDir, relative);
  return identity !== undefined && identity.dev === entry.dev && identity.ino === entry.ino;
}

function identityOf(outDir: string, relative: string): { dev: string; ino: string } | undefined {
  try {
    // Synchronous calls (workspace/sync-fs.ts says why).
    const target = resolveInsideNow(outDir, relative);
    const stats = lstatSync(target, { bigint: true });
    return stats.isFile() ? { dev: String(stats.dev), ino: String(stats.ino) } : undefined;
  } catch {
    return undefined;
  }
}
