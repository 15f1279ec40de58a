import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { specJsonSchema } from '../../src/spec/json-schema.js';
import { specSettingsKeys, specSettingsSchema } from '../../src/spec/schema.js';

const committedFile = new URL('../../schema/smol-spec.schema.json', import.meta.url);

describe('spec JSON Schema', () => {
  it('matches the committed schema/smol-spec.schema.json (run `npm run schema` after changing the zod schema)', async () => {
    const expected = `${JSON.stringify(specJsonSchema(), null, 2)}\n`;
    const committed = await readFile(committedFile, 'utf8').catch(() => '');
    if (committed !== expected) {
      expect.fail(
        'schema/smol-spec.schema.json is out of date with src/spec/schema.ts: run `npm run schema` and commit the result',
      );
    }
  });

  it('documents every key and rejects unknown ones', () => {
    const schema = specJsonSchema() as {
      properties: Record<string, { description?: string }>;
      additionalProperties: unknown;
      $id: string;
    };
    expect(Object.keys(schema.properties)).toEqual(specSettingsKeys);
    for (const [key, property] of Object.entries(schema.properties)) {
      expect(property.description, `description of ${key}`).toMatch(/\S/);
    }
    expect(schema.additionalProperties).toBe(false);
    expect(schema.$id).toMatch(/^https:\/\//);
  });

  it('describes nested keys too', () => {
    for (const key of ['rateLimit', 'budget', 'price'] as const) {
      const nested = specSettingsSchema.shape[key].unwrap();
      for (const [name, child] of Object.entries(nested.shape)) {
        expect(child.description, `${key}.${name}`).toMatch(/\S/);
      }
    }
  });
});
