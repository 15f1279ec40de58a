import path from 'node:path';
import type { PlannedFile } from '../plan/stages.js';
import type { Spec } from '../spec/types.js';
import { checkPlannedPaths, isInside, resolveInside, UnsafePathError, type PathRejection } from '../workspace/safe-path.js';
import type { StatePaths } from './paths.js';

/** Paths from the model are hostile input (design.md 6): keep the safe ones, report the rest. */
export async function acceptedFiles(planned: readonly PlannedFile[], spec: Spec, paths: StatePaths): Promise<{ files: PlannedFile[]; rejected: PathRejection[] }> {
  const { accepted, rejected } = checkPlannedPaths(
    planned.map((file) => file.path),
    { maxFiles: spec.settings.maxFiles, ignore: spec.settings.ignore },
  );
  // Never let generated output overwrite the spec, its includes, the lock or smol's own state.
  const protectedFiles = new Set([spec.file, paths.lockFile, ...spec.includes.map((include) => include.absolutePath)]);
  const safe = new Set<string>();
  for (const candidate of accepted) {
    const absolute = path.join(spec.outDir, candidate);
    if (protectedFiles.has(absolute) || isInside(paths.stateDir, absolute)) {
      rejected.push({ path: candidate, reason: 'would overwrite the spec, an include, smol.lock or .smol/' });
      continue;
    }
    // The real location counts: a symlink inside outDir must not carry a write outside it.
    const unsafe = await resolveInside(spec.outDir, candidate).then(
      () => undefined,
      (error: unknown) => (error instanceof UnsafePathError ? error.reason : String(error)),
    );
    if (unsafe === undefined) safe.add(candidate);
    else rejected.push({ path: candidate, reason: unsafe });
  }
  const normalised = planned.map((file) => ({ ...file, path: normaliseLoose(file.path) }));
  const files = normalised
    .filter((file) => safe.has(file.path))
    .filter((file, index, all) => all.findIndex((other) => other.path === file.path) === index)
    .map((file) => ({ ...file, dependsOn: [...new Set(file.dependsOn.map(normaliseLoose))].filter((dependency) => safe.has(dependency)).sort() }));
  return { files, rejected };
}

export function normaliseLoose(raw: string): string {
  return raw.replace(/\\/g, '/').split('/').filter((segment) => segment !== '' && segment !== '.').join('/');
}
