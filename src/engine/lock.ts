import { readFile } from 'node:fs/promises';
import { writeStateFile } from '../workspace/write.js';
import { z } from 'zod';
import { SmolError } from '../errors.js';
import { sha256, stableStringify } from '../internal/hash.js';

export const LOCK_FILE_NAME = 'smol.lock';
export const LOCK_VERSION = 1;

const hashSchema = z.string().regex(/^[0-9a-f]{64}$/, 'a sha256 hex digest');

/** Hashes of each input of a file's generation, so a stale file can say which input changed. */
const inputHashesSchema = z.object({
  settings: hashSchema,
  planGlobal: hashSchema,
  planSection: hashSchema,
  fileList: hashSchema,
  spec: hashSchema,
  dependencies: z.record(z.string(), hashSchema),
});
export type InputHashes = z.output<typeof inputHashesSchema>;

const lockedFileSchema = z.object({
  /** Hash of everything the file's last generation saw. */
  fingerprint: hashSchema,
  inputs: inputHashesSchema,
  /** Hash of what smol last wrote to disk; null when smol has not written it (yet). */
  output: hashSchema.nullable(),
});
export type LockedFile = z.output<typeof lockedFileSchema>;

export const lockSchema = z.object({
  version: z.literal(LOCK_VERSION),
  promptVersion: z.string(),
  settings: z.object({
    provider: z.string(),
    model: z.string(),
    temperature: z.number(),
  }),
  /** The rendered spec the plan was made from, one line per entry so the lock diffs well. */
  spec: z.object({ hash: hashSchema, lines: z.array(z.string()) }),
  plan: z.object({
    inputHash: hashSchema,
    global: z.string(),
    sections: z.array(z.object({ path: z.string(), text: z.string() })),
    /** The file list (stage 2), sorted by path. */
    files: z.array(z.object({ path: z.string(), purpose: z.string(), dependsOn: z.array(z.string()) })),
  }),
  files: z.record(z.string(), lockedFileSchema),
});
export type Lock = z.output<typeof lockSchema>;

/** Hash of the lock file's bytes, or null when there is none. */
export async function lockFileHash(file: string): Promise<string | null> {
  try {
    return sha256(await readFile(file));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}

/** Reads `smol.lock`; `undefined` when there is none. A damaged lock is a user error with a way out. */
export async function readLock(file: string, displayPath = file): Promise<Lock | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw corruptLock(displayPath, `it is not valid JSON (${(error as Error).message})`);
  }
  const parsed = lockSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw corruptLock(displayPath, `${issue.path.join('.') || 'the file'}: ${issue.message}`);
  }
  return parsed.data;
}

function corruptLock(displayPath: string, detail: string): SmolError {
  return new SmolError('LOCK_CORRUPT', `${displayPath} is damaged: ${detail}.`, {
    exitCode: 2,
    hint: `Restore it from git (git checkout -- ${displayPath}), or run \`smol run --all\` to rebuild it (regenerates every file).`,
  });
}

/** Stable, sorted, two-space JSON with a final newline: diff-friendly and meant to be committed. */
export function serializeLock(lock: Lock): string {
  return `${stableStringify(lock, 2)}\n`;
}

export async function writeLock(file: string, lock: Lock): Promise<void> {
  await writeStateFile(file, serializeLock(lock));
}
