import { readFile } from 'node:fs/promises';
import { sha256 } from '../internal/hash.js';
import { loadSpec, parseSpecText, type SpecOverrides } from '../spec/load.js';
import type { Spec } from '../spec/types.js';

/** The bytes a run read: the spec file and, once it parsed, its includes. */
export interface InputSnapshot {
  specPath: string;
  /** Absolute paths of the includes the spec named (empty when it did not parse). */
  includes: string[];
  digest: string;
}

export type ReadResult = ({ ok: true; spec: Spec } | { ok: false; error: unknown }) & { snapshot: InputSnapshot };

/**
 * Reads and validates the spec, remembering exactly what was read. An editor that truncates the file and
 * then writes it can be caught in between (issue 19): comparing the snapshot with the disk after the run
 * tells the daemon to read again, and lets it drop an error that came from a half-written file.
 */
export async function readInputs(options: {
  specPath: string;
  displayPath: string;
  cwd: string;
  overrides: SpecOverrides | undefined;
}): Promise<ReadResult> {
  const { specPath, displayPath, overrides } = options;
  let text: string;
  try {
    text = await readFile(specPath, 'utf8');
  } catch {
    // Not there (or not readable): `loadSpec` says so in its words, with the hint.
    try {
      const spec = await loadSpec(displayPath, { cwd: options.cwd, overrides });
      return {
        ok: true,
        spec,
        snapshot: await snapshotOf(
          specPath,
          spec.includes.map((include) => include.absolutePath),
        ),
      };
    } catch (error) {
      return { ok: false, error, snapshot: { specPath, includes: [], digest: digestOf([undefined]) } };
    }
  }
  try {
    const spec = await parseSpecText(text, {
      file: specPath,
      displayPath,
      overrides,
    });
    const includes = spec.includes.map((include) => include.absolutePath);
    return {
      ok: true,
      spec,
      snapshot: { specPath, includes, digest: digestOf([text, ...spec.includes.map((include) => include.text)]) },
    };
  } catch (error) {
    return { ok: false, error, snapshot: { specPath, includes: [], digest: digestOf([text]) } };
  }
}

/** True when the spec or one of its includes is no longer what `snapshot` read. */
export async function inputsChanged(snapshot: InputSnapshot): Promise<boolean> {
  return (await snapshotOf(snapshot.specPath, snapshot.includes)).digest !== snapshot.digest;
}

async function snapshotOf(specPath: string, includes: string[]): Promise<InputSnapshot> {
  const read = (file: string): Promise<string | undefined> => readFile(file, 'utf8').catch(() => undefined);
  const spec = await read(specPath);
  // Includes are compared as the loader keeps them (CRLF normalised).
  const included = await Promise.all(includes.map(async (file) => (await read(file))?.replace(/\r\n/g, '\n')));
  return { specPath, includes, digest: digestOf([spec, ...included]) };
}

function digestOf(parts: (string | undefined)[]): string {
  return sha256(JSON.stringify(parts));
}
