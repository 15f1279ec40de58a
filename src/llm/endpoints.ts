/** Provider names and default API endpoints, in a module of their own so choosing a provider loads no SDK. */

/** Every provider smol speaks to; the spec schema's `provider` takes these. */
export const PROVIDER_NAMES = ['openai', 'azure', 'anthropic', 'ollama', 'openai-compatible'] as const;

export const ANTHROPIC_BASE_URL = 'https://api.anthropic.com';
export const OPENAI_BASE_URL = 'https://api.openai.com/v1';
