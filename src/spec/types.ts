import type { SpecSettings } from './schema.js';

/** A per-file section of the spec: a level-2 heading that is exactly one code span holding a path. */
export interface FileSection {
  /** The path in the heading, as written (normalised to forward slashes). */
  path: string;
  /** The section text below the heading, up to the next level-1/2 heading, trimmed. */
  text: string;
  /** 1-based line of the heading in the spec file. */
  line: number;
}

/** A file named in `include`, read as extra spec text. */
export interface IncludedFile {
  /** As written in `include`, relative to the spec's folder. */
  path: string;
  absolutePath: string;
  text: string;
}

/** A loaded, validated spec. */
export interface Spec {
  /** Absolute path of the spec file (for an inline prompt: a virtual path inside `dir`). */
  file: string;
  /** How to name the spec file in messages (the path as the user gave it). */
  displayPath: string;
  /** Absolute folder of the spec; relative settings resolve against it. */
  dir: string;
  /** Validated settings with defaults applied and command-line overrides merged; `model` is always set. */
  settings: SpecSettings & { model: string };
  /** Everything after the frontmatter. */
  body: string;
  /** The body without the per-file sections. */
  globalText: string;
  sections: FileSection[];
  includes: IncludedFile[];
  /** Absolute output folder (`settings.outDir` resolved against `dir`). */
  outDir: string;
}
