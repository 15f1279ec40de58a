import { resolveProviderName } from './detect.js';

/** The provider a run would use, or undefined when none is configured (status needs no credentials). */
export function configuredProviderName(
  settings: { provider?: string | undefined; baseURL?: string | undefined },
  env: Record<string, string | undefined>,
): string | undefined {
  try {
    const name = resolveProviderName(settings, env);
    return name === 'unconfigured' ? undefined : name;
  } catch {
    return undefined;
  }
}
