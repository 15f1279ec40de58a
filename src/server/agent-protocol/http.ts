import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ProtocolError } from './types.js';

/** Reads a request body, refusing (413) anything over `limit` bytes before buffering it all. */
export async function readBody(request: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(request.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) throw new ProtocolError(413, `Request body over ${limit} bytes.`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new ProtocolError(413, `Request body over ${limit} bytes.`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/** The media type of a `Content-Type` header, lower-cased and without parameters (`''` when absent). */
export function mediaType(request: IncomingMessage): string {
  return (request.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
}

/**
 * A JSON object body. The body must be declared `application/json` (415 otherwise): a browser cannot send
 * that type cross-site without a CORS preflight, so a page elsewhere cannot make a `text/plain` or form
 * POST that creates a task. An empty body with no type at all reads as `{}` (clients that send no body).
 */
export async function readJson(request: IncomingMessage, limit: number): Promise<Record<string, unknown>> {
  const type = mediaType(request);
  const body = await readBody(request, limit);
  if (type === '' && body.length === 0) return {};
  if (type !== 'application/json') {
    throw new ProtocolError(415, `Send the body as application/json (got ${type === '' ? 'no Content-Type' : type}).`, {
      accept: 'application/json',
    });
  }
  if (body.length === 0) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    throw new ProtocolError(422, 'The body is not valid JSON.');
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
    throw new ProtocolError(422, 'The body must be a JSON object.');
  return parsed as Record<string, unknown>;
}

export function sendJson(
  response: ServerResponse,
  status: number,
  value: unknown,
  headers: Readonly<Record<string, string>> = {},
): void {
  const body = JSON.stringify(value);
  response.writeHead(status, {
    ...headers,
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
  });
  response.end(body);
}

/**
 * `Authorization: Bearer T`: the scheme in any case (RFC 7235 says schemes are case-insensitive), the
 * token compared in constant time.
 */
export function authorized(request: IncomingMessage, token: string | undefined): boolean {
  if (token === undefined) return true;
  const match = /^\s*(\S+)\s+(\S+)\s*$/.exec(request.headers.authorization ?? '');
  if (match === null || match[1]!.toLowerCase() !== 'bearer') return false;
  const expected = Buffer.from(token);
  const given = Buffer.from(match[2]!);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** `current_page` and `page_size` (both whole numbers from 1), with the spec's defaults 1 and 10. */
export function pageOf(url: URL): { page: number; size: number } {
  const read = (name: string, fallback: number): number => {
    const raw = url.searchParams.get(name);
    if (raw === null) return fallback;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < 1 || value > 10_000)
      throw new ProtocolError(422, `${name} must be a whole number from 1 to 10000 (got "${raw}").`);
    return value;
  };
  return { page: read('current_page', 1), size: read('page_size', 10) };
}

export function paginate<T>(
  items: readonly T[],
  page: number,
  size: number,
): { items: T[]; pagination: { total_items: number; total_pages: number; current_page: number; page_size: number } } {
  return {
    items: items.slice((page - 1) * size, page * size),
    pagination: {
      total_items: items.length,
      total_pages: Math.ceil(items.length / size),
      current_page: page,
      page_size: size,
    },
  };
}
