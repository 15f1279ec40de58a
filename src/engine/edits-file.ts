import { applyPatch, createTwoFilesPatch, formatPatch, parsePatch, reversePatch, type StructuredPatch } from 'diff';
import { sha256 } from '../internal/hash.js';
import { readStateFile, removeStateFile, writeStateFile } from '../workspace/state-file.js';

/**
 * `smol.edits.patch` (committed next to the lock): for every output file whose content differs from smol's
 * last generation of it, a unified diff from that generation to the file as smol last saw it. It is the
 * hand edits themselves, reviewable in a pull request, and it lets a fresh clone (no `.smol/`) rebuild
 * each merge base exactly: reverse-apply the diff to the file, then check the result against the lock's
 * `generated` hash. Files equal to their generation need no entry.
 */
export interface EditRecord {
  path: string;
  /** Hash of the generation (the merge base); must equal the lock's `generated`. */
  generated: string;
  /** Hash of the content the diff leads to. */
  edited: string;
  patch: StructuredPatch;
}

const HEADER = [
  "# smol.edits.patch: hand edits to generated files, as diffs from smol's last generation of each file.",
  '# Written by smol; commit it with smol.lock, so every clone merges your edits as this one does.',
  '',
].join('\n');
const GENERATED = /^generated ([0-9a-f]{64})$/;
const EDITED = /^edited ([0-9a-f]{64})$/;

export interface EditsFile {
  records: Map<string, EditRecord>;
  /** Parts of the file that could not be read (a damaged or hand-made entry); never trusted. */
  problems: string[];
}

/** Reads the edits file; a missing file has no records. Everything in it is checked against hashes before use. */
export async function readEditsFile(file: string): Promise<EditsFile> {
  const text = await readStateFile(file, { maxBytes: 64 * 1024 * 1024 });
  if (text === undefined) return { records: new Map(), problems: [] };
  return parseEdits(text);
}

function parseEdits(text: string): EditsFile {
  const records = new Map<string, EditRecord>();
  const problems: string[] = [];
  let patches: StructuredPatch[];
  try {
    patches = parsePatch(text);
  } catch (error) {
    return { records, problems: [`cannot be read as a unified diff (${(error as Error).message})`] };
  }
  for (const patch of patches) {
    if (patch.oldFileName === undefined && patch.hunks.length === 0) continue;
    const generated = GENERATED.exec(patch.oldHeader ?? '')?.[1];
    const edited = EDITED.exec(patch.newHeader ?? '')?.[1];
    const path = patch.oldFileName;
    if (path === undefined || generated === undefined || edited === undefined || patch.newFileName !== path) {
      problems.push(
        `an entry for ${path ?? '(no name)'} has no smol header (\`generated <hash>\` / \`edited <hash>\`)`,
      );
      continue;
    }
    records.set(path, { path, generated, edited, patch });
  }
  return { records, problems };
}

/**
 * The generation `record` describes, rebuilt from the file's current content, or undefined when it cannot be
 * rebuilt exactly (the hash decides: a fuzzy apply that does not give back the generation is not used).
 */
export function baseFromRecord(record: EditRecord, current: string): string | undefined {
  const exact = sha256(current) === record.edited;
  let rebuilt: string | false;
  try {
    rebuilt = applyPatch(current, reversePatch(record.patch), exact ? {} : { fuzzFactor: 2 });
  } catch {
    return undefined;
  }
  return rebuilt !== false && sha256(rebuilt) === record.generated ? rebuilt : undefined;
}

/** One entry: the diff from `base` (smol's generation) to `current` (what is on disk). */
export function editRecord(path: string, base: string, current: string): string {
  return createTwoFilesPatch(path, path, base, current, `generated ${sha256(base)}`, `edited ${sha256(current)}`, {
    context: 3,
  });
}

/**
 * Writes the edits file from rendered entries (sorted by path, so it is stable in diffs), or removes it when
 * there are none. Returns true when the file changed.
 */
export async function writeEditsFile(file: string, entries: ReadonlyMap<string, string>): Promise<boolean> {
  const existing = await readStateFile(file).catch(() => undefined);
  if (entries.size === 0) {
    if (existing === undefined) return false;
    await removeStateFile(file);
    return true;
  }
  const text =
    HEADER +
    [...entries.keys()]
      .sort()
      .map((path) => entries.get(path)!)
      .join('');
  if (text === existing) return false;
  await writeStateFile(file, text);
  return true;
}

/** The rendered text of a parsed record, to keep an entry smol cannot rebuild exactly as it was. */
export function renderRecord(record: EditRecord): string {
  const text = formatPatch({ ...record.patch, index: record.path });
  return text.endsWith('\n') ? text : `${text}\n`;
}
