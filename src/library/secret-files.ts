/**
 * What `init --from-code` must never send to a model: files that hold secrets, told by their name or by
 * their content (issue 13: a git-ignored `.env` and a `deploy_key` became spec sections). Errs on the side
 * of skipping: a skipped file is listed with its reason, and the user can describe it in the spec by hand.
 */

const SECRET_NAMES: { pattern: RegExp; reason: string }[] = [
  { pattern: /^\.env($|\.)|^\.envrc$|\.env$/i, reason: 'an environment file (may hold secrets)' },
  { pattern: /^(id_(rsa|dsa|ecdsa|ed25519)(_sk)?|deploy_key.*|.*_(rsa|dsa|ecdsa|ed25519))$/i, reason: 'a private key' },
  { pattern: /\.(pem|key|p12|pfx|jks|keystore|ppk|kdbx)$/i, reason: 'a key or certificate store' },
  {
    pattern:
      /^(\.npmrc|\.pypirc|\.netrc|_netrc|\.git-credentials|\.htpasswd|\.pgpass|\.dockercfg|credentials(\.json)?|kubeconfig|secrets?\.(json|ya?ml|toml)|service-account.*\.json|.*\.tfvars|.*\.tfstate(\.backup)?)$/i,
    reason: 'a credentials file',
  },
];

const PRIVATE_KEY = /-----BEGIN ([A-Z0-9]+ )*PRIVATE KEY( BLOCK)?-----/;

// Token formats with a fixed, distinctive shape; a match in any file means the file is not sent.
const TOKENS: { pattern: RegExp; name: string }[] = [
  { pattern: /\bsk-ant-[A-Za-z0-9_-]{20,}/, name: 'an Anthropic API key' },
  { pattern: /\bsk-(proj-|svcacct-|admin-)?[A-Za-z0-9_-]{32,}/, name: 'an OpenAI API key' },
  { pattern: /\bAKIA[0-9A-Z]{16}\b/, name: 'an AWS access key' },
  { pattern: /\b(gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{22,})/, name: 'a GitHub token' },
  { pattern: /\bxox[abposr]-[A-Za-z0-9-]{10,}/, name: 'a Slack token' },
  { pattern: /\b[sr]k_live_[0-9A-Za-z]{16,}/, name: 'a Stripe live key' },
  { pattern: /\bAIza[0-9A-Za-z_-]{35}\b/, name: 'a Google API key' },
];

/** Why a file is a secret by its name (the last path segment), or undefined. */
export function secretByName(relativePath: string): string | undefined {
  const name = relativePath.split('/').pop() ?? relativePath;
  return SECRET_NAMES.find((entry) => entry.pattern.test(name))?.reason;
}

/** Why a file's content is a secret: a private key, a known token format, or a credential value from the environment. */
export function secretByContent(content: string, knownSecrets: readonly string[]): string | undefined {
  if (PRIVATE_KEY.test(content)) return 'holds a private key';
  if (knownSecrets.some((secret) => content.includes(secret)))
    return 'holds the value of a credential set in your environment';
  const token = TOKENS.find((entry) => entry.pattern.test(content));
  return token === undefined ? undefined : `holds what looks like ${token.name}`;
}
