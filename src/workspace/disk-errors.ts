import { SmolError } from '../errors.js';

const DISK_ERRORS: Record<string, string> = {
  ENOSPC: 'no space left on the device',
  EDQUOT: 'the disk quota is exhausted',
  EROFS: 'the file system is read-only',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EISDIR: 'a folder is in the way',
  ENOTDIR: 'a file is in the way of a folder',
  EMFILE: 'too many open files',
};

/**
 * Turns a file-system refusal into a user error that says what and how to go on; anything else is
 * rethrown as it is (a bug).
 */
export function asDiskError(error: unknown, action: string, file: string): unknown {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code === undefined || !(code in DISK_ERRORS)) return error;
  return new SmolError('DISK_WRITE_FAILED', `Could not ${action} ${file}: ${DISK_ERRORS[code]} (${code}).`, {
    cause: error,
    hint: 'Nothing already on disk was damaged. Fix the cause, then run the command again: an interrupted apply is finished first.',
  });
}
