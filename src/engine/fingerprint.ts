import { hashJson, sha256 } from '../internal/hash.js';
import type { Plan } from '../plan/plan-markdown.js';
import { planSection } from '../plan/plan-markdown.js';
import type { PlannedFile } from '../plan/stages.js';
import { PROMPT_VERSION, type FileInputs } from '../plan/templates.js';
import type { InputHashes, LockedFile } from './lock.js';

/** The generation settings that are an input of every file (design.md 4.2). */
export interface GenerationSettings {
  provider: string;
  model: string;
  temperature: number;
}

export function settingsHash(settings: GenerationSettings): string {
  return hashJson({ ...settings, promptVersion: PROMPT_VERSION });
}

/** Builds exactly what stage 3 sends for `file` (except its current content). */
export function buildFileInputs(
  file: PlannedFile,
  files: readonly PlannedFile[],
  plan: Plan,
  specSection: string,
  fullSpec: string | undefined,
): FileInputs {
  const byPath = new Map(files.map((entry) => [entry.path, entry]));
  return {
    path: file.path,
    purpose: file.purpose,
    planGlobal: plan.global,
    planSection: planSection(plan, file.path),
    dependencies: [...new Set(file.dependsOn)]
      .filter((dependency) => dependency !== file.path && byPath.has(dependency))
      .sort()
      .map((dependency) => ({
        path: dependency,
        purpose: byPath.get(dependency)!.purpose,
        section: planSection(plan, dependency),
      })),
    fileList: files.map((entry) => entry.path).sort(),
    specSection,
    fullSpec,
  };
}

export function hashInputs(inputs: FileInputs, settings: GenerationSettings): InputHashes {
  return {
    settings: settingsHash(settings),
    planGlobal: sha256(inputs.planGlobal),
    planSection: hashJson({ purpose: inputs.purpose, section: inputs.planSection }),
    fileList: hashJson(inputs.fileList),
    spec: hashJson({ section: inputs.specSection, full: inputs.fullSpec ?? null }),
    dependencies: Object.fromEntries(
      inputs.dependencies.map((dependency) => [dependency.path, hashJson({ purpose: dependency.purpose, section: dependency.section })]),
    ),
  };
}

export function fingerprintOf(hashes: InputHashes): string {
  return hashJson(hashes);
}

/**
 * Why a file must be regenerated, comparing its inputs now with those of its last generation.
 * An empty list means it is up to date.
 */
export function staleReasons(previous: LockedFile | undefined, current: InputHashes): string[] {
  if (previous === undefined) return ['new'];
  if (previous.fingerprint === fingerprintOf(current)) return [];
  const before = previous.inputs;
  const reasons: string[] = [];
  if (before.settings !== current.settings) reasons.push('settings changed');
  if (before.planGlobal !== current.planGlobal) reasons.push('shared plan changed');
  if (before.planSection !== current.planSection) reasons.push('plan section changed');
  if (before.spec !== current.spec) reasons.push('spec section changed');
  if (before.fileList !== current.fileList) reasons.push('file list changed');
  const paths = new Set([...Object.keys(before.dependencies), ...Object.keys(current.dependencies)]);
  for (const dependency of [...paths].sort()) {
    if (before.dependencies[dependency] !== current.dependencies[dependency]) reasons.push(`dependency ${dependency} changed`);
  }
  return reasons.length > 0 ? reasons : ['inputs changed'];
}
