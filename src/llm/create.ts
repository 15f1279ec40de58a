import { SmolError } from '../errors.js';
import { ANTHROPIC_BASE_URL, OPENAI_BASE_URL } from './endpoints.js';
import type { OpenAIProviderOptions } from './openai.js';
import { withRateLimit, type Clock } from './rate-limit.js';
import { DEFAULT_CALL_TIMEOUT_MS, type CallLimits } from './call-limits.js';
import { redactURL } from './url.js';
import type { Provider } from './types.js';

/** The provider part of the spec frontmatter (a whole `spec.settings` fits). */
export interface ProviderSettings {
  /** `openai`, `azure`, `anthropic`, `ollama` or `openai-compatible`; detected when absent. */
  provider?: string | undefined;
  baseURL?: string | undefined;
  model?: string | undefined;
  azure?: { endpoint?: string | undefined; deployment?: string | undefined; apiVersion?: string | undefined } | undefined;
  rateLimit?: { rpm?: number | undefined; tpm?: number | undefined } | undefined;
  /** Seconds one call may take in all (default 20 minutes). */
  callTimeout?: number | undefined;
  /** Largest generated file: a code answer that streams past it is stopped. */
  maxFileBytes?: number | undefined;
}

export { redactURL };

/** Test and CLI knobs passed straight to the SDK and the rate limiter. */
export interface ProviderOverrides {
  fetch?: typeof fetch;
  maxRetries?: number;
  timeoutMs?: number;
  /** For the rate limiter's waits (tests). */
  clock?: Clock;
  /** Longest total pause for 429s per call (default 10 minutes). */
  maxWaitMs?: number;
  /** How long {@link detectProvider} waits for a local Ollama (default 500 ms). */
  probeTimeoutMs?: number;
}

export type Env = Record<string, string | undefined>;

/** Which provider, and why: printed by `smol doctor`, available to the CLI. */
export interface ProviderChoice {
  name: string;
  /** e.g. `ANTHROPIC_API_KEY is set`, `provider: ollama`, `Ollama answered at http://127.0.0.1:11434`. */
  reason: string;
}

export interface CreatedProvider {
  provider: Provider;
  /**
   * For humans and the response-cache key, e.g. `openai-compatible at http://127.0.0.1:11434/v1`.
   * Never contains a key; stable however the provider was chosen.
   */
  description: string;
  /** Why this provider was chosen. */
  reason: string;
}

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
  problems: { code: string; message: string; hint: string }[];
}

const PROVIDERS = ['openai', 'azure', 'anthropic', 'ollama', 'openai-compatible'] as const;
const DEFAULT_AZURE_API_VERSION = '2024-10-21';
const DEFAULT_PROBE_TIMEOUT_MS = 500;

/**
 * The provider the settings and environment name, without any network call (design.md 2), in this order:
 * `provider`; `azure.endpoint` (azure); `baseURL` (openai-compatible); OPENAI_BASE_URL (openai-compatible);
 * ANTHROPIC_API_KEY for a `claude-` model; OPENAI_API_KEY; ANTHROPIC_API_KEY; AZURE_OPENAI_API_KEY with
 * AZURE_OPENAI_ENDPOINT. Undefined when none matches (then {@link detectProvider} looks for Ollama).
 */
