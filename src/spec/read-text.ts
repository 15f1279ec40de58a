import { constants } from 'node:fs';
import { open, realpath, stat } from 'node:fs/promises';
import path from 'node:path';

/** A spec or an included file larger than this is not spec text. */
export const MAX_SPEC_TEXT_BYTES = 4 * 1024 * 1024;

/**
 * Reads spec text without blocking on a FIFO or a device (a cloned repository may put one in the spec's
 * place) and without reading more than `maxBytes`. Throws the usual errno errors (`ENOENT`, `EISDIR`) and
 * `EINVAL` for something that is not a regular file, `EFBIG` when it is too large.
 */
export async function readSpecText(file: string, maxBytes = MAX_SPEC_TEXT_BYTES): Promise<string> {
  // O_NONBLOCK: a FIFO opens at once instead of waiting for a writer; it is then refused as not a file.
  const handle = await open(file, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    const stats = await handle.stat();
    if (stats.isDirectory()) throw Object.assign(new Error(`${file} is a folder`), { code: 'EISDIR' });
    if (!stats.isFile()) throw Object.assign(new Error(`${file} is not a regular file`), { code: 'EINVAL' });
    if (stats.size > maxBytes) throw Object.assign(new Error(`${file} is over ${maxBytes} bytes`), { code: 'EFBIG' });
    return (await handle.readFile()).toString('utf8');
  } finally {
    await handle.close();
  }
}

/**
 * The folder an include must stay in: the repository holding the spec (the nearest folder above it with
 * `.git`), or the spec's own folder outside a repository. Includes are read and sent to the model, and the
 * spec may come from a cloned repository: `include: [../../.ssh/id_rsa]` must not read a file outside it.
 */
export async function includeRoot(specDir: string): Promise<string> {
  let dir = specDir;
  for (;;) {
    if (
      await stat(path.join(dir, '.git')).then(
        () => true,
        () => false,
      )
    )
      return dir;
    const parent = path.dirname(dir);
    if (parent === dir) return specDir;
    dir = parent;
  }
}

/** True when `file`'s real location (links resolved) is inside `root`'s. */
export async function realInside(root: string, file: string): Promise<boolean> {
  const [realRoot, realFile] = await Promise.all([
    realpath(root).catch(() => path.resolve(root)),
    realpath(file).catch(() => undefined),
  ]);
  if (realFile === undefined) return true; // a missing file is reported as missing
  const relative = path.relative(realRoot, realFile);
  return relative === '' || (!relative.startsWith('..') && !path.isAbsolute(relative));
}
