import path from 'node:path';
import type { EventSink, RunUsage } from '../engine/events.js';
import { runPipeline } from '../engine/run.js';
import { detectAndCreateProvider } from '../llm/create.js';
import type { Provider } from '../llm/types.js';
import type { Plan } from '../plan/plan-markdown.js';
import { parseSpecText } from '../spec/load.js';
import type { SpecSettingsInput } from '../spec/schema.js';
import type { PathRejection } from '../workspace/safe-path.js';

export interface GenerateCodebaseOptions {
  /** The spec: free text, optionally with smol frontmatter. */
  prompt: string;
  /** Model name; overrides `model:` in the prompt's frontmatter. */
  model?: string;
  /** Where the code goes. smol keeps `smol.lock` and `.smol/` here too. */
  outputDir: string;
  concurrency?: number;
  temperature?: number;
  maxTokens?: number;
  /** `openai`, `azure`, `anthropic`, `ollama` or `openai-compatible`; detected from the environment when absent. */
  provider?: SpecSettingsInput['provider'];
  baseURL?: string;
  /** Bring your own provider (e.g. a fake in tests); `provider` and `baseURL` are then ignored. */
  providerInstance?: Provider;
  /** Environment for keys and defaults; default `process.env`. */
  env?: Record<string, string | undefined>;
  /** Cancels the run; no file is half-written. */
  signal?: AbortSignal;
  /** Progress events, as the CLI's `--json` prints them. */
  onEvent?: EventSink;
  /** Regenerate every file whatever its state. */
  force?: boolean;
}

export interface GenerateCodebaseResult {
  /** Paths (relative to `outputDir`) written or deleted. */
  written: string[];
  /** Paths from the model that were refused, with the reason. */
  rejected: PathRejection[];
  /** Files whose generation failed, with the reason. */
  failed: { path: string; message: string }[];
  /** Files left alone because hand edits and the new generation conflict. */
  conflicts: string[];
  usage: RunUsage;
  plan: Plan;
  files: { path: string; purpose: string; dependsOn: string[] }[];
}

/**
 * The seed's `generate_codebase(prompt, model, output_dir)`, incremental: plans, lists the files, generates
 * what is stale and writes it into `outputDir`. Running it again with the same prompt makes no model call.
 */
export async function generateCodebase(options: GenerateCodebaseOptions): Promise<GenerateCodebaseResult> {
  const outputDir = path.resolve(options.outputDir);
  const spec = await parseSpecText(options.prompt, {
    // The prompt has no file of its own: a virtual one in the working folder anchors its `include`s.
    file: path.resolve('<prompt>'),
    displayPath: '(prompt)',
    overrides: {
      outDir: outputDir,
      model: options.model,
      concurrency: options.concurrency,
      temperature: options.temperature,
      maxTokens: options.maxTokens,
      provider: options.provider,
      baseURL: options.baseURL,
    },
  });
  const { provider, description } =
    options.providerInstance === undefined
      ? await detectAndCreateProvider(spec.settings, options.env ?? process.env)
      : { provider: options.providerInstance, description: options.providerInstance.name };
  const result = await runPipeline({
    spec,
    provider,
    providerIdentity: description,
    mode: 'apply',
    stateDir: outputDir,
    signal: options.signal,
    onEvent: options.onEvent,
    force: options.force === true ? 'all' : undefined,
  });
  return {
    written: result.written,
    rejected: result.rejected,
    failed: result.failed,
    conflicts: result.changes.filter((change) => change.action === 'conflict').map((change) => change.path),
    usage: result.usage,
    plan: result.plan,
    files: result.files,
  };
}