export function chooseProvider(settings: ProviderSettings, env: Env): ProviderChoice | undefined {
  if (settings.provider !== undefined) return { name: settings.provider, reason: `provider: ${settings.provider} is set` };
  if (settings.azure?.endpoint !== undefined) return { name: 'azure', reason: '`azure.endpoint` is set' };
  if (settings.baseURL !== undefined) return { name: 'openai-compatible', reason: '`baseURL` is set' };
  if (nonEmpty(env.OPENAI_BASE_URL) !== undefined) return { name: 'openai-compatible', reason: 'OPENAI_BASE_URL is set' };
  const anthropicKey = nonEmpty(env.ANTHROPIC_API_KEY) !== undefined;
  if (anthropicKey && /^(anthropic[./])?claude-/i.test(settings.model ?? '')) {
    return { name: 'anthropic', reason: `ANTHROPIC_API_KEY is set and ${settings.model} is a Claude model` };
  }
  if (nonEmpty(env.OPENAI_API_KEY) !== undefined) return { name: 'openai', reason: 'OPENAI_API_KEY is set' };
  if (anthropicKey) return { name: 'anthropic', reason: 'ANTHROPIC_API_KEY is set' };
  if (nonEmpty(env.AZURE_OPENAI_API_KEY) !== undefined && nonEmpty(env.AZURE_OPENAI_ENDPOINT) !== undefined) {
    return { name: 'azure', reason: 'AZURE_OPENAI_API_KEY and AZURE_OPENAI_ENDPOINT are set' };
  }
  return undefined;
}

/**
 * The name of the provider a run would use (its `Provider.name`), without building it or touching the
 * network; `unconfigured` when nothing is configured (a run may still find a local Ollama). For `status`.
 */
export function resolveProviderName(settings: ProviderSettings, env: Env): string {
  return chooseProvider(settings, env)?.name ?? 'unconfigured';
}

/**
 * {@link chooseProvider}, and when nothing is configured, a local Ollama: `GET /api/tags` at OLLAMA_HOST
 * (default 127.0.0.1:11434) with a short timeout. Throws PROVIDER_NOT_CONFIGURED when that fails too.
 */
export async function detectProvider(settings: ProviderSettings, env: Env, overrides: ProviderOverrides = {}): Promise<ProviderChoice> {
  const chosen = chooseProvider(settings, env);
  if (chosen !== undefined) return chosen;
  const origin = ollamaBaseURL(env.OLLAMA_HOST).replace(/\/v1$/, '');
  if (await ollamaAnswers(origin, overrides)) {
    return { name: 'ollama', reason: `no provider, baseURL or API key is set, and Ollama answered at ${redactURL(origin)}` };
  }
  throw notConfigured(origin);
}

/** Builds the provider the settings and environment name, without probing (see {@link detectAndCreateProvider}). */
export function createProvider(settings: ProviderSettings, env: Env, overrides: ProviderOverrides = {}): CreatedProvider {
  const choice = chooseProvider(settings, env);
  if (choice === undefined) throw notConfigured(ollamaBaseURL(env.OLLAMA_HOST).replace(/\/v1$/, ''));
  return buildProvider(choice, settings, env, overrides);
}

/** {@link detectProvider} then build: what the CLI and `generateCodebase` use. */
export async function detectAndCreateProvider(settings: ProviderSettings, env: Env, overrides: ProviderOverrides = {}): Promise<CreatedProvider> {
  return buildProvider(await detectProvider(settings, env, overrides), settings, env, overrides);
}

/**
 * Builds `choice`: the SDK adapter, wrapped in {@link withRateLimit} (the spec's `rateLimit`, and every
 * 429 pausing all calls). The adapter leaves 429s to that wrapper (`rateLimits: 'caller'`).
 */
