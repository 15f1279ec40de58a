import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { setDurableWrites } from '../../src/workspace/durability.js';
import { arbitraries, setup } from './hand-edits-model.js';

/** Sequences run per `npm test`; raise with SMOL_MODEL_RUNS for a longer hunt, replay a failure with SMOL_MODEL_SEED. */
const RUNS = Number(process.env.SMOL_MODEL_RUNS ?? 200);
const SEED = process.env.SMOL_MODEL_SEED === undefined ? undefined : Number(process.env.SMOL_MODEL_SEED);
let workspace: string;

beforeAll(async () => {
  setDurableWrites(false);
  workspace = await mkdtemp(path.join(os.tmpdir(), 'smol-model-'));
});
afterAll(async () => {
  setDurableWrites(true);
  await rm(workspace, { recursive: true, force: true, maxRetries: 10, retryDelay: 50 });
});

describe("hand edits and the user's files survive every sequence of actions (model-based)", () => {
  it(`holds over ${RUNS} random sequences of up to 20 steps`, async () => {
    let index = 0;
    await fc.assert(
      fc.asyncProperty(fc.commands(arbitraries, { maxCommands: 20 }), async (steps) => {
        const { model, real } = await setup(workspace, (index += 1));
        try {
          await fc.asyncModelRun(() => ({ model, real }), steps);
        } finally {
          await rm(real.root, { recursive: true, force: true, maxRetries: 10, retryDelay: 50 });
        }
      }),
      { numRuns: RUNS, ...(SEED === undefined ? {} : { seed: SEED }) },
    );
  }, 600_000);
});
