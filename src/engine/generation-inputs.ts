import { hashJson } from '../internal/hash.js';
import type { Plan } from '../plan/plan-markdown.js';
import type { PlannedFile } from '../plan/stages.js';
import { normaliseWhitespace, renderSpec, type FileInputs, type SpecPromptParts } from '../plan/templates.js';
import type { Spec } from '../spec/types.js';
import { buildFileInputs, fingerprintOf, hashInputs, settingsHash, type GenerationSettings } from './fingerprint.js';
import type { InputHashes } from './lock.js';

/**
 * The one place that says what a generation sees (design.md 4.2): run, plan, status, check, serve and
 * `init --from-code` all compute fingerprints here, so they cannot disagree about what is stale.
 */
export interface SpecInputs {
  parts: SpecPromptParts;
  /** The spec as the planner sees it (whitespace normalised). */
  rendered: string;
  specHash: string;
  /** Per-file spec sections, whitespace normalised, by path. */
  sectionText: ReadonlyMap<string, string>;
  /** With `context: full`: the whole rendered spec, sent to every file. */
  fullSpec: string | undefined;
}

export function specInputs(
  spec: Pick<Spec, 'globalText' | 'includes' | 'sections'> & { settings: { context: string } },
): SpecInputs {
  const parts: SpecPromptParts = {
    globalText: spec.globalText,
    includes: spec.includes.map((include) => ({ path: include.path, text: include.text })),
    sections: spec.sections.map((section) => ({ path: section.path, text: section.text })),
  };
  const rendered = renderSpec(parts);
  return {
    parts,
    rendered,
    specHash: hashJson(rendered),
    sectionText: new Map(spec.sections.map((section) => [section.path, normaliseWhitespace(section.text)])),
    fullSpec: spec.settings.context === 'full' ? rendered : undefined,
  };
}

/** The settings every file's generation depends on. */
export function generationSettings(
  providerName: string,
  spec: { settings: { model: string; temperature: number } },
): GenerationSettings {
  return { provider: providerName, model: spec.settings.model, temperature: spec.settings.temperature };
}

/** What the plan depends on: the rendered spec and the generation settings. */
export function planInputHash(settings: GenerationSettings, rendered: string): string {
  return hashJson({ settings: settingsHash(settings), spec: rendered });
}

export interface FileGeneration {
  inputs: FileInputs;
  hashes: InputHashes;
  fingerprint: string;
}

/** What `file`'s generation sees under `plan`, and its fingerprint. */
export function fileGeneration(
  file: PlannedFile,
  files: readonly PlannedFile[],
  plan: Plan,
  spec: SpecInputs,
  settings: GenerationSettings,
): FileGeneration {
  const inputs = buildFileInputs(file, files, plan, spec.sectionText.get(file.path) ?? '', spec.fullSpec);
  const hashes = hashInputs(inputs, settings);
  return { inputs, hashes, fingerprint: fingerprintOf(hashes) };
}
