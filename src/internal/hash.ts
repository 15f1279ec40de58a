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
    // Filled key by key rather than through entry arrays (a 2,000-file lock: half the time). No prototype,
    // so a `__proto__` key is an own property, as Object.fromEntries would make it.
    const sorted: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
    for (const key of Object.keys(value).sort()) {
      const item = (value as Record<string, unknown>)[key];
      if (item !== undefined) sorted[key] = sortKeys(item);
    }
    return sorted;
  }
  return value;
}

export function hashJson(value: unknown): string {
  return sha256(stableStringify(value));
}
