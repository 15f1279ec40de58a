import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import * as z from 'zod';
import { applyStaged } from '../../engine/apply.js';
import { statePaths } from '../../engine/paths.js';
import type { EventSink } from '../../engine/events.js';
import { runPipeline, type RunOptions, type RunResult } from '../../engine/run.js';
import { loadStaged, type StagedChange } from '../../engine/staging.js';
import { computeStatus } from '../../engine/status.js';
import { describeReason, describeReasons } from '../../engine/reasons.js';
import { detectAndCreateProvider } from '../../llm/create.js';
import { renderPlan } from '../../plan/plan-markdown.js';
import { loadViews, stagedSummary, unifiedDiff } from '../../review/render.js';
import { loadSpec, type SpecOverrides } from '../../spec/load.js';
import type { Spec } from '../../spec/types.js';
import { applyOutput, diffOutput, planOutput, runOutput, statusOutput } from './schemas.js';
import { ToolRunner, type ToolResult } from './tool-runner.js';

export interface McpOptions {
  /** The spec file, relative to `cwd`. */
  specFile: string;
  cwd: string;
  overrides: SpecOverrides;
  env: Record<string, string | undefined>;
  version: string;
  /** Log lines (the CLI sends them to stderr: stdout is the protocol). */
  log: (line: string) => void;
}

export interface SmolMcpServer {
  server: McpServer;
  /** Cancels every tool call (no further model call; nothing half-written) and waits until none runs. */
  close(): Promise<void>;
}

/**
 * smol as a Model Context Protocol server (design.md 9), so editor agents can drive it: status, plan,
 * diff, apply and run, each on the spec given at start (the operator's: a client chooses no setting).
 * Calls run one at a time; each reports progress when asked and stops when cancelled.
 */
export function createMcpServer(options: McpOptions): SmolMcpServer {
  const server = new McpServer({ name: 'smol', version: options.version });
  const runner = new ToolRunner();
  const spec = () => loadSpec(options.specFile, { cwd: options.cwd, overrides: options.overrides });
  const pipeline: Tools['pipeline'] = async (mode, call, force) => {
    const loaded = await spec();
    const { provider, description, reason } = await detectAndCreateProvider(loaded.settings, options.env);
    options.log(`using ${description} (${reason})`);
    const run = await runPipeline({ spec: loaded, provider, providerIdentity: description, mode, force, ...call });
    return { loaded, run };
  };
  const tools: Tools = { server, runner, spec, pipeline };
  registerStatus(tools);
  registerPlan(tools);
  registerDiff(tools);
  registerApply(tools);
  registerRun(tools);
  return { server, close: () => runner.close() };
}

/** What every tool's registration needs: the server, the one-at-a-time runner, and the spec and model. */
interface Tools {
  server: McpServer;
  runner: ToolRunner;
  spec: () => Promise<Spec>;
  /** Loads the spec, builds its provider and runs the pipeline in `mode` for one tool call. */
  pipeline: (
    mode: RunOptions['mode'],
    call: { signal: AbortSignal; onEvent: EventSink },
    force?: RunOptions['force'],
  ) => Promise<{ loaded: Spec; run: RunResult }>;
}

