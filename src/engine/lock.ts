import * as z from 'zod';
import { SmolError } from '../errors.js';
import { sha256, stableStringify } from '../internal/hash.js';
import { checkOutputPath } from '../workspace/output-path.js';
import { readStateBytes } from '../workspace/state-file.js';

export const LOCK_FILE_NAME = 'smol.lock';
export const LOCK_VERSION = 2;

const hashSchema = z.string().regex(/^[0-9a-f]{64}$/, 'a sha256 hex digest');

/** A path the lock may name: exactly what the path checks accept for output files (a poisoned lock is refused). */
const outputPathSchema = z.string().refine((value) => {
  const check = checkOutputPath(value);
  return check.ok && check.path === value;
}, 'a relative output path without `..`, links to .git/.smol, or control characters');

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

/**
 * One output file (design.md 4.4). `generated` is the model's last generation for it (the merge base of hand
 * edits); `written` is what smol last put on disk, or what the user accepted (`smol accept`): a merge of a
 * hand edit is written but never generated, so the edit stays an edit through every later regeneration.
 */
const lockedFileSchema = z.object({
  /** Hash of everything the file's last generation saw. */
  fingerprint: hashSchema,
  inputs: inputHashesSchema,
  generated: hashSchema.nullable(),
  written: hashSchema.nullable(),
  /** True while the file holds the conflict markers `smol apply --markers` wrote. */
  conflict: z.literal(true).optional(),
});
export type LockedFile = z.output<typeof lockedFileSchema>;

const settingsSchema = z.object({ provider: z.string(), model: z.string(), temperature: z.number() });
const plannedFileSchema = z.object({ path: outputPathSchema, purpose: z.string(), dependsOn: z.array(z.string()) });

const lockHeadShape = {
  promptVersion: z.string(),
  settings: settingsSchema,
  /** The rendered spec the plan was made from, one line per entry so the lock diffs well. */
  spec: z.object({ hash: hashSchema, lines: z.array(z.string()) }),
  plan: z.object({
    inputHash: hashSchema,
    global: z.string(),
    sections: z.array(z.object({ path: z.string(), text: z.string() })),
    /** The file list (stage 2), sorted by path. */
    files: z.array(plannedFileSchema),
  }),
};

export const lockSchema = z.object({
  version: z.literal(LOCK_VERSION),
  ...lockHeadShape,
  /** The output folder the files were written to, relative to the spec's folder with `/` separators. */
  outDir: z.string().refine((value) => !value.includes('\u0000'), 'a folder name'),
  files: z.record(outputPathSchema, lockedFileSchema),
});
export type Lock = z.output<typeof lockSchema>;
/** The lock minus its files: the plan and settings a run made. */
export type LockHead = Omit<Lock, 'files'>;

// Version 1 kept one hash per file (`output`), which made a merged hand edit the next merge base.
const lockV1Schema = z.object({
  version: z.literal(1),
  ...lockHeadShape,
  files: z.record(
    outputPathSchema,
    z.object({ fingerprint: hashSchema, inputs: inputHashesSchema, output: hashSchema.nullable() }),
  ),
});

/** Hash of the lock file's bytes, or null when there is none. */
export async function lockFileHash(file: string): Promise<string | null> {
  const bytes = await readStateBytes(file);
  return bytes === undefined ? null : sha256(bytes);
}

/**
 * Reads `smol.lock`; `undefined` when there is none. A damaged lock is a user error with a way out; a
 * version 1 lock is migrated (its one hash becomes both the generation and what was written, which is the
 * best a v1 lock knows). `currentOutDir` fills in the output folder a v1 lock did not record.
 */
export async function readLock(file: string, displayPath: string, currentOutDir: string): Promise<Lock | undefined> {
  const bytes = await readStateBytes(file);
  if (bytes === undefined) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(bytes.toString('utf8'));
  } catch (error) {
    throw corruptLock(displayPath, `it is not valid JSON (${(error as Error).message})`);
  }
  const parsed = parseLockJson(json, currentOutDir);
  if (!parsed.ok) throw corruptLock(displayPath, parsed.problem);
  return parsed.lock;
}

function parseLockJson(
  json: unknown,
  currentOutDir: string,
): { ok: true; lock: Lock } | { ok: false; problem: string } {
  if ((json as { version?: unknown } | null)?.version === 1) {
    const old = lockV1Schema.safeParse(json);
    if (!old.success) return { ok: false, problem: describeIssue(old.error) };
    const files = Object.fromEntries(
      Object.entries(old.data.files).map(([filePath, entry]) => [
        filePath,
        { fingerprint: entry.fingerprint, inputs: entry.inputs, generated: entry.output, written: entry.output },
      ]),
    );
    return { ok: true, lock: { ...old.data, version: LOCK_VERSION, outDir: currentOutDir, files } };
  }
  const parsed = lockSchema.safeParse(json);
  return parsed.success ? { ok: true, lock: parsed.data } : { ok: false, problem: describeIssue(parsed.error) };
}

/** Parses lock text smol wrote earlier (from the object store), either version; undefined when it is not a lock. */
export function parseAnyLockText(text: string, currentOutDir = '.'): Lock | undefined {
  try {
    const parsed = parseLockJson(JSON.parse(text), currentOutDir);
    return parsed.ok ? parsed.lock : undefined;
  } catch {
    return undefined;
  }
}

function describeIssue(error: z.ZodError): string {
  const issue = error.issues[0]!;
  return `${issue.path.join('.') || 'the file'}: ${issue.message}`;
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
