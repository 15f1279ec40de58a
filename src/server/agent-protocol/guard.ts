import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';
import os from 'node:os';
import { SmolError } from '../../errors.js';
import { ProtocolError } from './types.js';

/** Who may reach the server, as the operator configured it. */
export interface ExposureOptions {
  /** The address bound (`127.0.0.1` unless the operator says otherwise). */
  host: string;
  token: string | undefined;
  /** More names the `Host` header may carry (a reverse proxy's name); `*` accepts any. */
  allowHosts: readonly string[];
  /** Browser origins allowed to call the server (CORS), exactly as `scheme://host[:port]`. */
  corsOrigins: readonly string[];
}

/** True for addresses only this machine can reach. */
function isLoopbackHost(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (bare === 'localhost' || bare === '::1') return true;
  return isIP(bare) === 4 && bare.startsWith('127.');
}

/**
 * Refuses configurations that would expose the operator's API keys: an empty token (it would look like
 * protection and be none), a token with spaces (no client could send it), a network-facing address with
 * no token, and CORS origins that are not plain origins.
 *
 * @throws SmolError `SERVE_UNSAFE` (exit 2)
 */
export function checkExposure(options: ExposureOptions): void {
  const unsafe = (message: string, hint: string): SmolError =>
    new SmolError('SERVE_UNSAFE', message, { exitCode: 2, hint });
  if (options.token !== undefined && options.token.trim() === '') {
    throw unsafe(
      'The bearer token is empty, which would let anyone in.',
      'Give a long random --token (or SMOL_SERVE_TOKEN), e.g. from `openssl rand -hex 24`, or leave both unset on 127.0.0.1.',
    );
  }
  if (options.token !== undefined && !/^[\x21-\x7e]+$/.test(options.token)) {
    throw unsafe(
      'The bearer token must be printable ASCII without spaces.',
      'Use a token such as the output of `openssl rand -hex 24`.',
    );
  }
  if (!isLoopbackHost(options.host) && options.token === undefined) {
    throw unsafe(
      `--host ${options.host} makes the server reachable from the network, and it spends your API key: it needs a token.`,
      'Set --token (or SMOL_SERVE_TOKEN) to a long random value, or bind 127.0.0.1 and put a proxy in front.',
    );
  }
  for (const origin of options.corsOrigins) {
    let parsed: URL | undefined;
    try {
      parsed = new URL(origin);
    } catch {
      parsed = undefined;
    }
    if (parsed === undefined || !/^https?:$/.test(parsed.protocol) || parsed.origin !== origin) {
      throw unsafe(
        `--cors ${origin} is not an origin.`,
        'Give the exact origin of the page that calls the server, e.g. --cors https://app.example.com (no path, no trailing slash).',
      );
    }
  }
}

/**
 * Per-request checks made before anything else, against DNS rebinding and cross-site requests:
 * the `Host` header must name this server, and a browser `Origin` must be this server or a `--cors`
 * origin. Answers which CORS origin to echo, if any.
 */
export class RequestGuard {
  private readonly hostNames: Set<string> | undefined;
  private readonly corsOrigins: Set<string>;

  constructor(options: ExposureOptions) {
    this.corsOrigins = new Set(options.corsOrigins);
    this.hostNames = options.allowHosts.includes('*') ? undefined : servedNames(options.host, options.allowHosts);
  }

  /** @throws ProtocolError 403 for a foreign Host or Origin. Returns the origin to allow with CORS headers. */
  check(request: IncomingMessage): { corsOrigin: string | undefined } {
    const host = request.headers.host ?? '';
    const hostname = hostnameOf(host);
    if (this.hostNames !== undefined && (hostname === undefined || !this.hostNames.has(hostname))) {
      throw new ProtocolError(403, `This server does not answer for Host "${host}".`);
    }
    const origin = request.headers.origin;
    if (origin === undefined) return { corsOrigin: undefined };
    if (this.corsOrigins.has(origin)) return { corsOrigin: origin };
    if (sameOrigin(origin, host)) return { corsOrigin: undefined };
    throw new ProtocolError(
      403,
      `Requests from ${origin} are not allowed; the operator can allow a browser origin with --cors.`,
    );
  }
}

/** The names a Host header may carry: the bound address (every local address for 0.0.0.0 / ::), localhost, and the extras. */
function servedNames(boundHost: string, extras: readonly string[]): Set<string> {
  const names = new Set(['localhost', '127.0.0.1', '[::1]']);
  const add = (name: string): void => {
    const hostname = hostnameOf(isIP(name) === 6 ? `[${name}]` : name);
    if (hostname !== undefined) names.add(hostname);
  };
  add(boundHost);
  for (const extra of extras) add(extra);
  const bare = boundHost.replace(/^\[|\]$/g, '');
  if (bare === '0.0.0.0' || bare === '::') {
    add(os.hostname());
    for (const addresses of Object.values(os.networkInterfaces()))
      for (const address of addresses ?? []) add(address.address);
  }
  return names;
}

/** `Example.com:8000` -> `example.com`, `[::1]:80` -> `[::1]`; undefined when it is not a host. */
function hostnameOf(host: string): string | undefined {
  if (host === '' || /[\s/@?#\\]/.test(host)) return undefined;
  try {
    return new URL(`http://${host}`).hostname;
  } catch {
    return undefined;
  }
}

function sameOrigin(origin: string, host: string): boolean {
  try {
    const parsed = new URL(origin);
    return /^https?:$/.test(parsed.protocol) && parsed.host === new URL(`http://${host}`).host;
  } catch {
    return false;
  }
}
