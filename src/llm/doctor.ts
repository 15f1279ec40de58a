import { isSmolError } from '../errors.js';
import { createAnthropicClient, toAnthropicError } from './anthropic.js';
import {
  describeConnection,
  resolveConnection,
  type Connection,
  type Env,
  type ProviderSettings,
} from './connection.js';
import type { ProviderOverrides } from './create.js';
import { detectProvider, type ProviderChoice } from './detect.js';
import { ProviderError } from './errors.js';
import { createOpenAIClient } from './openai.js';
import { toProviderError } from './openai-errors.js';
import type { ErrorContext } from './sdk-failures.js';
import { contextFullHint } from './refusals.js';
import { formatUsd, priceFor, type ModelPrice } from './pricing.js';
import { describeServer, type ServerInfo } from './server-info.js';
import { redactURL } from './url.js';

export interface DoctorCheck {
  /** `features`: what the server takes (tools, JSON schema) and its context window; `probe`: `--probe`'s call. */
  name: 'spec' | 'provider' | 'key' | 'server' | 'model' | 'features' | 'price' | 'probe';
  status: 'ok' | 'warn' | 'fail';
  message: string;
  hint?: string | undefined;
}

export interface DoctorReport {
  /** True when no check failed. */
  ok: boolean;
  provider: string | undefined;
  /** Why that provider (see `chooseProvider`). */
  reason: string | undefined;
  model: string | undefined;
  /** The server, credentials removed. */
  url: string | undefined;
  checks: DoctorCheck[];
}

export interface DoctorSettings extends ProviderSettings {
  price?: ModelPrice | undefined;
  budget?: { usd: number } | undefined;
  maxTokens?: number | undefined;
  fileList?: 'auto' | 'tools' | 'json-schema' | 'text' | undefined;
}

const DEFAULT_TIMEOUT_MS = 10_000;

/**
 * What `smol doctor` reports: which provider and model would be used and why, whether the key is there
 * (never its value), whether the server answers, whether it offers the model (`GET /models`, or the
 * Anthropic models endpoint), what a local server supports (tools, JSON schema, its context window, from
 * its own endpoints) and the price used for cost and `budget`. Makes no completion call.
 */
export async function diagnose(
  settings: DoctorSettings,
  env: Env,
  overrides: ProviderOverrides = {},
): Promise<DoctorReport> {
  const checks: DoctorCheck[] = [];
  const report = (): DoctorReport => ({
    ok: checks.every((check) => check.status !== 'fail'),
    provider: choice?.name,
    reason: choice?.reason,
    model: settings.model,
    url: connection?.url === undefined ? undefined : redactURL(connection.url),
    checks,
  });
  let choice: ProviderChoice | undefined;
  let connection: Connection | undefined;
  try {
    choice = await detectProvider(settings, env, overrides);
  } catch (error) {
    checks.push(failure('provider', error));
    if (settings.model === undefined) checks.push(noModel());
    return report();
  }
  connection = resolveConnection(choice.name, settings, env);
  checks.push({ name: 'provider', status: 'ok', message: `${describeConnection(connection)} (${choice.reason})` });
  checks.push(...connectionChecks(choice.name, connection));
  if (settings.model === undefined) checks.push(noModel());
  if (connection.problems.length === 0) {
    for (const check of await probeServer(choice.name, connection, settings, env, overrides)) {
      // The server refusing the key overrides "the key is set".
      const earlier = check.name === 'key' ? checks.findIndex((candidate) => candidate.name === 'key') : -1;
      if (earlier === -1) checks.push(check);
      else checks[earlier] = check;
    }
  }
  if (
    choice.name === 'anthropic' &&
    connection.problems.length === 0 &&
    checks.some((check) => check.name === 'server' && check.status === 'ok')
  ) {
    checks.push({
      name: 'features',
      status: 'ok',
      message: 'tools supported; the file list is asked for with a forced tool call',
    });
  }
  if (settings.model !== undefined) checks.push(priceCheck(choice.name, settings));
  return report();
}

