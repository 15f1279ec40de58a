/** Default API endpoints, in a module of their own so choosing a provider does not load its SDK. */
export const ANTHROPIC_BASE_URL = 'https://api.anthropic.com';
export const OPENAI_BASE_URL = 'https://api.openai.com/v1';
