/**
 * smol's own credentials: the environment variables it reads keys and tokens from. Commands smol runs
 * (checks, `debug --run`) get an environment without them, and their values are blanked out of any text
 * sent to a model, so a check that prints its environment cannot hand the key to the model (issue 13).
 */
export type Env = Readonly<Record<string, string | undefined>>;

const CREDENTIAL_VARIABLES = new Set([
  'OPENAI_API_KEY',
  'ANTHROPIC_API_KEY',
  'ANTHROPIC_AUTH_TOKEN',
  'AZURE_OPENAI_API_KEY',
  'SMOL_SERVE_TOKEN',
]);
// "And the like": any key, token, secret or password under the prefixes smol's providers and servers use.
const CREDENTIAL_PATTERN = /^(OPENAI|ANTHROPIC|AZURE_OPENAI|SMOL)_\w*(KEY|TOKEN|SECRET|PASSWORD)$/i;
// Connection URLs may carry a password (`https://user:pw@host/v1`): the password is a credential too.
const URL_VARIABLES = new Set(['OPENAI_BASE_URL', 'ANTHROPIC_BASE_URL', 'AZURE_OPENAI_ENDPOINT', 'OLLAMA_HOST']);
// Shorter values would blank out ordinary words; real keys and tokens are far longer.
const MIN_SECRET_LENGTH = 8;

const REDACTED = '[redacted]';

export function isCredentialVariable(name: string): boolean {
  return CREDENTIAL_VARIABLES.has(name.toUpperCase()) || CREDENTIAL_PATTERN.test(name);
}

/** `env` without smol's credentials: the environment for commands smol runs. */
export function withoutCredentials(env: Env): Record<string, string> {
  const result: Record<string, string> = {};
  for (const [name, value] of Object.entries(env))
    if (value !== undefined && !isCredentialVariable(name)) result[name] = value;
  return result;
}

/** The credential values found in the given environments (longest first, so a key containing another is blanked whole). */
export function knownSecrets(...envs: Env[]): string[] {
  const secrets = new Set<string>();
  for (const env of envs) {
    for (const [name, value] of Object.entries(env)) {
      if (value === undefined) continue;
      if (isCredentialVariable(name)) secrets.add(value.trim());
      if (URL_VARIABLES.has(name)) {
        for (const password of urlPasswords(value)) secrets.add(password);
      }
    }
  }
  return [...secrets].filter((secret) => secret.length >= MIN_SECRET_LENGTH).sort((a, b) => b.length - a.length);
}

/** `text` with every occurrence of every secret replaced by `[redacted]`. */
export function redactSecrets(text: string, secrets: readonly string[]): string {
  let result = text;
  for (const secret of secrets) if (result.includes(secret)) result = result.split(secret).join(REDACTED);
  return result;
}

/** A URL's password as written (percent-encoded) and decoded. */
function urlPasswords(value: string): string[] {
  try {
    const password = new URL(value).password;
    return password === '' ? [] : [password, decodeURIComponent(password)];
  } catch {
    return [];
  }
}
