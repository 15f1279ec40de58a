import { ANTHROPIC_BASE_URL, OPENAI_BASE_URL, PROVIDER_NAMES } from './endpoints.js';
import { redactURL } from './url.js';

/** The provider part of the spec frontmatter (a whole `spec.settings` fits). */
export interface ProviderSettings {
  /** `openai`, `azure`, `anthropic`, `ollama` or `openai-compatible`; detected when absent. */
  provider?: string | undefined;
  baseURL?: string | undefined;
  model?: string | undefined;
  azure?:
    | { endpoint?: string | undefined; deployment?: string | undefined; apiVersion?: string | undefined }
    | undefined;
  rateLimit?: { rpm?: number | undefined; tpm?: number | undefined } | undefined;
  /** Seconds one call may take in all (default 20 minutes). */
  callTimeout?: number | undefined;
  /** Largest generated file: a code answer that streams past it is stopped. */
  maxFileBytes?: number | undefined;
}

/** The environment the caller passes; the library reads no other. */
export type Env = Record<string, string | undefined>;

/** Where and how a provider connects, with what is missing. Never holds a key's value. */
export interface Connection {
  name: string;
  /** The server, credentials removed (for Azure: the resource endpoint). */
  url: string | undefined;
  /** The variable the key comes from, or undefined when none is needed or used. */
  keyVariable: string | undefined;
  keySet: boolean;
  azure?: { endpoint: string; deployment: string | undefined; apiVersion: string };
  /** What must be fixed before a call can work. */
  problems: ConnectionProblem[];
}

interface ConnectionProblem {
  code: string;
  message: string;
  hint: string;
}

const DEFAULT_AZURE_API_VERSION = '2024-10-21';

/** Where `name` connects given the settings and environment, and what is missing. Never throws. */
export function resolveConnection(name: string, settings: ProviderSettings, env: Env): Connection {
  const problems: ConnectionProblem[] = [];
  const found = { name, settings, env, problems };
  switch (name) {
    case 'openai': {
      const key = requireKey(
        found,
        'OPENAI_API_KEY',
        'Set OPENAI_API_KEY, or for a local server set `provider: openai-compatible` and `baseURL`.',
      );
      return {
        name,
        url: httpURL(found, settings.baseURL ?? nonEmpty(env.OPENAI_BASE_URL) ?? OPENAI_BASE_URL),
        ...key,
        problems,
      };
    }
    case 'ollama':
      return {
        name,
        url: httpURL(found, settings.baseURL ?? ollamaBaseURL(env.OLLAMA_HOST)),
        keyVariable: undefined,
        keySet: false,
        problems,
      };
    case 'openai-compatible':
      return openAICompatible(found);
    case 'anthropic': {
      const key = requireKey(
        found,
        'ANTHROPIC_API_KEY',
        'Set ANTHROPIC_API_KEY (create one in the Anthropic Console, Settings > API keys).',
      );
      // The SDK adds /v1/messages itself; a baseURL copied from OpenAI habits often ends in /v1.
      const base = httpURL(found, settings.baseURL ?? nonEmpty(env.ANTHROPIC_BASE_URL) ?? ANTHROPIC_BASE_URL)?.replace(
        /\/v1$/,
        '',
      );
      return { name, url: base, ...key, problems };
    }
    case 'azure':
      return azure(found);
    default:
      problems.push({
        code: 'PROVIDER_UNSUPPORTED',
        message: `Unknown provider \`${name}\`.`,
        hint: `Set \`provider\` to one of: ${PROVIDER_NAMES.join(', ')}.`,
      });
      return { name, url: undefined, keyVariable: undefined, keySet: false, problems };
  }
}

/** What resolving a connection works from, and the problems it has found so far. */
interface Resolving {
  name: string;
  settings: ProviderSettings;
  env: Env;
  problems: ConnectionProblem[];
}

function openAICompatible({ name, settings, env, problems }: Resolving): Connection {
  const configured = settings.baseURL ?? nonEmpty(env.OPENAI_BASE_URL);
  if (configured === undefined) {
    problems.push({
      code: 'PROVIDER_NOT_CONFIGURED',
      message: 'Provider `openai-compatible` needs a `baseURL`.',
      hint: 'Set `baseURL` in the spec frontmatter (e.g. http://127.0.0.1:8080/v1), --base-url, or OPENAI_BASE_URL.',
    });
  }
  const keySet = nonEmpty(env.OPENAI_API_KEY) !== undefined;
  const url = configured === undefined ? undefined : httpURL({ name, settings, env, problems }, configured);
  return { name, url, keyVariable: keySet ? 'OPENAI_API_KEY' : undefined, keySet, problems };
}

