import type { CompletionRequest, CompletionResult, Provider, Usage } from '../llm/types.js';

/** How the file list is asked for: the spec's `fileList` (see `fileListRoutes`). */
export type FileListSetting = 'auto' | 'tools' | 'json-schema' | 'text';

/** An answer smol used, though it looks wrong; the CLI shows it (a `warning` event with `--json`). */
export interface StageWarning {
  /** `no-code-fence`: a file's answer had no code fence and was taken whole; `odd-file-name`: a listed path has a space or comma. */
  code: 'no-code-fence' | 'odd-file-name';
  path?: string;
  message: string;
}

/** What every stage needs to call the model. */
export interface StageContext {
  provider: Provider;
  model: string;
  temperature: number;
  maxTokens: number;
  signal?: AbortSignal | undefined;
  /** The spec's `fileList`; `auto` when absent. */
  fileList?: FileListSetting | undefined;
  /** Told about answers that were used but look wrong. */
  onWarning?: ((warning: StageWarning) => void) | undefined;
}

export interface StageResult<T> {
  value: T;
  usage: Usage;
  /** True when the answer came from the response cache. */
  cached: boolean;
}

export type StageCompletion = CompletionResult & { cached?: boolean };

/** One model call with the stage context's model, temperature, token limit and signal. */
export async function call(
  context: StageContext,
  request: Omit<CompletionRequest, 'model' | 'temperature' | 'maxTokens'>,
  onToken?: (fragment: string) => void,
  cache: 'use' | 'refresh' = 'use',
): Promise<StageCompletion> {
  return context.provider.complete(
    { ...request, model: context.model, temperature: context.temperature, maxTokens: context.maxTokens },
    { cache, signal: context.signal, onToken },
  );
}

/** The usage of several calls, added up. */
export function sumUsage(usages: Usage[]): Usage {
  return {
    inputTokens: usages.reduce((total, usage) => total + usage.inputTokens, 0),
    outputTokens: usages.reduce((total, usage) => total + usage.outputTokens, 0),
    estimated: usages.some((usage) => usage.estimated),
  };
}

export function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max)}\n[... cut]` : text;
}

export function abbreviate(text: string): string {
  const oneLine = text.replace(/\s+/g, ' ');
  return oneLine.length > 120 ? `${oneLine.slice(0, 117)}...` : oneLine;
}
