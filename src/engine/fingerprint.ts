import { hashJson, sha256 } from '../internal/hash.js';
import type { Plan } from '../plan/plan-markdown.js';
import type { PlannedFile } from '../plan/stages.js';
import { PROMPT_VERSION, type FileInputs } from '../plan/templates.js';
import type { InputHashes, LockedFile } from './lock.js';
import type { StaleReason } from './reasons.js';

/** The generation settings that are an input of every file (design.md 4.2). */
export interface GenerationSettings {
  provider: string;
  model: string;
  temperature: number;
}

const settingsHashes = new WeakMap<GenerationSettings, string>();

export function settingsHash(settings: GenerationSettings): string {
  // Every file of a run shares one settings object: hash it once, not once per file.
  let hash = settingsHashes.get(settings);
  if (hash === undefined) {
    hash = hashJson({
      provider: settings.provider,
      model: settings.model,
      temperature: settings.temperature,
      promptVersion: PROMPT_VERSION,
    });
    settingsHashes.set(settings, hash);
  }
  return hash;
}

// Every file of a run shares the file list and the plan: index them once per run, not once per file
// (per file, a 2,000-file plan made status quadratic: seconds instead of milliseconds).
const listIndex = new WeakMap<readonly PlannedFile[], { byPath: Map<string, PlannedFile>; sortedPaths: string[] }>();
const planIndex = new WeakMap<Plan, Map<string, string>>();
const listHash = new WeakMap<readonly string[], string>();

function indexOf(files: readonly PlannedFile[]): { byPath: Map<string, PlannedFile>; sortedPaths: string[] } {
  let index = listIndex.get(files);
  if (index === undefined) {
    index = {
      byPath: new Map(files.map((entry) => [entry.path, entry])),
      sortedPaths: files.map((entry) => entry.path).sort(),
    };
    listIndex.set(files, index);
  }
  return index;
}

function sectionOf(plan: Plan, path: string): string {
  let sections = planIndex.get(plan);
  if (sections === undefined) {
    sections = new Map();
    // The first section of a path wins, as in planSection().
    for (const section of plan.sections) if (!sections.has(section.path)) sections.set(section.path, section.text);
    planIndex.set(plan, sections);
  }
  return sections.get(path) ?? '';
}

/** Builds exactly what stage 3 sends for `file` (except its current content). */
export function buildFileInputs(
  file: PlannedFile,
  files: readonly PlannedFile[],
  plan: Plan,
  specSection: string,
  fullSpec: string | undefined,
): FileInputs {
  const { byPath, sortedPaths } = indexOf(files);
  return {
    path: file.path,
    purpose: file.purpose,
    planGlobal: plan.global,
    planSection: sectionOf(plan, file.path),
    dependencies: [...new Set(file.dependsOn)]
      .filter((dependency) => dependency !== file.path && byPath.has(dependency))
      .sort()
      .map((dependency) => ({
        path: dependency,
        purpose: byPath.get(dependency)!.purpose,
        section: sectionOf(plan, dependency),
      })),
    // Shared by every file of the run (read-only).
    fileList: sortedPaths,
    specSection,
    fullSpec,
  };
}

export function hashInputs(inputs: FileInputs, settings: GenerationSettings): InputHashes {
  return {
    settings: settingsHash(settings),
    planGlobal: hashOfGlobal(inputs.planGlobal),
    planSection: sectionHash(inputs.purpose, inputs.planSection),
    fileList: hashOfList(inputs.fileList),
    // hashJson({ section, full }), its keys written in hashJson's (sorted) order.
    spec: sha256(JSON.stringify({ full: inputs.fullSpec ?? null, section: inputs.specSection })),
    dependencies: Object.fromEntries(
      inputs.dependencies.map((dependency) => [dependency.path, sectionHash(dependency.purpose, dependency.section)]),
    ),
  };
}

/**
 * `hashJson({ purpose, section })`. The text hashJson would write is built directly (keys in its sorted
 * order; strings need no sorting): a status hashes two of these per file, and the generic key sorting was
 * most of the cost.
 */
function sectionHash(purpose: string, section: string): string {
  return sha256(JSON.stringify({ purpose, section }));
}

// Every file of a run shares the plan's global part (often the longest text of all): hash it once.
let lastGlobal: { text: string; hash: string } | undefined;
function hashOfGlobal(text: string): string {
  if (lastGlobal?.text !== text) lastGlobal = { text, hash: sha256(text) };
  return lastGlobal.hash;
}

function hashOfList(paths: readonly string[]): string {
  let hash = listHash.get(paths);
  if (hash === undefined) {
    hash = hashJson(paths);
    listHash.set(paths, hash);
  }
  return hash;
}

export function fingerprintOf(hashes: InputHashes): string {
  const keys = Object.keys(hashes);
  if (keys.length !== FINGERPRINT_KEYS.length || !FINGERPRINT_KEYS.every((key) => key in hashes))
    return hashJson(hashes);
  // What hashJson writes, without its generic recursion: the keys in sorted order, the dependencies' too
  // (through an object built in sorted order, as hashJson builds it, so integer-like paths land where
  // they land there).
  const dependencies = Object.fromEntries(
    Object.keys(hashes.dependencies)
      .sort()
      .map((path) => [path, hashes.dependencies[path]]),
  );
  const { fileList, planGlobal, planSection, settings, spec } = hashes;
  return sha256(JSON.stringify({ dependencies, fileList, planGlobal, planSection, settings, spec }));
}

/** The keys of `InputHashes`, sorted. */
const FINGERPRINT_KEYS = ['dependencies', 'fileList', 'planGlobal', 'planSection', 'settings', 'spec'];

/**
 * Why a file must be regenerated, comparing its inputs now with those of its last generation.
 * An empty list means it is up to date.
 */
export function staleReasons(previous: LockedFile | undefined, current: InputHashes): StaleReason[] {
  if (previous === undefined) return [{ kind: 'new' }];
  if (previous.fingerprint === fingerprintOf(current)) return [];
  const before = previous.inputs;
  const reasons: StaleReason[] = [];
  if (before.settings !== current.settings) reasons.push({ kind: 'settings-changed' });
  if (before.planGlobal !== current.planGlobal) reasons.push({ kind: 'shared-plan-changed' });
  if (before.planSection !== current.planSection) reasons.push({ kind: 'plan-section-changed' });
  if (before.spec !== current.spec) reasons.push({ kind: 'spec-section-changed' });
  if (before.fileList !== current.fileList) reasons.push({ kind: 'file-list-changed' });
  const paths = new Set([...Object.keys(before.dependencies), ...Object.keys(current.dependencies)]);
  for (const dependency of [...paths].sort()) {
    if (before.dependencies[dependency] !== current.dependencies[dependency])
      reasons.push({ kind: 'dependency-changed', path: dependency });
  }
  return reasons.length > 0 ? reasons : [{ kind: 'inputs-changed' }];
}
