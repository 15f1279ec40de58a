import { createTwoFilesPatch } from 'diff';
import type { Plan } from '../plan/plan-markdown.js';
import { renderPlan } from '../plan/plan-markdown.js';
import { fileListStage, planStage, type PlannedFile, type StageContext } from '../plan/stages.js';
import type { Lock } from './lock.js';
import type { EventSink } from './events.js';
import type { GenerationSettings } from './fingerprint.js';
import { planInputHash, type SpecInputs } from './generation-inputs.js';

export interface ResolvedPlan {
  plan: Plan;
  /** The file list as the model gave it (paths not yet checked), sorted by path. */
  files: PlannedFile[];
  planInputHash: string;
  specLines: string[];
  specHash: string;
  /** True when the plan came from the lock unchanged (no model call). */
  fromLock: boolean;
}

/**
 * Stages 1 and 2, incrementally: the lock's plan is reused when its input (rendered spec + settings) is
 * unchanged; otherwise a stable re-plan from the previous plan and the spec diff (design.md 4.3), and a new
 * file list only when the set of planned paths changed.
 */
export async function resolvePlan(options: {
  context: StageContext;
  spec: SpecInputs;
  settings: GenerationSettings;
  lock: Lock | undefined;
  /** Ignore the lock's plan and plan from scratch (`run --all` after a damaged lock, or a settings change). */
  replan: boolean;
  onEvent: EventSink;
}): Promise<ResolvedPlan> {
  const { context, onEvent } = options;
  const { rendered, specHash, parts: spec } = options.spec;
  const specLines = rendered.split('\n');
  const base = { planInputHash: planInputHash(options.settings, rendered), specLines, specHash };
  const lock = options.replan ? undefined : options.lock;

  if (lock !== undefined && lock.plan.inputHash === base.planInputHash) {
    onEvent({ type: 'stage-done', stage: 'plan', source: 'lock' });
    onEvent({ type: 'stage-done', stage: 'files', source: 'lock' });
    return { ...base, plan: planOf(lock), files: lock.plan.files, fromLock: true };
  }

  onEvent({ type: 'stage-start', stage: 'plan' });
  const planned = await planStage(context, spec, lock === undefined ? undefined : replanFrom(lock, rendered));
  onEvent({ type: 'stage-done', stage: 'plan', source: 'model' });
  const plan = planned.value;

  const samePaths =
    lock !== undefined &&
    sameSet(
      plan.sections.map((section) => section.path),
      lock.plan.sections.map((section) => section.path),
    );
  if (samePaths) {
    onEvent({ type: 'stage-done', stage: 'files', source: 'lock' });
    return { ...base, plan, files: lock.plan.files, fromLock: false };
  }
  onEvent({ type: 'stage-start', stage: 'files' });
  const listed = await fileListStage(context, spec, renderPlan(plan));
  onEvent({ type: 'stage-done', stage: 'files', source: 'model' });
  const files = [...listed.value].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return { ...base, plan, files, fromLock: false };
}

function planOf(lock: Lock): Plan {
  return { global: lock.plan.global, sections: lock.plan.sections };
}

/** What a stable re-plan starts from: the lock's plan and how the spec changed since (design.md 4.3). */
function replanFrom(lock: Lock, rendered: string): { plan: Plan; rendered: string; specDiff: string } {
  const plan = planOf(lock);
  const before = lock.spec.lines.join('\n');
  const specDiff = createTwoFilesPatch('prompt.md (before)', 'prompt.md (now)', before, rendered, '', '', {
    context: 3,
  });
  return { plan, rendered: renderPlan(plan), specDiff };
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  const set = new Set(a);
  return b.every((item) => set.has(item));
}
