import { readFile } from 'node:fs/promises';
import { decodeText, sha256 } from '../internal/hash.js';
import { resolveInsideNow } from './inside.js';
import { NOT_REGULAR, readRegularFileNow } from './sync-fs.js';

/** Reads an output file, or `undefined` when it does not exist. Refuses paths that leave `root`. */
export async function readOutputFile(root: string, relative: string): Promise<string | undefined> {
  const target = resolveInsideNow(root, relative);
  try {
    // A regular file is read at once (sync-fs.ts says why); anything else the way it always was.
    const bytes = readRegularFileNow(target);
    return bytes === NOT_REGULAR ? await readFile(target, 'utf8') : bytes.toString('utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/** `readOutputFile` with the content's hash (`sha256(text)`), computed without encoding the text again. */
export async function readOutputText(
  root: string,
  relative: string,
): Promise<{ text: string; hash: string } | undefined> {
  const target = resolveInsideNow(root, relative);
  try {
    const bytes = readRegularFileNow(target);
    if (bytes !== NOT_REGULAR) return decodeText(bytes);
    const text = await readFile(target, 'utf8');
    return { text, hash: sha256(text) };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}