function buildProvider(choice: ProviderChoice, settings: ProviderSettings, env: Env, overrides: ProviderOverrides = {}): CreatedProvider {
  const connection = resolveConnection(choice.name, settings, env);
  const problem = connection.problems[0];
  if (problem !== undefined) throw new SmolError(problem.code, problem.message, { exitCode: 2, hint: problem.hint });
  const limits: CallLimits = {
    deadlineMs: settings.callTimeout === undefined ? DEFAULT_CALL_TIMEOUT_MS : settings.callTimeout * 1000,
    maxFileBytes: settings.maxFileBytes,
  };
  const sdk = {
    rateLimits: 'caller' as const,
    limits,
    ...(overrides.fetch === undefined ? {} : { fetch: overrides.fetch }),
    ...(overrides.maxRetries === undefined ? {} : { maxRetries: overrides.maxRetries }),
    ...(overrides.timeoutMs === undefined ? {} : { timeoutMs: overrides.timeoutMs }),
  };
  const apiKey = connection.keyVariable === undefined ? undefined : nonEmpty(env[connection.keyVariable]);
  const key = apiKey === undefined ? {} : { apiKey };
  let adapter: Provider;
  const url = connection.url ?? '';
  switch (choice.name) {
    case 'anthropic': {
      const options = { ...sdk, ...key, baseURL: url };
      // The Anthropic SDK takes a noticeable time to load: only a run that uses it pays for it.
      adapter = lazyProvider('anthropic', async () => (await import('./anthropic.js')).createAnthropicProvider(options));
      break;
    }
    case 'azure': {
      const azure = connection.azure!;
      adapter = lazyOpenAI({
        ...sdk,
        ...key,
        name: 'azure',
        azure: { endpoint: azure.endpoint, apiVersion: azure.apiVersion, ...(azure.deployment === undefined ? {} : { deployment: azure.deployment }) },
      });
      break;
    }
    default: {
      const options: OpenAIProviderOptions = { ...sdk, ...key, name: choice.name, baseURL: url };
      if (choice.name === 'openai') {
        const organization = nonEmpty(env.OPENAI_ORG_ID);
        const project = nonEmpty(env.OPENAI_PROJECT_ID);
        if (organization !== undefined) options.organization = organization;
        if (project !== undefined) options.project = project;
      }
      adapter = lazyOpenAI(options);
    }
  }
  const provider = withRateLimit(adapter, {
    rpm: settings.rateLimit?.rpm,
    tpm: settings.rateLimit?.tpm,
    ...(overrides.clock === undefined ? {} : { clock: overrides.clock }),
    ...(overrides.maxWaitMs === undefined ? {} : { maxWaitMs: overrides.maxWaitMs }),
  });
  return { provider, description: describeConnection(connection), reason: choice.reason };
}

