import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isSmolError } from '../../src/errors.js';
import { inputsChanged, readInputs } from '../../src/watch/inputs.js';
import { tempDir } from '../helpers/cli.js';

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => ({ dir, cleanup } = await tempDir('smol-inputs-')));
afterEach(async () => cleanup());

const good = '---\nmodel: m\ninclude: [docs/api.md]\n---\nA program.\n';

describe('what a run read, and whether it moved on (issue 19)', () => {
  it('a spec read half-written (truncated, not yet rewritten) is seen to have changed once the write completes', async () => {
    const spec = path.join(dir, 'prompt.md');
    await mkdir(path.join(dir, 'docs'));
    await writeFile(path.join(dir, 'docs', 'api.md'), 'API\r\n');
    await writeFile(spec, '');
    const truncated = await readInputs({ specPath: spec, displayPath: 'prompt.md', cwd: dir, overrides: undefined });
    expect(truncated.ok).toBe(false);
    expect(await inputsChanged(truncated.snapshot)).toBe(false);
    await writeFile(spec, good);
    expect(await inputsChanged(truncated.snapshot)).toBe(true);

    const complete = await readInputs({ specPath: spec, displayPath: 'prompt.md', cwd: dir, overrides: undefined });
    expect(complete.ok).toBe(true);
    expect(await inputsChanged(complete.snapshot)).toBe(false);
    // An include is an input too; line endings are compared as the loader keeps them.
    await writeFile(path.join(dir, 'docs', 'api.md'), 'API\n');
    expect(await inputsChanged(complete.snapshot)).toBe(false);
    await writeFile(path.join(dir, 'docs', 'api.md'), 'API, version 2\n');
    expect(await inputsChanged(complete.snapshot)).toBe(true);
  });

  it('a spec deleted (an editor between unlink and write) reads as not found, and changed once it is back', async () => {
    const spec = path.join(dir, 'prompt.md');
    await writeFile(spec, '---\nmodel: m\n---\nA.\n');
    await rm(spec);
    const missing = await readInputs({ specPath: spec, displayPath: 'prompt.md', cwd: dir, overrides: undefined });
    expect(missing.ok).toBe(false);
    expect(!missing.ok && isSmolError(missing.error) && missing.error.code).toBe('SPEC_NOT_FOUND');
    expect(await inputsChanged(missing.snapshot)).toBe(false);
    await writeFile(spec, '---\nmodel: m\n---\nA.\n');
    expect(await inputsChanged(missing.snapshot)).toBe(true);
  });
});
