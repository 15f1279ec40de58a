import { splitSpec } from '../../spec/frontmatter.js';
import type { SpecOverrides } from '../../spec/load.js';
import { renderValue } from '../../spec/render.js';
import { specSettingsKeys, specSettingsSchema } from '../../spec/schema.js';
import { ProtocolError } from './types.js';

/**
 * The settings a client of `smol serve` may choose, in `additional_input` or in the frontmatter of the
 * task's input. Everything else is the operator's: where requests go and with which credentials
 * (`provider`, `baseURL`, `azure`), what reads files or runs commands (`include`, `checks`, `fix`), where
 * files go (`outDir`, `ignore`) and what limits spending (`rateLimit`, `budget`, `price`, the size limits).
 */
export const CLIENT_SETTINGS = ['model', 'temperature', 'maxTokens', 'context'] as const;
type ClientKey = (typeof CLIENT_SETTINGS)[number];

const clientSchema = specSettingsSchema.pick({ model: true, temperature: true, maxTokens: true, context: true });
const SETTING_KEYS = new Set<string>(specSettingsKeys);
const CLIENT_KEYS = new Set<string>(CLIENT_SETTINGS);
/** The schema's defaults, e.g. the `maxTokens` ceiling when the operator gives none. */
const DEFAULTS = specSettingsSchema.parse({});

/** What the operator decided: the settings (flags) and how far a client may move them. */
export interface ClientPolicy {
  /** The operator's settings: the defaults for every task and the only source of every other key. */
  operator: SpecOverrides;
  /** Models a client may choose besides the operator's `model`: exact names, or patterns with `*`. */
  allowModels: readonly string[];
}

/** The largest `maxTokens` a client may ask for: the operator's own value. */
function maxTokensCeiling(policy: ClientPolicy): number {
  return policy.operator.maxTokens ?? DEFAULTS.maxTokens;
}

function modelAllowed(policy: ClientPolicy, model: string): boolean {
  return model === policy.operator.model || policy.allowModels.some((pattern) => globMatch(pattern, model));
}

/**
 * The client's settings for a task: the allowed keys of `additional_input` and of the input's
 * frontmatter (`additional_input` wins), validated and held within the operator's limits. Keys of
 * `additional_input` that are not smol settings are the client's metadata and are ignored here.
 *
 * @throws ProtocolError 422 naming `additional_input.KEY` or the frontmatter key
 */
export function clientSettings(
  policy: ClientPolicy,
  additional: Record<string, unknown>,
  prompt: string | null,
): SpecOverrides {
  const problems: string[] = [];
  const fromAdditional = pickClientKeys(additional, 'additional_input', problems, true);
  const split = prompt === null ? undefined : splitSpec(prompt);
  const data: unknown = split?.data;
  const frontmatter = isMapping(data) ? data : {};
  const fromFrontmatter = pickClientKeys(frontmatter, 'the frontmatter of the task input:', problems, false);
  const chosen: Partial<Record<ClientKey, unknown>> = { ...fromFrontmatter, ...fromAdditional };

  const model = chosen.model;
  if (typeof model === 'string' && !modelAllowed(policy, model)) {
    const allowed = [policy.operator.model, ...policy.allowModels].filter((name) => name !== undefined);
    problems.push(
      `model ${renderValue(model)} is not offered by this server (${allowed.length > 0 ? `allowed: ${allowed.join(', ')}` : 'it sets the model itself'})`,
    );
  }
  if (model === undefined && policy.operator.model === undefined) {
    problems.push(
      `this server has no default model: give one in additional_input.model (allowed: ${policy.allowModels.join(', ')})`,
    );
  }
  const ceiling = maxTokensCeiling(policy);
  if (typeof chosen.maxTokens === 'number' && chosen.maxTokens > ceiling) {
    problems.push(`maxTokens ${chosen.maxTokens} is over this server's limit of ${ceiling}`);
  }
  if (problems.length > 0) throw new ProtocolError(422, problems.join('\n'));
  return chosen as SpecOverrides;
}

/**
 * The client-settable keys of `source`, validated. Setting keys a client may not set are problems;
 * with `metadataAllowed`, other keys are metadata, otherwise (frontmatter) they are problems too.
 */
function pickClientKeys(
  source: Record<string, unknown>,
  where: string,
  problems: string[],
  metadataAllowed: boolean,
): Partial<Record<ClientKey, unknown>> {
  const picked: Partial<Record<ClientKey, unknown>> = {};
  const name = (key: string): string => (where.endsWith(':') ? `${where} ${key}` : `${where}.${key}`);
  for (const [key, value] of Object.entries(source)) {
    if (CLIENT_KEYS.has(key)) picked[key as ClientKey] = value;
    else if (SETTING_KEYS.has(key)) {
      problems.push(
        `${name(key)}: only the operator of this server sets \`${key}\` (with flags or the environment); a client may set ${CLIENT_SETTINGS.join(', ')}`,
      );
    } else if (!metadataAllowed) {
      problems.push(`${name(key)}: not a setting a client may set (a client may set ${CLIENT_SETTINGS.join(', ')})`);
    }
  }
  const parsed = clientSchema.safeParse(picked);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const key = issue.path.map(String).join('.');
      const value = (picked as Record<string, unknown>)[String(issue.path[0])];
      problems.push(`${name(key)}: ${issue.message} (got ${renderValue(value)})`);
    }
  }
  // The values as given: parsing would add defaults for keys the client never set.
  return picked;
}

function isMapping(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value) && !(value instanceof Date);
}

/** `*` matches any run of characters. Model names are not paths (`org/model:tag`), so not picomatch. */
function globMatch(pattern: string, name: string): boolean {
  const source = pattern
    .split('*')
    .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*');
  return new RegExp(`^${source}$`).test(name);
}
