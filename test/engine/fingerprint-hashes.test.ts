import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fingerprintOf, hashInputs } from '../../src/engine/fingerprint.js';
import { hashJson, sha256 } from '../../src/internal/hash.js';
import { PROMPT_VERSION, type FileInputs } from '../../src/plan/templates.js';

// The fingerprint code writes hashJson's text directly (perf, issue 15); a file's fingerprint must stay
// byte for byte what it was, or every lock in the world would call every file stale.
const text = fc.oneof(
  fc.string(),
  fc.string({ unit: 'grapheme' }),
  fc.string({ unit: 'binary' }),
  fc.constantFrom('', '"', '\\', '\u2028', '\ud800'),
);
const path = fc.oneof(
  fc.string({ minLength: 1 }),
  fc.constantFrom('10', '9', '0', '01', '__proto__', 'constructor', 'a/b.ts', 'B.ts', 'a.ts'),
);
const inputs: fc.Arbitrary<FileInputs> = fc.record({
  path,
  purpose: text,
  planGlobal: text,
  planSection: text,
  dependencies: fc.uniqueArray(fc.record({ path, purpose: text, section: text }), {
    selector: (dependency) => dependency.path,
    maxLength: 6,
  }),
  fileList: fc.array(path, { maxLength: 5 }),
  specSection: text,
  fullSpec: fc.option(text, { nil: undefined }),
});
const settings = fc.record({ provider: fc.string(), model: fc.string(), temperature: fc.double({ noNaN: true }) });

describe("file fingerprints (built without hashJson's generic key sorting)", () => {
  it('are the hashJson of the same inputs, whatever the texts and paths', () => {
    fc.assert(
      fc.property(inputs, settings, (file, generation) => {
        const hashes = hashInputs(file, generation);
        expect(hashes).toEqual({
          settings: hashJson({
            provider: generation.provider,
            model: generation.model,
            temperature: generation.temperature,
            promptVersion: PROMPT_VERSION,
          }),
          planGlobal: sha256(file.planGlobal),
          planSection: hashJson({ purpose: file.purpose, section: file.planSection }),
          fileList: hashJson(file.fileList),
          spec: hashJson({ section: file.specSection, full: file.fullSpec ?? null }),
          dependencies: Object.fromEntries(
            file.dependencies.map((dependency) => [
              dependency.path,
              hashJson({ purpose: dependency.purpose, section: dependency.section }),
            ]),
          ),
        });
        expect(fingerprintOf(hashes)).toBe(hashJson(hashes));
      }),
      { numRuns: 300 },
    );
  });

  it('of hashes with other keys fall back to hashJson', () => {
    const hashes = {
      settings: 's',
      planGlobal: 'g',
      planSection: 'p',
      fileList: 'f',
      spec: 'x',
      dependencies: { '10': 'a', '9': 'b' },
      extra: 'e',
    };
    expect(fingerprintOf(hashes)).toBe(hashJson(hashes));
  });
});
