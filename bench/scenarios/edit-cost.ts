import { DEFAULT_BODY, makeApp, modulePath, sectionsFor, specText, type SpecOptions } from '../app.js';
import { figure, type Figure, type Scenario } from '../figure.js';
import { answered, callsByStage, startBenchServer, tokensOf } from '../model-server.js';
import { createBenchProject, runSmol } from '../smol-process.js';
import { sum } from '../stats.js';
import { FILES } from './parallel.js';

const FILE_TOKENS = 200;
const TOKEN_GOAL_PERCENT = 5;

interface StepCost {
  calls: number;
  byStage: Record<string, number>;
  outputTokens: number;
  inputTokens: number;
  wallMs: number;
  /** The calls' model time one after another: what the seed, one file at a time, waits for. */
  sequentialModelMs: number;
}

/**
 * 2. Cost of an edit. One project of 48 files, each with a per-file section; a first `smol run` is the full
 * regeneration (what the seed does on every run). Then edits, each followed by `smol run --yes`:
 *
 * - one per-file section: the scripted model's re-plan changes that file's plan section only;
 * - a global-text sentence the model judges to change nothing in the plan ("It is formatted with care."):
 *   the re-plan answers NO CHANGES, so no file is stale;
 * - a global-text sentence that changes the plan's global part ("Every module logs to stdout."): the
 *   re-plan returns a new global part, which every file's generation sees, so every file is regenerated;
 * - whitespace only, then a save without any change.
 *
 * The scripted model's re-plan, like the template asks, returns only the sections that change.
 */
export const editCost: Scenario = async (context) => {
  const app = makeApp(FILES, FILE_TOKENS);
  const server = await startBenchServer({ app: () => app, latency: context.latency });
  const project = await createBenchProject();
  const spec: SpecOptions = { baseURL: server.url, concurrency: 8, sections: sectionsFor(app), body: DEFAULT_BODY };
  const figures: Figure[] = [];
  const step = async (): Promise<StepCost> => {
    await project.writeSpec(specText(spec));
    server.reset();
    const run = await runSmol(context.bin, ['run', '--yes', '--json'], project.dir);
    const tokens = tokensOf(server.calls);
    const served = answered(server.calls);
    return {
      calls: served.length,
      byStage: callsByStage(server.calls),
      outputTokens: tokens.output,
      inputTokens: tokens.input,
      wallMs: run.exitedAt - run.spawnedAt,
      sequentialModelMs: sum(served.map((call) => call.nominalMs)),
    };
  };
  try {
    context.log('  full regeneration');
    const full = await step();
    figures.push(
      figure('edit', `full regeneration (the seed, every run): calls ${stages(full.byStage)}`, full.calls, 'calls'),
      figure('edit', 'full regeneration: output tokens', full.outputTokens, 'tokens'),
      figure('edit', 'full regeneration: wall time of smol run at c=8', Math.round(full.wallMs), 'ms'),
      figure(
        'edit',
        "full regeneration the seed's way (one call at a time): the model's time alone",
        Math.round(full.sequentialModelMs),
        'ms',
      ),
    );
    const record = async (label: string, goal?: (cost: StepCost, share: number) => { goal: string; pass: boolean }) => {
      context.log(`  ${label}`);
      const cost = await step();
      const share = (cost.outputTokens / full.outputTokens) * 100;
      figures.push(
        figure('edit', `${label}: calls ${stages(cost.byStage)}`, cost.calls, 'calls'),
        figure(
          'edit',
          `${label}: output tokens against the full regeneration (${cost.outputTokens})`,
          share,
          '%',
          goal?.(cost, share),
        ),
        figure('edit', `${label}: wall time of smol run`, Math.round(cost.wallMs), 'ms'),
      );
    };

    const first = modulePath(0);
    spec.sections![first] = 'Module 0, and a helper that doubles it.';
    app.files[first]!.section = 'Exports value0 and double(value0).';
    await record('edit one per-file section', (cost, share) => ({
      goal: `1 file regenerated (+ the re-plan), < ${TOKEN_GOAL_PERCENT} % of the tokens`,
      pass: (cost.byStage.code ?? 0) === 1 && cost.calls <= 2 && share < TOKEN_GOAL_PERCENT,
    }));

    spec.body = `${DEFAULT_BODY} It is formatted with care.`;
    await record('add a global sentence that leaves the plan as it is');

    spec.body = `${spec.body} Every module logs to stdout.`;
    app.global = 'TypeScript, ESM, no dependencies. Every module logs to stdout.';
    await record('add a global sentence that changes the shared plan');

    spec.body = `${spec.body}   \n\n`;
    await record('whitespace only (trailing spaces, a blank line)', (cost) => ({
      goal: '0 calls',
      pass: cost.calls === 0,
    }));

    await record('save without change', (cost) => ({ goal: '0 calls', pass: cost.calls === 0 }));
  } finally {
    await project.close();
    await server.close();
  }
  return figures;
};

function stages(byStage: Record<string, number>): string {
  const parts = Object.entries(byStage).map(([stage, count]) => `${stage} ${count}`);
  return parts.length === 0 ? '(none)' : `(${parts.join(', ')})`;
}
