import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isCredentialVariable, knownSecrets, redactSecrets, withoutCredentials } from '../../src/debug/credentials.js';

describe('credentials', () => {
  it("names smol's key and token variables, and only those", () => {
    for (const name of [
      'OPENAI_API_KEY',
      'ANTHROPIC_API_KEY',
      'ANTHROPIC_AUTH_TOKEN',
      'AZURE_OPENAI_API_KEY',
      'SMOL_SERVE_TOKEN',
      'OPENAI_ADMIN_KEY',
    ]) {
      expect(isCredentialVariable(name), name).toBe(true);
    }
    for (const name of ['PATH', 'HOME', 'OPENAI_BASE_URL', 'OPENAI_ORG_ID', 'GITHUB_TOKEN', 'NODE_ENV'])
      expect(isCredentialVariable(name), name).toBe(false);
    expect(withoutCredentials({ PATH: '/bin', OPENAI_API_KEY: 'sk-x', EMPTY: undefined })).toEqual({ PATH: '/bin' });
  });

  it('finds key values and connection-URL passwords, ignoring values too short to be keys', () => {
    const env = {
      OPENAI_API_KEY: 'sk-abcdefgh12345',
      SMOL_SERVE_TOKEN: 'short',
      OPENAI_BASE_URL: 'https://bob:p%40ssw0rd-long@gw.example/v1',
    };
    expect(knownSecrets(env)).toEqual(['sk-abcdefgh12345', 'p%40ssw0rd-long', 'p@ssw0rd-long']);
  });

  it('leaves no secret in the text, wherever and however often it appears (property)', () => {
    // Keys are drawn from characters the `[redacted]` marker does not use, so a marker never forms one.
    const secret = fc.stringMatching(/^[A-Z0-9_-]{8,30}$/);
    fc.assert(
      fc.property(
        fc.array(secret, { minLength: 1, maxLength: 3 }),
        fc.array(fc.string({ maxLength: 20 }), { maxLength: 6 }),
        (secrets, pieces) => {
          const text = pieces.map((piece, index) => `${piece}${secrets[index % secrets.length]}`).join('');
          const sorted = knownSecrets(
            Object.fromEntries(secrets.map((value, index) => [`OPENAI_KEY_${index}_API_KEY`, value])),
          );
          const redacted = redactSecrets(text, sorted);
          for (const value of sorted) expect(redacted).not.toContain(value);
          expect(redacted.split('[redacted]').length - 1).toBeGreaterThanOrEqual(pieces.length > 0 ? 1 : 0);
        },
      ),
    );
  });
});
