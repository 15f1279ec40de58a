/*
 * Rendering values for messages. A spec's frontmatter is the kind of place someone pastes an API key
 * by mistake (`model: sk-...`), and design.md says a key never reaches an error message, so everything
 * we echo back goes through `renderValue`.
 */

const SECRET = /sk-[A-Za-z0-9_-]{8,}/g;
const MAX_STRING = 80;
const MAX_RENDERED = 100;

/** True for a string that looks like an API key. */
export function looksSecret(value: string): boolean {
  SECRET.lastIndex = 0;
  return SECRET.test(value);
}

/** A short, human rendering of a received value (JSON-ish), with secrets redacted and long text cut. */
export function renderValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (typeof value === 'string') return renderString(value);
  if (value instanceof Date)
    return Number.isNaN(value.getTime()) ? 'an invalid date' : `date ${value.toISOString().slice(0, 10)}`;
  let json: string | undefined;
  try {
    json = JSON.stringify(value, (_key, inner: unknown) => (typeof inner === 'string' ? redactString(inner) : inner));
  } catch {
    json = undefined;
  }
  json ??= String(value);
  return json.length > MAX_RENDERED ? `${json.slice(0, MAX_RENDERED - 1)}…` : json;
}

function renderString(value: string): string {
  if (looksSecret(value)) return '"sk-…" [a secret-looking value, redacted]';
  if (value.length > MAX_STRING)
    return `"${JSON.stringify(value.slice(0, 24)).slice(1, -1)}…" [${value.length} characters]`;
  return JSON.stringify(value);
}

function redactString(value: string): string {
  const redacted = value.replace(SECRET, 'sk-…[redacted]');
  return redacted.length > MAX_STRING ? `${redacted.slice(0, 24)}…[${redacted.length} characters]` : redacted;
}

/** A list of allowed values: `"a", "b" or "c"`. */
export function renderChoices(values: readonly unknown[]): string {
  const rendered = values.map((value) => JSON.stringify(value));
  if (rendered.length <= 1) return rendered.join('');
  return `${rendered.slice(0, -1).join(', ')} or ${rendered.at(-1) ?? ''}`;
}

/** The closest candidate to `name` by edit distance, if it is close enough to be a likely typo. */
export function closestName(name: string, candidates: readonly string[]): string | undefined {
  const lower = name.toLowerCase();
  let best: { candidate: string; distance: number } | undefined;
  for (const candidate of candidates) {
    const distance = editDistance(lower, candidate.toLowerCase());
    if (best === undefined || distance < best.distance) best = { candidate, distance };
  }
  if (best === undefined) return undefined;
  const allowed = Math.max(1, Math.min(3, Math.floor(best.candidate.length / 3)));
  return best.distance <= allowed ? best.candidate : undefined;
}

/** Levenshtein distance with adjacent transpositions counted as one edit. */
export function editDistance(a: string, b: string): number {
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d: number[][] = Array.from({ length: rows }, (_, i) =>
    Array.from({ length: cols }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  const at = (i: number, j: number): number => d[i]?.[j] ?? Number.POSITIVE_INFINITY;
  for (let i = 1; i < rows; i += 1) {
    for (let j = 1; j < cols; j += 1) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let value = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        value = Math.min(value, at(i - 2, j - 2) + 1);
      const row = d[i];
      if (row !== undefined) row[j] = value;
    }
  }
  return at(a.length, b.length);
}
