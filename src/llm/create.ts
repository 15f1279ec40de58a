import { SmolError } from '../errors.js';
import { createOpenAIProvider, OPENAI_BASE_URL, type OpenAIProviderOptions } from './openai.js';
import type { Provider } from './types.js';

/** The provider part of the spec frontmatter. */
export interface ProviderSettings {
  /** `openai`, `ollama` or `openai-compatible`; chosen from `baseURL` and the environment when absent. */
  provider?: string | undefined;
  baseURL?: string | undefined;
  model: string;
}

/** Test and CLI knobs passed straight to the SDK. */
export interface ProviderOverrides {
  fetch?: typeof fetch;
  maxRetries?: number;
  timeoutMs?: number;
}

export interface CreatedProvider {
  provider: Provider;
  /** For humans, e.g. `openai-compatible at http://127.0.0.1:11434/v1`. Never contains a key. */
  description: string;
}

const SUPPORTED = ['openai', 'ollama', 'openai-compatible'] as const;
const LATER = ['azure', 'anthropic'];

/**
 * Picks and builds the provider for a run. Reads only the `env` it is given (OPENAI_API_KEY,
 * OPENAI_BASE_URL, OPENAI_ORG_ID, OPENAI_PROJECT_ID, OLLAMA_HOST).
 */
export function createProvider(
  settings: ProviderSettings,
  env: Record<string, string | undefined>,
  overrides: ProviderOverrides = {},
): CreatedProvider {
  const apiKey = nonEmpty(env['OPENAI_API_KEY']);
  const envBaseURL = nonEmpty(env['OPENAI_BASE_URL']);
  const name = resolveProviderName(settings, env);
  const common: OpenAIProviderOptions = { name, ...definedOnly(overrides) };

  switch (name) {
    case 'openai': {
      const baseURL = checkURL(settings.baseURL ?? envBaseURL ?? OPENAI_BASE_URL, name);
      const provider = createOpenAIProvider({
        ...common,
        baseURL,
        ...(apiKey === undefined ? {} : { apiKey }),
        ...optional('organization', nonEmpty(env['OPENAI_ORG_ID'])),
        ...optional('project', nonEmpty(env['OPENAI_PROJECT_ID'])),
      });
      return { provider, description: describe(name, baseURL) };
    }
    case 'ollama': {
      const baseURL = checkURL(settings.baseURL ?? ollamaBaseURL(env['OLLAMA_HOST']), name);
      return { provider: createOpenAIProvider({ ...common, baseURL }), description: describe(name, baseURL) };
    }
    case 'openai-compatible': {
      const configured = settings.baseURL ?? envBaseURL;
      if (configured === undefined) {
        throw new SmolError('PROVIDER_NOT_CONFIGURED', 'Provider `openai-compatible` needs a `baseURL`.', {
          exitCode: 2,
          hint: 'Set `baseURL` in the spec frontmatter (e.g. http://127.0.0.1:8080/v1) or OPENAI_BASE_URL.',
        });
      }
      const baseURL = checkURL(configured, name);
      const provider = createOpenAIProvider({ ...common, baseURL, ...(apiKey === undefined ? {} : { apiKey }) });
      return { provider, description: describe(name, baseURL) };
    }
    default:
      if (LATER.includes(name)) {
        throw new SmolError('PROVIDER_UNSUPPORTED', `Provider \`${name}\` is not supported by this version of smol.`, {
          exitCode: 2,
          hint: `It comes in a later version; for now use one of: ${SUPPORTED.join(', ')}.`,
        });
      }
      throw new SmolError('PROVIDER_UNSUPPORTED', `Unknown provider \`${name}\`.`, {
        exitCode: 2,
        hint: `Set \`provider\` to one of: ${SUPPORTED.join(', ')}.`,
      });
  }
}

/**
 * The name of the provider {@link createProvider} would build (its `Provider.name`), without building it:
 * `provider` when set; else `openai-compatible` when a base URL is set (frontmatter or OPENAI_BASE_URL);
 * else `openai` when OPENAI_API_KEY is set; else it throws `PROVIDER_NOT_CONFIGURED`.
 */
export function resolveProviderName(
  settings: { provider?: string | undefined; baseURL?: string | undefined },
  env: Record<string, string | undefined>,
): string {
  if (settings.provider !== undefined) return settings.provider;
  if (settings.baseURL !== undefined || nonEmpty(env['OPENAI_BASE_URL']) !== undefined) return 'openai-compatible';
  if (nonEmpty(env['OPENAI_API_KEY']) !== undefined) return 'openai';
  throw new SmolError('PROVIDER_NOT_CONFIGURED', 'No model provider is configured.', {
    exitCode: 2,
    hint:
      'Set OPENAI_API_KEY for OpenAI, or `provider: ollama` in the spec frontmatter for a local Ollama, ' +
      'or `baseURL` (or OPENAI_BASE_URL) for any OpenAI-compatible server.',
  });
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

function checkURL(value: string, provider: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    url = new URL('invalid:');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new SmolError('PROVIDER_BAD_URL', `The base URL for \`${provider}\` is not an http(s) URL: ${redactURL(value)}`, {
      exitCode: 2,
      hint: 'Set `baseURL` to something like http://127.0.0.1:11434/v1.',
    });
  }
  return value.replace(/\/+$/, '');
}

function describe(name: string, baseURL: string): string {
  return `${name} at ${redactURL(baseURL)}`;
}

/** A URL may carry credentials (`https://user:secret@host`); never show them. */
function redactURL(value: string): string {
  try {
    const url = new URL(value);
    if (url.username === '' && url.password === '') return value;
    url.username = '***';
    url.password = '';
    return url.toString().replace(/\/+$/, '');
  } catch {
    return value.replace(/\/\/[^/@]*@/, '//***@');
  }
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}

function optional<K extends string>(key: K, value: string | undefined): { [P in K]?: string } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: string };
}

function definedOnly(overrides: ProviderOverrides): Partial<OpenAIProviderOptions> {
  const result: Partial<OpenAIProviderOptions> = {};
  if (overrides.fetch !== undefined) result.fetch = overrides.fetch;
  if (overrides.maxRetries !== undefined) result.maxRetries = overrides.maxRetries;
  if (overrides.timeoutMs !== undefined) result.timeoutMs = overrides.timeoutMs;
  return result;
}