function azure(found: Resolving): Connection {
  const { name, settings, env, problems } = found;
  const key = requireKey(
    found,
    'AZURE_OPENAI_API_KEY',
    'Set AZURE_OPENAI_API_KEY to a key of the Azure OpenAI resource (Keys and Endpoint in the portal).',
  );
  const configured = settings.azure?.endpoint ?? nonEmpty(env.AZURE_OPENAI_ENDPOINT) ?? settings.baseURL;
  if (configured === undefined) {
    problems.push({
      code: 'PROVIDER_NOT_CONFIGURED',
      message: 'Provider `azure` needs the resource endpoint.',
      hint: 'Set `azure: { endpoint: https://RESOURCE.openai.azure.com }` in the frontmatter, or AZURE_OPENAI_ENDPOINT.',
    });
  }
  // People paste the endpoint with the SDK's /openai suffix; the client adds it again.
  const endpoint = configured === undefined ? undefined : httpURL(found, configured)?.replace(/\/openai$/, '');
  const apiVersion = settings.azure?.apiVersion ?? nonEmpty(env.OPENAI_API_VERSION) ?? DEFAULT_AZURE_API_VERSION;
  const deployment = settings.azure?.deployment;
  return {
    name,
    url: endpoint,
    ...key,
    ...(endpoint === undefined ? {} : { azure: { endpoint, deployment, apiVersion } }),
    problems,
  };
}

/** `value` without trailing slashes when it is an http(s) URL; otherwise a PROVIDER_BAD_URL problem. */
function httpURL({ name, problems }: Resolving, value: string): string | undefined {
  const checked = checkURL(value);
  if (checked === undefined) {
    problems.push({
      code: 'PROVIDER_BAD_URL',
      message: `The base URL for \`${name}\` is not an http(s) URL: ${redactURL(value)}`,
      hint: 'Set `baseURL` to something like http://127.0.0.1:11434/v1.',
    });
  }
  return checked;
}

function requireKey(
  { env, problems }: Resolving,
  variable: string,
  hint: string,
): { keyVariable: string; keySet: boolean } {
  const keySet = nonEmpty(env[variable]) !== undefined;
  if (!keySet) problems.push({ code: 'PROVIDER_NO_KEY', message: `${variable} is not set.`, hint });
  return { keyVariable: variable, keySet };
}

/** `openai at https://api.openai.com/v1`; for Azure with the deployment and API version. */
export function describeConnection(connection: Connection): string {
  const where = `${connection.name} at ${redactURL(connection.url ?? '(no URL)')}`;
  if (connection.azure === undefined) return where;
  const deployment = connection.azure.deployment === undefined ? '' : `deployment ${connection.azure.deployment}, `;
  return `${where} (${deployment}api-version ${connection.azure.apiVersion})`;
}

/** OLLAMA_HOST may be `host:port`, `http://host:port` or `0.0.0.0` (the address Ollama binds to). */
export function ollamaBaseURL(host: string | undefined): string {
  let origin = nonEmpty(host?.trim()) ?? 'http://127.0.0.1:11434';
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(origin)) origin = `http://${origin}`;
  origin = origin.replace(/\/+$/, '');
  const url = new URL(origin);
  if (url.hostname === '0.0.0.0') url.hostname = '127.0.0.1';
  if (url.protocol === 'http:' && url.port === '' && !/:\d+$/.test(origin)) url.port = '11434';
  const base = url.toString().replace(/\/+$/, '');
  return base.endsWith('/v1') ? base : `${base}/v1`;
}

function checkURL(value: string): string | undefined {
  let protocol: string;
  try {
    protocol = new URL(value).protocol;
  } catch {
    return undefined;
  }
  return protocol === 'http:' || protocol === 'https:' ? value.replace(/\/+$/, '') : undefined;
}

/** An environment value, or undefined when it is unset or empty (an empty variable counts as unset). */
export function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}
