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
  fresh: boolean;
  onEvent: EventSink;
}): Promise<ResolvedPlan> {
  const { context, lock, onEvent } = options;
  const { rendered, specHash, parts: spec } = options.spec;
  const specLines = rendered.split('\n');
  const base = { planInputHash: planInputHash(options.settings, rendered), specLines, specHash };

  if (!options.fresh && lock !== undefined && lock.plan.inputHash === base.planInputHash) {
    onEvent({ type: 'stage-done', stage: 'plan', source: 'lock' });
    onEvent({ type: 'stage-done', stage: 'files', source: 'lock' });
    const plan = { global: lock.plan.global, sections: lock.plan.sections };
    return { ...base, plan, files: lock.plan.files, fromLock: true };
  }

  const previousPlan: Plan | undefined =
    !options.fresh && lock !== undefined ? { global: lock.plan.global, sections: lock.plan.sections } : undefined;
  onEvent({ type: 'stage-start', stage: 'plan' });
  const planned = await planStage(
    context,
    spec,
    previousPlan === undefined
      ? undefined
      : {
          plan: previousPlan,
          rendered: renderPlan(previousPlan),
          specDiff: createTwoFilesPatch(
            'prompt.md (before)',
            'prompt.md (now)',
            lock!.spec.lines.join('\n'),
            rendered,
            '',
            '',
            {
              context: 3,
            },
          ),
        },
  );
  onEvent({ type: 'stage-done', stage: 'plan', source: 'model' });
  const plan = planned.value;

  const samePaths =
    lock !== undefined &&
    previousPlan !== undefined &&
    sameSet(
      plan.sections.map((section) => section.path),
      previousPlan.sections.map((section) => section.path),
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

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  const set = new Set(a);
  return b.every((item) => set.has(item));
}
