// Writes schema/smol-spec.schema.json from the compiled zod schema. Run via `npm run schema`
// (which builds first). test/spec/json-schema.test.ts fails when the committed file is stale.
import { writeFile } from 'node:fs/promises';

const { specJsonSchema } = await import('../dist/spec/json-schema.js');
const target = new URL('../schema/smol-spec.schema.json', import.meta.url);
await writeFile(target, `${JSON.stringify(specJsonSchema(), null, 2)}\n`);
console.log(`wrote ${target.pathname}`);