/** Where `name` connects given the settings and environment, and what is missing. Never throws. */
export function resolveConnection(name: string, settings: ProviderSettings, env: Env): Connection {
  const problems: Connection['problems'] = [];
  const url = (value: string): string | undefined => {
    const checked = checkURL(value);
    if (checked === undefined) {
      problems.push({
        code: 'PROVIDER_BAD_URL',
        message: `The base URL for \`${name}\` is not an http(s) URL: ${redactURL(value)}`,
        hint: 'Set `baseURL` to something like http://127.0.0.1:11434/v1.',
      });
    }
    return checked;
  };
  const needKey = (variable: string, hint: string): { keyVariable: string; keySet: boolean } => {
    const keySet = nonEmpty(env[variable]) !== undefined;
    if (!keySet) problems.push({ code: 'PROVIDER_NO_KEY', message: `${variable} is not set.`, hint });
    return { keyVariable: variable, keySet };
  };
  const optionalKey = (variable: string) => {
    const keySet = nonEmpty(env[variable]) !== undefined;
    return { keyVariable: keySet ? variable : undefined, keySet };
  };
  const envBaseURL = nonEmpty(env.OPENAI_BASE_URL);

  switch (name) {
    case 'openai': {
      const key = needKey('OPENAI_API_KEY', 'Set OPENAI_API_KEY, or for a local server set `provider: openai-compatible` and `baseURL`.');
      return { name, url: url(settings.baseURL ?? envBaseURL ?? OPENAI_BASE_URL), ...key, problems };
    }
    case 'ollama':
      return { name, url: url(settings.baseURL ?? ollamaBaseURL(env.OLLAMA_HOST)), keyVariable: undefined, keySet: false, problems };
    case 'openai-compatible': {
      const configured = settings.baseURL ?? envBaseURL;
      if (configured === undefined) {
        problems.push({
          code: 'PROVIDER_NOT_CONFIGURED',
          message: 'Provider `openai-compatible` needs a `baseURL`.',
          hint: 'Set `baseURL` in the spec frontmatter (e.g. http://127.0.0.1:8080/v1), --base-url, or OPENAI_BASE_URL.',
        });
      }
      return { name, url: configured === undefined ? undefined : url(configured), ...optionalKey('OPENAI_API_KEY'), problems };
    }
    case 'anthropic': {
      const key = needKey('ANTHROPIC_API_KEY', 'Set ANTHROPIC_API_KEY (create one in the Anthropic Console, Settings > API keys).');
      // The SDK adds /v1/messages itself; a baseURL copied from OpenAI habits often ends in /v1.
      const base = url(settings.baseURL ?? nonEmpty(env.ANTHROPIC_BASE_URL) ?? ANTHROPIC_BASE_URL)?.replace(/\/v1$/, '');
      return { name, url: base, ...key, problems };
    }
    case 'azure': {
      const key = needKey('AZURE_OPENAI_API_KEY', 'Set AZURE_OPENAI_API_KEY to a key of the Azure OpenAI resource (Keys and Endpoint in the portal).');
      const configured = settings.azure?.endpoint ?? nonEmpty(env.AZURE_OPENAI_ENDPOINT) ?? settings.baseURL;
      if (configured === undefined) {
        problems.push({
          code: 'PROVIDER_NOT_CONFIGURED',
          message: 'Provider `azure` needs the resource endpoint.',
          hint: 'Set `azure: { endpoint: https://RESOURCE.openai.azure.com }` in the frontmatter, or AZURE_OPENAI_ENDPOINT.',
        });
      }
      // People paste the endpoint with the SDK's /openai suffix; the client adds it again.
      const endpoint = configured === undefined ? undefined : url(configured)?.replace(/\/openai$/, '');
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
    default:
      problems.push({
        code: 'PROVIDER_UNSUPPORTED',
        message: `Unknown provider \`${name}\`.`,
        hint: `Set \`provider\` to one of: ${PROVIDERS.join(', ')}.`,
      });
      return { name, url: undefined, keyVariable: undefined, keySet: false, problems };
  }
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

async function ollamaAnswers(origin: string, overrides: ProviderOverrides): Promise<boolean> {
  try {
    const response = await (overrides.fetch ?? fetch)(`${origin}/api/tags`, {
      signal: AbortSignal.timeout(overrides.probeTimeoutMs ?? DEFAULT_PROBE_TIMEOUT_MS),
    });
    if (!response.ok) return false;
    const body = (await response.json()) as { models?: unknown };
    return Array.isArray(body.models);
  } catch {
    // Nothing listening, too slow, or not Ollama: not detected.
    return false;
  }
}

function notConfigured(ollamaOrigin: string): SmolError {
  return new SmolError('PROVIDER_NOT_CONFIGURED', 'No model provider is configured.', {
    exitCode: 2,
    hint:
      'Set OPENAI_API_KEY for OpenAI or ANTHROPIC_API_KEY for Anthropic, or `baseURL` (or OPENAI_BASE_URL) for any ' +
      `OpenAI-compatible server, or \`provider: ollama\` for Ollama (none answered at ${redactURL(ollamaOrigin)}). \`smol doctor\` shows what a run would use and what is missing.`,
  });
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

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}

/** The openai SDK adapter, loaded on first use (status and check never need it). */
function lazyOpenAI(options: OpenAIProviderOptions): Provider {
  return lazyProvider(options.name ?? 'openai', async () => (await import('./openai.js')).createOpenAIProvider(options));
}

/** A provider whose module is loaded on its first call (its name is known before). */
function lazyProvider(name: string, load: () => Promise<Provider>): Provider {
  let loaded: Promise<Provider> | undefined;
  return {
    name,
    async complete(request, options) {
      loaded ??= load();
      return (await loaded).complete(request, options);
    },
  };
}