/** The key check, then every other problem with the connection (a server check each). */
function connectionChecks(name: string, connection: Connection): DoctorCheck[] {
  const checks: DoctorCheck[] = [];
  const keyProblem = connection.problems.find((problem) => problem.code === 'PROVIDER_NO_KEY');
  if (keyProblem !== undefined)
    checks.push({ name: 'key', status: 'fail', message: keyProblem.message, hint: keyProblem.hint });
  else if (connection.keySet)
    checks.push({
      name: 'key',
      status: 'ok',
      message: `${connection.keyVariable} is set${name === 'openai-compatible' ? ' and is sent to the server' : ''}`,
    });
  else checks.push({ name: 'key', status: 'ok', message: 'no key needed' });
  for (const problem of connection.problems.filter((candidate) => candidate !== keyProblem)) {
    checks.push({ name: 'server', status: 'fail', message: problem.message, hint: problem.hint });
  }
  return checks;
}

/** What probing one server works from. */
interface Probe {
  name: string;
  connection: Connection;
  settings: DoctorSettings;
  overrides: ProviderOverrides;
  apiKey: string | undefined;
  /** Options for the SDK client: no retries, a short timeout. */
  sdk: { maxRetries: number; timeoutMs: number; fetch: typeof fetch | undefined; apiKey: string | undefined };
  /** The server's URL as shown. */
  where: string;
  /** The `server` check once it answered, with the time it took. */
  answered: () => DoctorCheck;
}

async function probeServer(
  name: string,
  connection: Connection,
  settings: DoctorSettings,
  env: Env,
  overrides: ProviderOverrides,
): Promise<DoctorCheck[]> {
  const apiKey = connection.keyVariable === undefined ? undefined : env[connection.keyVariable];
  const sdk = {
    maxRetries: 0,
    timeoutMs: overrides.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    fetch: overrides.fetch,
    apiKey: apiKey === '' ? undefined : apiKey,
  };
  const where = redactURL(connection.url ?? '');
  const started = Date.now();
  const answered = (): DoctorCheck => ({
    name: 'server',
    status: 'ok',
    message: `${where} answered in ${Date.now() - started} ms`,
  });
  const probe: Probe = { name, connection, settings, overrides, apiKey, sdk, where, answered };
  return name === 'anthropic' ? probeAnthropic(probe) : probeOpenAI(probe);
}

async function probeAnthropic({ name, connection, settings: { model }, sdk, answered }: Probe): Promise<DoctorCheck[]> {
  const { client, context } = createAnthropicClient({ ...sdk, baseURL: connection.url ?? '' });
  const errorContext: ErrorContext = { ...context, model: model ?? '', signal: undefined };
  if (model === undefined) {
    try {
      await client.models.list({ limit: 1 });
      return [answered()];
    } catch (error) {
      return [serverFailure(toAnthropicError(error, errorContext))];
    }
  }
  try {
    const info = await client.models.retrieve(model);
    return [
      answered(),
      { name: 'model', status: 'ok', message: `${model} is available${info.id !== model ? ` (as ${info.id})` : ''}` },
    ];
  } catch (error) {
    const mapped = toAnthropicError(error, errorContext);
    if (mapped instanceof ProviderError && mapped.status === 404) {
      const offered = await client.models.list({ limit: 20 }).then(
        (page) => page.data.map((entry) => entry.id),
        () => [],
      );
      return [answered(), modelMissing(model, offered, name)];
    }
    return [serverFailure(mapped)];
  }
}

