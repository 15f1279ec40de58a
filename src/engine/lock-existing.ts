import type { Plan } from '../plan/plan-markdown.js';
import type { PlannedFile } from '../plan/stages.js';
import { PROMPT_VERSION } from '../plan/templates.js';
import type { Spec } from '../spec/types.js';
import { ObjectStore } from '../workspace/object-store.js';
import { writeStateFile } from '../workspace/state-file.js';
import { fileGeneration, generationSettings, planInputHash, specInputs } from './generation-inputs.js';
import { LOCK_VERSION, serializeLock, type Lock, type LockedFile } from './lock.js';
import { outDirName, type StatePaths } from './paths.js';

/**
 * Writes a lock that records files already on disk as smol's generation of them, computed exactly as a run
 * would (the same inputs and fingerprints), so the next run finds every file up to date and calls nothing.
 * Used by `smol init --from-code`.
 */
export async function lockExistingFiles(options: {
  spec: Spec;
  paths: StatePaths;
  providerName: string;
  plan: Plan;
  files: readonly PlannedFile[];
  contents: ReadonlyMap<string, string>;
}): Promise<Lock> {
  const { spec, paths, plan, files } = options;
  const settings = generationSettings(options.providerName, spec);
  const inputs = specInputs(spec);
  const objects = new ObjectStore(paths.objects);
  const entries: Record<string, LockedFile> = {};
  for (const file of files) {
    const content = options.contents.get(file.path);
    if (content === undefined) continue;
    const { fingerprint, hashes } = fileGeneration(file, files, plan, inputs, settings);
    const hash = await objects.put(content);
    entries[file.path] = { fingerprint, inputs: hashes, generated: hash, written: hash };
  }
  const lock: Lock = {
    version: LOCK_VERSION,
    promptVersion: PROMPT_VERSION,
    settings,
    outDir: outDirName(paths, spec.outDir),
    spec: { hash: inputs.specHash, lines: inputs.rendered.split('\n') },
    plan: {
      inputHash: planInputHash(settings, inputs.rendered),
      global: plan.global,
      sections: plan.sections,
      files: [...files],
    },
    files: entries,
  };
  await writeStateFile(paths.lockFile, serializeLock(lock));
  return lock;
}
