import * as z from 'zod';
import { specSettingsSchema } from './schema.js';

/** Where the published schema lives (the package ships it as `smol-dev/schema.json`). */
const SPEC_SCHEMA_ID = 'https://unpkg.com/smol-dev/schema/smol-spec.schema.json';

/**
 * JSON Schema of the spec frontmatter, generated from the zod schema (input side: every key optional,
 * defaults shown). Shipped as `schema/smol-spec.schema.json` for editor completion; a test keeps the
 * committed file in step with this function.
 */
export function specJsonSchema(): Record<string, unknown> {
  const generated = z.toJSONSchema(specSettingsSchema, { io: 'input' }) as Record<string, unknown>;
  const { $schema, ...rest } = generated;
  return { $schema, $id: SPEC_SCHEMA_ID, title: 'smol spec frontmatter', ...rest };
}
