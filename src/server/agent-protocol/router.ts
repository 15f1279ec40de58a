/** One row of the routing table: `pattern` is a path whose `:name` segments capture one segment each. */
export interface Route<H> {
  method: 'GET' | 'POST';
  pattern: string;
  handler: H;
}

export type RouteMatch<H> =
  | { kind: 'found'; handler: H; params: Record<string, string> }
  /** The path exists but not with this method: `allow` lists the methods it has (for 405 and OPTIONS). */
  | { kind: 'method-not-allowed'; allow: string[] }
  | { kind: 'not-found' };

/**
 * Looks a request up in the table. HEAD is answered by the GET route (node:http sends no body for HEAD);
 * OPTIONS is never in the table (the server answers it from `allow`). Empty segments are ignored, so a
 * trailing slash or a doubled one does not matter. (A table and a segment compare, rather than a router
 * dependency: five routes, no wildcards.)
 */
export function matchRoute<H>(routes: readonly Route<H>[], method: string, pathname: string): RouteMatch<H> {
  const segments = splitPath(pathname);
  if (segments === undefined) return { kind: 'not-found' };
  const wanted = method === 'HEAD' ? 'GET' : method;
  const methods: string[] = [];
  for (const route of routes) {
    const params = matchPattern(route.pattern, segments);
    if (params === undefined) continue;
    if (route.method === wanted) return { kind: 'found', handler: route.handler, params };
    methods.push(route.method);
  }
  if (methods.length === 0) return { kind: 'not-found' };
  return { kind: 'method-not-allowed', allow: allowHeader(methods) };
}

/** The methods to list in `Allow` for a path: its own, HEAD with GET, and OPTIONS. */
function allowHeader(methods: readonly string[]): string[] {
  const allow = new Set(methods);
  if (allow.has('GET')) allow.add('HEAD');
  allow.add('OPTIONS');
  return [...allow];
}

function splitPath(pathname: string): string[] | undefined {
  try {
    return pathname
      .split('/')
      .filter((segment) => segment !== '')
      .map((segment) => decodeURIComponent(segment));
  } catch {
    // Malformed percent-encoding names no route.
    return undefined;
  }
}

function matchPattern(pattern: string, segments: readonly string[]): Record<string, string> | undefined {
  const parts = pattern.split('/').filter((part) => part !== '');
  if (parts.length !== segments.length) return undefined;
  const params: Record<string, string> = {};
  for (const [index, part] of parts.entries()) {
    const segment = segments[index]!;
    if (part.startsWith(':')) params[part.slice(1)] = segment;
    else if (part !== segment) return undefined;
  }
  return params;
}