function registerStatus({ server, runner, spec }: Tools): void {
  server.registerTool(
    'status',
    {
      title: 'Status',
      description: 'Each output file as clean / edited / missing / stale, from smol.lock and the disk. No model call.',
      outputSchema: statusOutput,
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    (extra) =>
      runner.run(extra, async () => {
        const loaded = await spec();
        const report = await computeStatus(loaded);
        const files = report.files.map((file) => ({
          path: file.path,
          disk: file.disk,
          reasons: file.reasons === undefined ? null : file.reasons.map(describeReason),
          removed: file.removed === true,
        }));
        const lines = report.files.map(
          (file) =>
            `${file.path}: ${file.disk}${file.reasons === undefined ? ' (spec changed: plan to see if stale)' : file.reasons.length > 0 ? ` (stale: ${describeReasons(file.reasons)})` : ''}`,
        );
        // Status finishes an interrupted apply first (or sets a foreign journal aside): it says so.
        const recovered = report.recovered;
        if (recovered !== undefined) {
          lines.unshift(
            recovered.refused !== undefined
              ? `${recovered.refused}: not carried out; set aside as .smol/journal.refused.json`
              : `finished an apply that was interrupted: ${recovered.files.length} file(s) written`,
          );
        }
        const text = lines.join('\n') || 'No smol.lock yet: nothing generated.';
        const { hasLock, specChanged, settingsChanged } = report;
        return result(text, { hasLock, specChanged, settingsChanged, files, recovered });
      }),
  );
}

function registerPlan({ server, runner, pipeline }: Tools): void {
  server.registerTool(
    'plan',
    {
      title: 'Plan',
      description:
        'The shared-dependencies plan and, for every file, whether it would be regenerated and why. Planning calls only; writes nothing.',
      outputSchema: planOutput,
      annotations: { readOnlyHint: true, openWorldHint: true },
    },
    (extra) =>
      runner.run(extra, async ({ signal, onEvent }) => {
        const { run } = await pipeline('plan', { signal, onEvent });
        const files = run.assessments.map((file) => ({
          path: file.path,
          regenerate: file.regenerate,
          reasons: file.reasons.map(describeReason),
          disk: file.disk.state,
        }));
        const text = `${renderPlan(run.plan)}\n${run.assessments.map((file) => `${file.path}: ${file.regenerate ? `regenerate (${describeReasons(file.reasons)})` : file.disk.state === 'edited' ? 'kept (edited by hand)' : 'up to date'}`).join('\n')}`;
        return result(text, { plan: run.plan, files, rejected: run.rejected });
      }),
  );
}

function registerDiff({ server, runner, pipeline }: Tools): void {
  server.registerTool(
    'diff',
    {
      title: 'Diff',
      description:
        'Generate what is stale into the staging area and return unified diffs. Writes nothing in the output folder.',
      outputSchema: diffOutput,
      annotations: { readOnlyHint: true, openWorldHint: true },
    },
    (extra) =>
      runner.run(extra, async ({ signal, onEvent }) => {
        const { loaded, run } = await pipeline('preview', { signal, onEvent });
        const views = await loadViews(statePaths(loaded.dir).objects, run.staged);
        const changes = views.map((view) => ({
          path: view.change.path,
          action: view.change.action,
          reasons: view.change.reasons.map(describeReason),
          diff: unifiedDiff(view),
        }));
        const text = [stagedSummary(run.staged), ...changes.map((change) => change.diff)].join('\n\n');
        return result(text, { summary: stagedSummary(run.staged), changes, failed: run.failed, usage: run.usage });
      }),
  );
}

function registerApply({ server, runner, spec }: Tools): void {
  server.registerTool(
    'apply',
    {
      title: 'Apply',
      description:
        'Apply what `diff` staged (all of it, or the given paths), with no model call. Changes whose file moved on since are refused.',
      inputSchema: {
        paths: z.array(z.string()).optional().describe('Only these output paths (default: every staged change)'),
      },
      outputSchema: applyOutput,
      annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: false },
    },
    ({ paths }, extra) =>
      runner.run(extra, async () => {
        const loaded = await spec();
        const state = statePaths(loaded.dir);
        const staged = await loadStaged(state);
        if (staged === undefined || staged.changes.length === 0)
          return result('Nothing is staged: call `diff` first.', { applied: [], refused: [], pending: [] });
        const only = paths === undefined ? undefined : new Set(paths);
        const accept = only === undefined ? undefined : (change: StagedChange) => only.has(change.path);
        const applied = await applyStaged({ paths: state, outDir: loaded.outDir, staged, accept });
        const text = `applied: ${applied.applied.join(', ') || 'nothing'}${applied.refused.length > 0 ? `\nrefused: ${applied.refused.map((entry) => `${entry.path} (${entry.reason})`).join(', ')}` : ''}`;
        return result(text, { applied: applied.applied, refused: applied.refused, pending: applied.pending });
      }),
  );
}

function registerRun({ server, runner, pipeline }: Tools): void {
  server.registerTool(
    'run',
    {
      title: 'Run',
      description: 'Plan, generate what is stale and write it (hand edits are merged; conflicts are left staged).',
      inputSchema: { all: z.boolean().optional().describe('Regenerate every file whatever its state') },
      outputSchema: runOutput,
      annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: true },
    },
    ({ all }, extra) =>
      runner.run(extra, async ({ signal, onEvent }) => {
        const { run } = await pipeline('apply', { signal, onEvent }, all === true ? 'all' : undefined);
        const conflicts = run.staged.changes
          .filter((change) => change.action === 'conflict')
          .map((change) => change.path);
        const text = `written: ${run.written.join(', ') || 'nothing'}${run.failed.length > 0 ? `\nfailed: ${run.failed.map((entry) => entry.message).join('; ')}` : ''}${conflicts.length > 0 ? `\nconflicts: ${conflicts.join(', ')}` : ''}`;
        return result(text, {
          written: run.written,
          failed: run.failed,
          conflicts,
          rejected: run.rejected,
          usage: run.usage,
        });
      }),
  );
}

/** The text for every client, and the same as structured content (plain JSON: no undefined, no class instances). */
function result(text: string, structured: Record<string, unknown>): ToolResult {
  return {
    content: [{ type: 'text', text }],
    structuredContent: JSON.parse(JSON.stringify(structured)) as Record<string, unknown>,
  };
}
