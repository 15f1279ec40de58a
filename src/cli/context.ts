import path from 'node:path';
import type { Provider } from '../llm/types.js';
import { loadSpec } from '../spec/load.js';
import type { Spec } from '../spec/types.js';
import { findSpec } from './find-spec.js';
import type { CliIO, Output } from './io.js';
import { overridesFrom, type ModelFlags } from './options.js';

export { DEFAULT_SPEC, locateSpec } from './find-spec.js';

/**
 * Loads the spec a command names, or the one found from where the user stands (see {@link findSpec}:
 * a folder means its prompt.md; no SPEC looks for prompt.md here and in the folders above, up to the
 * repository root), with the command-line flags over its frontmatter.
 */
export async function loadSpecFromArgs(specArg: string | undefined, flags: ModelFlags, io: CliIO): Promise<Spec> {
  const found = await findSpec(specArg, io.cwd);
  return loadSpec(found.display, { cwd: io.cwd, overrides: overridesFrom(flags) });
}

export interface ModelContext {
  spec: Spec;
  provider: Provider;
  /** Names the provider and server for messages and the cache key; never holds a secret. */
  description: string;
  /** Why this provider was chosen, e.g. `ANTHROPIC_API_KEY is set` (design.md 2: the choice is printed). */
  reason: string;
}

export async function loadModelContext(
  specArg: string | undefined,
  flags: ModelFlags,
  io: CliIO,
): Promise<ModelContext> {
  const spec = await loadSpecFromArgs(specArg, flags, io);
  // The whole settings: provider, baseURL, model, azure and rateLimit all shape the provider. Imported here,
  // not at the top: `status` and `check` use this module for the spec alone and never build a provider.
  const { detectAndCreateProvider } = await import('../llm/create.js');
  const { provider, description, reason } = await detectAndCreateProvider(spec.settings, io.env);
  return { spec, provider, description, reason };
}

/** Says which provider a command uses and why (design.md 8: the choice is printed), on stderr. */
export function announceProvider(output: Output, context: ModelContext, json: boolean): void {
  if (!json) output.info(output.colors.dim(`using ${context.description} (${context.reason})`));
}

/** A path for messages: relative to where the user stands when that is shorter. */
export function displayPath(io: CliIO, absolute: string): string {
  const relative = path.relative(io.cwd, absolute);
  return relative === '' ? '.' : relative.startsWith('..') ? absolute : relative;
}
