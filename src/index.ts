/**
 * smol's public library API. Everything not exported here is an implementation detail.
 * @packageDocumentation
 */
export {
  generateCodebase,
  type GenerateCodebaseOptions,
  type GenerateCodebaseResult,
} from './library/generate-codebase.js';
export { runPipeline, type RunOptions, type RunResult } from './engine/run.js';
export { computeStatus, type FileStatus, type StatusReport } from './engine/status.js';
export type { FileChange } from './engine/changes.js';
export type { FileAction, RunEvent, RunUsage, EventSink } from './engine/events.js';
export { loadSpec, parseSpecText } from './spec/load.js';
export { specSettingsSchema, type SpecSettings, type SpecSettingsInput } from './spec/schema.js';
export type { Spec, FileSection, IncludedFile } from './spec/types.js';
export { createProvider, detectAndCreateProvider, type CreatedProvider } from './llm/create.js';
export { createOpenAIProvider } from './llm/openai.js';
export { createAnthropicProvider } from './llm/anthropic.js';
export { createFakeProvider, type FakeProvider } from './llm/fake.js';
export { withRateLimit } from './llm/rate-limit.js';
export { priceFor, PRICE_TABLE } from './llm/pricing.js';
export { diagnose } from './llm/doctor.js';
export { createDaemon, type Daemon, type DaemonEvent, type DaemonOptions } from './watch/daemon.js';
export { applyStaged, type ApplyResult } from './engine/apply.js';
export { undoLast, redoNext, type UndoResult } from './engine/undo.js';
export { acceptFiles, type AcceptResult } from './engine/accept.js';
export { loadStaged, type StagedRun, type StagedChange } from './engine/staging.js';
export { statePaths } from './engine/paths.js';
export type { Provider, CompletionRequest, CompletionResult, CompleteOptions, Stage, Usage } from './llm/types.js';
export type { Plan, PlanSection } from './plan/plan-markdown.js';
export type { PlannedFile } from './plan/stages.js';
export { SmolError, SpecError, type SpecIssue } from './errors.js';
