import path from 'node:path';
import type { Plan } from '../plan/plan-markdown.js';
import { normalizeWhitespace, renderSpec } from '../plan/templates.js';
import type { Spec } from '../spec/types.js';
import { hashJson } from '../internal/hash.js';
import { mapLimit } from '../internal/map-limit.js';
import { assessFile, diskState, type DiskState } from './assess.js';
import { buildFileInputs, settingsHash, type GenerationSettings } from './fingerprint.js';
import { readLock } from './lock.js';
import { recoverJournal } from './journal.js';
import { statePaths } from './paths.js';

/** Files read at once when sweeping the output folder. */
const FS_CONCURRENCY = 32;

export interface FileStatus {
  path: string;
  disk: DiskState;
  /** Why it would be regenerated; empty when up to date; undefined when unknown without a re-plan. */
  reasons: string[] | undefined;
  /** True when the file left the plan. */
  removed?: boolean;
}

export interface StatusReport {
  hasLock: boolean;
  /** The spec or the generation settings changed since the lock's plan: which files change needs a re-plan. */
  specChanged: boolean;
  settingsChanged: boolean;
  files: FileStatus[];
}

/**
 * Where every file stands, from the lock and the disk alone: never calls a model. `providerName` is the
 * provider a run would use; when none is configured here (CI without keys) the lock's is assumed.
 */
export async function computeStatus(spec: Spec, providerName: string | undefined, stateDir = spec.dir): Promise<StatusReport> {
  const paths = statePaths(stateDir);
  // An apply cut short by a crash is finished first, so the status tells the truth.
  await recoverJournal(paths);
  const lock = await readLock(paths.lockFile, path.relative(process.cwd(), paths.lockFile) || paths.lockFile);
  if (lock === undefined) return { hasLock: false, specChanged: true, settingsChanged: false, files: [] };
  const generation: GenerationSettings = { provider: providerName ?? lock.settings.provider, model: spec.settings.model, temperature: spec.settings.temperature };
  const parts = {
    globalText: spec.globalText,
    includes: spec.includes.map((include) => ({ path: include.path, text: include.text })),
    sections: spec.sections.map((section) => ({ path: section.path, text: section.text })),
  };
  const currentSettings = settingsHash(generation);
  const settingsChanged = settingsHash(lock.settings) !== currentSettings;
  const specChanged = lock.plan.inputHash !== hashJson({ settings: currentSettings, spec: renderSpec(parts) });
  const plan: Plan = { global: lock.plan.global, sections: lock.plan.sections };
  const sectionText = new Map(spec.sections.map((section) => [section.path, normalizeWhitespace(section.text)]));
  const fullSpec = spec.settings.context === 'full' ? renderSpec(parts) : undefined;
  const planned = new Set(lock.plan.files.map((file) => file.path));
  const files: FileStatus[] = await mapLimit(lock.plan.files, FS_CONCURRENCY, async (file) => {
    const inputs = buildFileInputs(file, lock.plan.files, plan, sectionText.get(file.path) ?? '', fullSpec);
    const assessment = await assessFile({ outDir: spec.outDir, planned: file, inputs, settings: generation, lock, forced: false });
    return {
      path: file.path,
      disk: assessment.disk,
      // With a changed spec the lock's plan is out of date, so its fingerprints cannot say which files change.
      reasons: specChanged && !settingsChanged ? undefined : assessment.reasons,
    };
  });
  const removed = Object.entries(lock.files).filter(([filePath]) => !planned.has(filePath));
  files.push(
    ...(await mapLimit(removed, FS_CONCURRENCY, async ([filePath, locked]): Promise<FileStatus> => {
      const { disk } = await diskState(spec.outDir, filePath, locked);
      return { path: filePath, disk, reasons: ['removed from plan'], removed: true };
    })),
  );
  return { hasLock: true, specChanged, settingsChanged, files };
}