async function probeOpenAI(probe: Probe): Promise<DoctorCheck[]> {
  const { name, connection, settings, overrides, apiKey, sdk, where, answered } = probe;
  const { model } = settings;
  const azure = connection.azure;
  const { client, context } = createOpenAIClient({
    ...sdk,
    name,
    ...(azure === undefined
      ? { baseURL: connection.url ?? '' }
      : { azure: { endpoint: azure.endpoint, apiVersion: azure.apiVersion } }),
  });
  const errorContext: ErrorContext = { ...context, model: model ?? '', signal: undefined };
  let listed: unknown[];
  try {
    listed = (await client.models.list()).data;
  } catch (error) {
    const mapped = toProviderError(error, errorContext);
    if (mapped instanceof ProviderError && (mapped.status === 404 || mapped.status === 405)) {
      return [
        answered(),
        {
          name: 'model',
          status: 'warn',
          message: `${where} does not list its models (GET /models answered ${mapped.status}), so ${model ?? 'the model'} could not be checked`,
        },
        await featuresCheck(name, connection, settings, apiKey, [], overrides),
      ];
    }
    return [serverFailure(mapped)];
  }
  const offered = listed
    .map((entry) => (entry as { id?: unknown }).id)
    .filter((id): id is string => typeof id === 'string');
  const server = answered();
  const features =
    azure === undefined ? await featuresCheck(name, connection, settings, apiKey, listed, overrides) : undefined;
  if (model === undefined) return features === undefined ? [server] : [server, features];
  if (azure !== undefined) return [server, azureModelCheck(model, azure.deployment ?? model, offered)];
  return [server, listedModelCheck(name, model, offered), ...(features === undefined ? [] : [features])];
}

/** Azure's data plane lists the models the resource can deploy, not the deployments themselves. */
function azureModelCheck(model: string, deployment: string, offered: readonly string[]): DoctorCheck {
  const known = offered.includes(model);
  return {
    name: 'model',
    status: known ? 'ok' : 'warn',
    message: `deployment ${deployment} cannot be listed on Azure; ${known ? `${model} is a model the resource offers` : `${model} is not a model name the resource lists (fine if it is a deployment name)`}`,
  };
}

function listedModelCheck(name: string, model: string, offered: readonly string[]): DoctorCheck {
  if (offered.some((id) => id === model || id === `${model}:latest`))
    return { name: 'model', status: 'ok', message: `${model} is available` };
  if (offered.length === 1 && name !== 'ollama' && name !== 'openai') {
    // llama.cpp (and other one-model servers) list the file they loaded and answer to any model name.
    return {
      name: 'model',
      status: 'warn',
      message: `the server offers one model, ${offered[0]}, not named ${model}; a one-model server (llama.cpp) answers any name with it`,
      hint: `Set \`model: ${offered[0]}\` to say which model answers (it also keys the response cache).`,
    };
  }
  return modelMissing(model, offered, name);
}

/**
 * How the file list will be asked for, and what the server says it supports, for local servers from
 * their own endpoints ({@link describeServer}); a warning when its context window is smaller than what
 * `maxTokens` needs. `smol doctor --probe` checks it with a call.
 */
async function featuresCheck(
  name: string,
  connection: Connection,
  settings: DoctorSettings,
  apiKey: string | undefined,
  listed: unknown[],
  overrides: ProviderOverrides,
): Promise<DoctorCheck> {
  const route = fileListRoute(settings.fileList ?? 'auto', name);
  const native = name === 'openai' || name === 'azure';
  if (native)
    return { name: 'features', status: 'ok', message: `tools and JSON schema supported; the file list ${route}` };
  const info = await describeServer({
    providerName: name,
    url: connection.url ?? '',
    model: settings.model,
    apiKey: apiKey === undefined || apiKey === '' ? undefined : apiKey,
    listed,
    fetch: overrides.fetch,
  });
  if (info === undefined) {
    return {
      name: 'features',
      status: 'ok',
      message: `the server does not say what it supports; the file list ${route}. \`smol doctor --probe\` tries it with one small call`,
    };
  }
  return describeFeatures(info, route, settings.maxTokens ?? 8192);
}

