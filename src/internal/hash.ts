import { isUtf8 } from 'node:buffer';
import { createHash } from 'node:crypto';

export function sha256(text: string | Buffer): string {
  return createHash('sha256').update(text).digest('hex');
}

/**
 * The text of a file's bytes and `sha256(text)`. Valid UTF-8 is the text's own encoding, so its bytes are
 * hashed as they are, rather than encoding the text again (a 50 MB status encoded 50 MB for nothing);
 * other bytes decode with replacement characters, and the hash is of that text, as before.
 */
export function decodeText(bytes: Buffer): { text: string; hash: string } {
  const text = bytes.toString('utf8');
  return { text, hash: isUtf8(bytes) ? sha256(bytes) : sha256(text) };
}

/** JSON with object keys sorted at every level: the same value always gives the same text. */
export function stableStringify(value: unknown, indent?: number): string {
  return JSON.stringify(sortKeys(value), null, indent);
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .filter((key) => (value as Record<string, unknown>)[key] !== undefined)
        .map((key) => [key, sortKeys((value as Record<string, unknown>)[key])]),
    );
  }
  return value;
}

export function hashJson(value: unknown): string {
  return sha256(stableStringify(value));
}
