import { isSmolError } from '../errors.js';
import { createAnthropicClient, toAnthropicError } from './anthropic.js';
import { detectProvider, describeConnection, redactURL, resolveConnection, type Connection, type Env, type ProviderChoice, type ProviderOverrides, type ProviderSettings } from './create.js';
import { ProviderError } from './errors.js';
import { createOpenAIClient } from './openai.js';
import { toProviderError, type ErrorContext } from './openai-errors.js';
import { formatUsd, priceFor, type ModelPrice } from './pricing.js';

export interface DoctorCheck {
  name: 'spec' | 'provider' | 'key' | 'server' | 'model' | 'price';
  status: 'ok' | 'warn' | 'fail';
  message: string;
  hint?: string;
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
}

const DEFAULT_TIMEOUT_MS = 10_000;

/**
 * What `smol doctor` reports: which provider and model would be used and why, whether the key is there
 * (never its value), whether the server answers, whether it offers the model (`GET /models`, or the
 * Anthropic models endpoint), and the price used for cost and `budget`. Makes no completion call.
 */
export async function diagnose(settings: DoctorSettings, env: Env, overrides: ProviderOverrides = {}): Promise<DoctorReport> {
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

  const keyProblem = connection.problems.find((problem) => problem.code === 'PROVIDER_NO_KEY');
  if (keyProblem !== undefined) checks.push({ name: 'key', status: 'fail', message: keyProblem.message, hint: keyProblem.hint });
  else if (connection.keySet) checks.push({ name: 'key', status: 'ok', message: `${connection.keyVariable} is set${choice.name === 'openai-compatible' ? ' and is sent to the server' : ''}` });
  else checks.push({ name: 'key', status: 'ok', message: 'no key needed' });
  for (const problem of connection.problems.filter((candidate) => candidate !== keyProblem)) {
    checks.push({ name: 'server', status: 'fail', message: problem.message, hint: problem.hint });
  }
  if (settings.model === undefined) checks.push(noModel());
  if (connection.problems.length === 0) {
    for (const check of await probeServer(choice.name, connection, settings.model, env, overrides)) {
      // The server refusing the key overrides "the key is set".
      const earlier = check.name === 'key' ? checks.findIndex((candidate) => candidate.name === 'key') : -1;
      if (earlier === -1) checks.push(check);
      else checks[earlier] = check;
    }
  }
  if (settings.model !== undefined) checks.push(priceCheck(choice.name, settings));
  return report();
}

async function probeServer(name: string, connection: Connection, model: string | undefined, env: Env, overrides: ProviderOverrides): Promise<DoctorCheck[]> {
  const apiKey = connection.keyVariable === undefined ? undefined : env[connection.keyVariable];
  const sdk = {
    maxRetries: 0,
    timeoutMs: overrides.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    ...(overrides.fetch === undefined ? {} : { fetch: overrides.fetch }),
    ...(apiKey === undefined || apiKey === '' ? {} : { apiKey }),
  };
  const where = redactURL(connection.url ?? '');
  const started = Date.now();
  const answered = () => ({ name: 'server' as const, status: 'ok' as const, message: `${where} answered in ${Date.now() - started} ms` });

  if (name === 'anthropic') {
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
      return [answered(), { name: 'model', status: 'ok', message: `${model} is available${info.id !== model ? ` (as ${info.id})` : ''}` }];
    } catch (error) {
      const mapped = toAnthropicError(error, errorContext);
      if (mapped instanceof ProviderError && mapped.status === 404) {
        const offered = await client.models.list({ limit: 20 }).then((page) => page.data.map((entry) => entry.id), () => []);
        return [answered(), modelMissing(model, offered, name)];
      }
      return [serverFailure(mapped)];
    }
  }

  const azure = connection.azure;
  const { client, context } = createOpenAIClient({
    ...sdk,
    name,
    ...(azure === undefined ? { baseURL: connection.url ?? '' } : { azure: { endpoint: azure.endpoint, apiVersion: azure.apiVersion } }),
  });
  const errorContext: ErrorContext = { ...context, model: model ?? '', signal: undefined };
  let offered: string[];
  try {
    offered = (await client.models.list()).data.map((entry) => entry.id);
  } catch (error) {
    const mapped = toProviderError(error, errorContext);
    if (mapped instanceof ProviderError && (mapped.status === 404 || mapped.status === 405)) {
      return [
        answered(),
        { name: 'model', status: 'warn', message: `${where} does not list its models (GET /models answered ${mapped.status}), so ${model ?? 'the model'} could not be checked` },
      ];
    }
    return [serverFailure(mapped)];
  }
  const checks: DoctorCheck[] = [answered()];
  if (model === undefined) return checks;
  const deployment = azure?.deployment ?? model;
  if (azure !== undefined) {
    // Azure's data plane lists the models the resource can deploy, not the deployments themselves.
    const known = offered.includes(model);
    checks.push({
      name: 'model',
      status: known ? 'ok' : 'warn',
      message: `deployment ${deployment} cannot be listed on Azure; ${known ? `${model} is a model the resource offers` : `${model} is not a model name the resource lists (fine if it is a deployment name)`}`,
    });
    return checks;
  }
  const found = offered.find((id) => id === model || id === `${model}:latest`);
  checks.push(found === undefined ? modelMissing(model, offered, name) : { name: 'model', status: 'ok', message: `${model} is available` });
  return checks;
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
  return { name: 'price', status: 'ok', message: `$${price.input.toFixed(2)} in / $${price.output.toFixed(2)} out per million tokens (${where})${budget}` };
}

function modelMissing(model: string, offered: string[], provider: string): DoctorCheck {
  const list = offered.length === 0 ? 'it lists none' : `it offers: ${offered.slice(0, 12).join(', ')}${offered.length > 12 ? ', ...' : ''}`;
  return {
    name: 'model',
    status: 'fail',
    message: `${model} is not offered by the server; ${list}`,
    hint: provider === 'ollama' ? `Pull it with \`ollama pull ${model}\`, or set another \`model\`.` : 'Set `model` (or --model) to one the server offers.',
  };
}

function serverFailure(error: unknown): DoctorCheck {
  const check = failure('server', error);
  if (error instanceof ProviderError && (error.code === 'PROVIDER_AUTH' || error.code === 'PROVIDER_QUOTA')) check.name = 'key';
  return check;
}

function failure(name: DoctorCheck['name'], error: unknown): DoctorCheck {
  if (isSmolError(error)) return { name, status: 'fail', message: error.message, ...(error.hint === undefined ? {} : { hint: error.hint }) };
  return { name, status: 'fail', message: error instanceof Error ? error.message : String(error) };
}

function noModel(): DoctorCheck {
  return { name: 'model', status: 'fail', message: 'no model is set', hint: 'Set `model:` in the spec frontmatter, or pass --model.' };
}