function describeFeatures(info: ServerInfo, route: string, maxTokens: number): DoctorCheck {
  const parts = [`${info.kind}${info.version === undefined ? '' : ` ${info.version}`}`];
  if (info.contextTokens !== undefined) parts.push(`context window ${info.contextTokens} tokens`);
  parts.push(`JSON schema: ${info.jsonSchema === false ? 'no (needs Ollama 0.5 or later)' : 'yes'}`);
  parts.push(
    `tools: ${info.tools === undefined ? 'unknown' : info.tools ? 'yes' : 'no'}${info.toolsNote === undefined ? '' : ` (${info.toolsNote})`}`,
  );
  const message = `${parts.join('; ')}. The file list ${route}`;
  // The prompt needs room too: a context no larger than maxTokens leaves none for it.
  if (info.contextTokens !== undefined && info.contextTokens <= maxTokens) {
    return {
      name: 'features',
      status: 'warn',
      message: `${message}. The context window (${info.contextTokens} tokens) is not larger than maxTokens (${maxTokens}): long answers will stop early`,
      hint: contextFullHint(info.kind === 'ollama' ? 'ollama' : 'openai-compatible'),
    };
  }
  return { name: 'features', status: 'ok', message };
}

/** The file-list route `fileList` gives on this provider, in words (as `fileListRoutes` in src/plan orders them). */
function fileListRoute(setting: NonNullable<DoctorSettings['fileList']>, name: string): string {
  if (setting === 'text') return 'is asked for as JSON in the text (fileList: text)';
  if (setting !== 'auto')
    return `is asked for with ${setting === 'tools' ? 'a forced tool call' : 'a JSON schema'} (fileList: ${setting}), then as JSON in the text`;
  if (name === 'anthropic') return 'is asked for with a forced tool call';
  if (name === 'openai' || name === 'azure') return 'is asked for with a forced tool call (fileList: auto)';
  return 'is asked for with a JSON schema (fileList: auto), then tools, then JSON in the text';
}

function priceCheck(provider: string, settings: DoctorSettings): DoctorCheck {
  const model = settings.model ?? '';
  const price = priceFor(provider, model, settings.price);
  const budget = settings.budget === undefined ? '' : `; budget ${formatUsd(settings.budget.usd)} per run`;
  if (price === undefined) {
    return {
      name: 'price',
      status: settings.budget === undefined ? 'warn' : 'fail',
      message: `no price known for ${model}: run costs show as unknown${settings.budget === undefined ? '' : ', and `budget` cannot be kept'}`,
      hint: 'Add `price: { input: 3, output: 15 }` (USD per million prompt / answer tokens) to the frontmatter; 0 for a free local server.',
    };
  }
  if (price.source === 'local') return { name: 'price', status: 'ok', message: `free (local provider)${budget}` };
  const where = price.source === 'spec' ? '`price:` in the spec' : `price table: ${price.entry}`;
  return {
    name: 'price',
    status: 'ok',
    message: `$${price.input.toFixed(2)} in / $${price.output.toFixed(2)} out per million tokens (${where})${budget}`,
  };
}

function modelMissing(model: string, offered: readonly string[], provider: string): DoctorCheck {
  const list =
    offered.length === 0
      ? 'it lists none'
      : `it offers: ${offered.slice(0, 12).join(', ')}${offered.length > 12 ? ', ...' : ''}`;
  return {
    name: 'model',
    status: 'fail',
    message: `${model} is not offered by the server; ${list}`,
    hint:
      provider === 'ollama'
        ? `Pull it with \`ollama pull ${model}\`, or set another \`model\`.`
        : 'Set `model` (or --model) to one the server offers.',
  };
}

function serverFailure(error: unknown): DoctorCheck {
  const check = failure('server', error);
  if (error instanceof ProviderError && (error.code === 'PROVIDER_AUTH' || error.code === 'PROVIDER_QUOTA'))
    check.name = 'key';
  return check;
}

function failure(name: DoctorCheck['name'], error: unknown): DoctorCheck {
  // Advice to run `smol doctor` is no advice inside its own report.
  const hint = isSmolError(error) ? error.hint?.replace(/\s*`smol doctor`[^.]*\./g, '') : undefined;
  if (isSmolError(error)) return { name, status: 'fail', message: error.message, hint: hint === '' ? undefined : hint };
  return { name, status: 'fail', message: error instanceof Error ? error.message : String(error) };
}

function noModel(): DoctorCheck {
  return {
    name: 'model',
    status: 'fail',
    message: 'no model is set',
    hint: 'Set `model:` in the spec frontmatter, or pass --model.',
  };
}
