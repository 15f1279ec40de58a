import * as z from 'zod';
import { SmolError } from '../errors.js';
import { nonEmpty, ollamaBaseURL, type Env, type ProviderSettings } from './connection.js';
import { redactURL } from './url.js';

/** Which provider, and why: printed by `smol doctor`, available to the CLI. */
export interface ProviderChoice {
  name: string;
  /** e.g. `ANTHROPIC_API_KEY is set`, `provider: ollama`, `Ollama answered at http://127.0.0.1:11434`. */
  reason: string;
}

/** How {@link detectProvider} looks for a local Ollama. */
export interface DetectOptions {
  fetch?: typeof fetch | undefined;
  /** How long to wait for a local Ollama (default 500 ms). */
  probeTimeoutMs?: number | undefined;
}

const DEFAULT_PROBE_TIMEOUT_MS = 500;

/** Ollama's `GET /api/tags` answer, as far as detection needs it (whatever listens there is untrusted). */
const ollamaTagsSchema = z.object({ models: z.array(z.unknown()) });

/**
 * The provider the settings and environment name, without any network call (design.md 2), in this order:
 * `provider`; `azure.endpoint` (azure); `baseURL` (openai-compatible); OPENAI_BASE_URL (openai-compatible);
 * ANTHROPIC_API_KEY for a `claude-` model; OPENAI_API_KEY; ANTHROPIC_API_KEY; AZURE_OPENAI_API_KEY with
 * AZURE_OPENAI_ENDPOINT. Undefined when none matches (then {@link detectProvider} looks for Ollama).
 */
export function chooseProvider(settings: ProviderSettings, env: Env): ProviderChoice | undefined {
  if (settings.provider !== undefined)
    return { name: settings.provider, reason: `provider: ${settings.provider} is set` };
  if (settings.azure?.endpoint !== undefined) return { name: 'azure', reason: '`azure.endpoint` is set' };
  if (settings.baseURL !== undefined) return { name: 'openai-compatible', reason: '`baseURL` is set' };
  if (nonEmpty(env.OPENAI_BASE_URL) !== undefined)
    return { name: 'openai-compatible', reason: 'OPENAI_BASE_URL is set' };
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
export async function detectProvider(
  settings: ProviderSettings,
  env: Env,
  options: DetectOptions = {},
): Promise<ProviderChoice> {
  const chosen = chooseProvider(settings, env);
  if (chosen !== undefined) return chosen;
  const origin = ollamaOrigin(env);
  if (await ollamaAnswers(origin, options)) {
    return {
      name: 'ollama',
      reason: `no provider, baseURL or API key is set, and Ollama answered at ${redactURL(origin)}`,
    };
  }
  throw notConfigured(origin);
}

/** Where a local Ollama would answer (OLLAMA_HOST, without `/v1`). */
export function ollamaOrigin(env: Env): string {
  return ollamaBaseURL(env.OLLAMA_HOST).replace(/\/v1$/, '');
}

async function ollamaAnswers(origin: string, options: DetectOptions): Promise<boolean> {
  try {
    const response = await (options.fetch ?? fetch)(`${origin}/api/tags`, {
      signal: AbortSignal.timeout(options.probeTimeoutMs ?? DEFAULT_PROBE_TIMEOUT_MS),
    });
    if (!response.ok) return false;
    return ollamaTagsSchema.safeParse(await response.json()).success;
  } catch {
    // Nothing listening, too slow, or not Ollama: not detected.
    return false;
  }
}

/** PROVIDER_NOT_CONFIGURED, naming where Ollama was looked for. It stops the whole run (`runWide`). */
export function notConfigured(ollamaOrigin: string): SmolError {
  return new SmolError('PROVIDER_NOT_CONFIGURED', 'No model provider is configured.', {
    exitCode: 2,
    runWide: 'stop-calls',
    hint:
      'Set OPENAI_API_KEY for OpenAI or ANTHROPIC_API_KEY for Anthropic, or `baseURL` (or OPENAI_BASE_URL) for any ' +
      `OpenAI-compatible server, or \`provider: ollama\` for Ollama (none answered at ${redactURL(ollamaOrigin)}). \`smol doctor\` shows what a run would use and what is missing.`,
  });
}
