/**
 * Lexical checks on paths a model (or a state file) names: no file-system access. Split from safe-path.ts
 * so that commands that only read state (status, check) load no glob matcher.
 */

/** Output paths smol refuses to touch whatever the model says (design.md 6). */
const RESERVED_TOP_FOLDERS = new Set(['.git', '.smol']);
// Control characters (C0, DEL, C1) and NUL: never part of a file name smol writes.
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point.
const CONTROL_CHARS = /[\u0000-\u001f\u007f-\u009f]/;
const DRIVE_LETTER = /^[a-zA-Z]:/;
// Invisible and bidirectional-override characters make a path read differently from what it is.
const INVISIBLE_CHARS = /[\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]/;
// Windows device names are refused everywhere so a spec stays portable.
const WINDOWS_DEVICE = /^(con|prn|aux|nul|com[0-9]|lpt[0-9])(\..*)?$/i;

/** The longest file or folder name smol writes, in bytes: 255 minus room for an atomic write's temp suffix. */
const MAX_NAME_BYTES = 240;

export interface PathRejection {
  /** The path exactly as the model produced it (control characters escaped for printing). */
  path: string;
  reason: string;
}

export type PathCheck = { ok: true; path: string } | { ok: false; reason: string };

/** Renders a hostile path so it can be printed safely on one line. */
export function printablePath(raw: string): string {
  return JSON.stringify(raw).slice(1, -1);
}

/**
 * Lexical checks on one model-supplied path. Returns the normalised relative path (forward slashes,
 * no `./` segments) or why it is refused. No file-system access.
 */
export function checkOutputPath(raw: string): PathCheck {
  // Pure, and asked again and again about the same paths (the lock's, each read and write): remembered.
  if (typeof raw !== 'string') return checkNow(raw);
  const known = checked.get(raw);
  if (known !== undefined) return known;
  const check = Object.freeze(checkNow(raw));
  if (checked.size >= MAX_REMEMBERED) checked.clear();
  checked.set(raw, check);
  return check;
}

const checked = new Map<string, PathCheck>();
const MAX_REMEMBERED = 50_000;

/**
 * The spelling {@link checkOutputPath} gives a path it accepts (`\` as `/`, empty and `.` segments
 * dropped: `./a//b` is `a/b`), for any path: how a planned file's dependencies and a debug fix's path are
 * matched with the accepted paths. It checks nothing.
 */
export function canonicalPath(raw: string): string {
  return raw
    .replace(/\\/g, '/')
    .split('/')
    .filter((segment) => segment !== '' && segment !== '.')
    .join('/');
}

function checkNow(raw: string): PathCheck {
  if (typeof raw !== 'string' || raw.trim() === '') return { ok: false, reason: 'empty path' };
  if (raw.length > 1024) return { ok: false, reason: 'path longer than 1024 characters' };
  if (CONTROL_CHARS.test(raw)) return { ok: false, reason: 'contains NUL or control characters' };
  if (INVISIBLE_CHARS.test(raw))
    return { ok: false, reason: 'contains invisible or bidirectional-override characters' };
  if (raw !== raw.trim()) return { ok: false, reason: 'leading or trailing whitespace' };
  if (raw.startsWith('/') || raw.startsWith('\\')) return { ok: false, reason: 'absolute path' };
  if (DRIVE_LETTER.test(raw)) return { ok: false, reason: 'drive letter' };
  if (raw.startsWith('~')) return { ok: false, reason: 'home-relative path' };
  const segments = raw.split(/[\\/]+/);
  if (segments.some((segment) => segment === '..')) return { ok: false, reason: '`..` segment' };
  const kept = segments.filter((segment) => segment !== '.' && segment !== '');
  if (kept.length === 0) return { ok: false, reason: 'names no file' };
  if (raw.endsWith('/') || raw.endsWith('\\')) return { ok: false, reason: 'names a folder, not a file' };
  const top = kept[0]!.toLowerCase();
  if (RESERVED_TOP_FOLDERS.has(top)) return { ok: false, reason: `inside ${kept[0]}/, which smol never writes` };
  if (kept.some((segment) => segment.toLowerCase() === '.git')) return { ok: false, reason: 'inside a .git folder' };
  if (kept.some((segment) => WINDOWS_DEVICE.test(segment))) return { ok: false, reason: 'reserved device name' };
  if (kept.some((segment) => /[<>:"|?*]/.test(segment)))
    return { ok: false, reason: 'character not allowed in file names (<>:"|?*)' };
  // File systems limit a name to 255 bytes, and an atomic write adds a temp suffix to it.
  if (kept.some((segment) => Buffer.byteLength(segment) > MAX_NAME_BYTES))
    return { ok: false, reason: `a file or folder name longer than ${MAX_NAME_BYTES} bytes` };
  return { ok: true, path: kept.join('/') };
}
