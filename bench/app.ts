import type { ScriptedApp } from '../test/helpers/scripted-model.js';

/** The path of the `index`-th file of a bench app. */
export function modulePath(index: number): string {
  return `src/module${String(index).padStart(4, '0')}.ts`;
}

/** A scripted app of `count` files, each code answer about `tokens` tokens long (4 characters a token). */
export function makeApp(count: number, tokens: number): ScriptedApp {
  const files: ScriptedApp['files'] = {};
  for (let index = 0; index < count; index += 1) {
    const line = `export const value${index} = ${index}; // a generated line\n`;
    const content = line.repeat(Math.max(1, Math.round((tokens * 4) / line.length)));
    files[modulePath(index)] = { purpose: `module ${index}`, section: `Exports value${index}.`, content };
  }
  return { files };
}

export interface SpecOptions {
  /** The bench server's URL. */
  baseURL: string;
  concurrency: number;
  /** The global text (the spec's body before the per-file sections). */
  body?: string;
  /** Per-file sections: path to text. */
  sections?: Record<string, string>;
  /** More frontmatter lines. */
  extra?: string[];
}

export const DEFAULT_BODY = '# Bench app\n\nA generated app used for benchmarks.';

/** A prompt.md for the bench server's model: high file and byte limits so the scale fixture fits. */
export function specText(options: SpecOptions): string {
  const frontmatter = [
    'model: bench-model',
    'provider: openai-compatible',
    `baseURL: ${options.baseURL}`,
    'outDir: app',
    `concurrency: ${options.concurrency}`,
    'maxFiles: 5000',
    'maxTotalBytes: 200000000',
    ...(options.extra ?? []),
  ];
  const sections = Object.entries(options.sections ?? {}).map(([file, text]) => `## \`${file}\`\n\n${text}\n`);
  return `---\n${frontmatter.join('\n')}\n---\n${options.body ?? DEFAULT_BODY}\n\n${sections.join('\n')}`;
}

/** One per-file section for every file of `app`. */
export function sectionsFor(app: ScriptedApp): Record<string, string> {
  return Object.fromEntries(Object.keys(app.files).map((file) => [file, `Module ${file}.`]));
}
