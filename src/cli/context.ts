import path from 'node:path';
import { createProvider } from '../llm/create.js';
import type { Provider } from '../llm/types.js';
import { loadSpec } from '../spec/load.js';
import type { Spec } from '../spec/types.js';
import type { CliIO } from './io.js';
import { overridesFrom, type ModelFlags } from './options.js';

export const DEFAULT_SPEC = 'prompt.md';

export async function loadSpecFromArgs(specArg: string | undefined, flags: ModelFlags, io: CliIO): Promise<Spec> {
  return loadSpec(specArg ?? DEFAULT_SPEC, { cwd: io.cwd, overrides: overridesFrom(flags) });
}

export interface ModelContext {
  spec: Spec;
  provider: Provider;
  /** Names the provider and server for messages and the cache key; never holds a secret. */
  description: string;
}

export async function loadModelContext(specArg: string | undefined, flags: ModelFlags, io: CliIO): Promise<ModelContext> {
  const spec = await loadSpecFromArgs(specArg, flags, io);
  const settings = {
    model: spec.settings.model,
    ...(spec.settings.provider === undefined ? {} : { provider: spec.settings.provider }),
    ...(spec.settings.baseURL === undefined ? {} : { baseURL: spec.settings.baseURL }),
  };
  const { provider, description } = createProvider(settings, io.env);
  return { spec, provider, description };
}

/** A path for messages: relative to where the user stands when that is shorter. */
export function displayPath(io: CliIO, absolute: string): string {
  const relative = path.relative(io.cwd, absolute);
  return relative === '' ? '.' : relative.startsWith('..') ? absolute : relative;
}
