import { closeSync, constants, fstatSync, lstatSync, openSync, readFileSync, realpathSync, type Stats } from 'node:fs';

// Why synchronous: the calls here (lstat, realpath, reading a small file) take microseconds in the kernel,
// whereas each call through `fs/promises` is a round trip to libuv's four threads, which costs more than
// the call itself on a busy machine (~0.15 ms against ~0.01 ms) and queues behind every other file-system
// call in flight: a 2,000-file status made 10,000 of them. smol's reads and path checks are of local files
// it is about to use at once, so blocking for them is cheaper than waiting for them.
// Only what reads: anything that changes the file system (create, mkdir, rename, unlink, and fsync) stays
// asynchronous. Those open a transaction in the file system's journal, and may wait in the kernel for a
// commit another thread's fsync started; on the main thread that wait blocked every stream (a 200-file run
// spent 300 ms in such calls during generation).

/** `lstat`, or undefined when it fails for any reason (missing, a file on the way, no permission). */
export function lstatOrUndefined(file: string): Stats | undefined {
  try {
    // A missing file is the common case (a new output): no exception for it.
    return lstatSync(file, { throwIfNoEntry: false });
  } catch {
    return undefined;
  }
}

/** The system's `realpath(3)` (as `fs/promises` calls it), or undefined when it fails for any reason. */
export function realpathOrUndefined(file: string): string | undefined {
  // realpath fails for whatever lstat does not find; asking lstat first spares an exception per missing
  // folder (a new output folder's files walk up through several).
  if (lstatOrUndefined(file) === undefined) return undefined;
  try {
    return realpathSync.native(file);
  } catch {
    return undefined;
  }
}

/** What `readRegularFileNow` returns for a FIFO, a device or a folder: the caller decides. */
export const NOT_REGULAR = Symbol('not a regular file');

/**
 * Reads a regular file as UTF-8. Opened with O_NONBLOCK, so a FIFO in the file's place is reported
 * (`NOT_REGULAR`) instead of blocking the process; `flags` adds to the open flags (O_NOFOLLOW).
 * Errors (ENOENT included) are thrown as the system gives them.
 */
export function readRegularFileNow(file: string, flags = 0): Buffer | typeof NOT_REGULAR {
  const fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK | flags);
  try {
    if (!fstatSync(fd).isFile()) return NOT_REGULAR;
    return readFileSync(fd);
  } finally {
    closeSync(fd);
  }
}
