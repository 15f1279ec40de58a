import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createProvider } from '../src/llm/create.js';
import { loadSpec } from '../src/spec/load.js';
import { runPipeline, type RunResult } from '../src/engine/run.js';
import type { ScriptedApp } from '../test/helpers/scripted-model.js';

/** A scripted app of `count` files, each answer about `tokens` tokens long. */
export function makeApp(count: number, tokens: number): ScriptedApp {
  const files: ScriptedApp['files'] = {};
  for (let index = 0; index < count; index += 1) {
    const name = `src/module${String(index).padStart(3, '0')}.ts`;
    const line = `export const value${index} = ${index}; // generated line\n`;
    const body = line.repeat(Math.max(1, Math.round((tokens * 4) / line.length)));
    files[name] = { purpose: `module ${index}`, section: `Exports value${index}.`, content: body };
  }
  return { files };
}

export function specText(options: { concurrency: number; body?: string; sections?: Record<string, string>; extra?: string }): string {
  const sections = Object.entries(options.sections ?? {}).map(([file, text]) => `## \`${file}\`\n\n${text}\n`).join('\n');
  return `---\nmodel: bench-model\noutDir: app\nconcurrency: ${options.concurrency}\nmaxFiles: 5000\nmaxTotalBytes: 200000000\n${options.extra ?? ''}---\n${options.body ?? '# Bench app\n\nA generated app used for benchmarks.'}\n\n${sections}`;
}

export interface BenchProject {
  dir: string;
  write(spec: string): Promise<void>;
  run(options?: { cache?: boolean; force?: 'all' }): Promise<{ result: RunResult; ms: number }>;
  close(): Promise<void>;
}

export async function benchProject(url: string): Promise<BenchProject> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'smol-bench-'));
  const specFile = path.join(dir, 'prompt.md');
  const { provider } = createProvider({ model: 'bench-model', provider: 'openai-compatible', baseURL: url }, {});
  return {
    dir,
    write: (spec) => writeFile(specFile, spec),
    async run(options = {}) {
      const spec = await loadSpec(specFile);
      const started = performance.now();
      const result = await runPipeline({ spec, provider, providerIdentity: 'bench', mode: 'apply', ...(options.cache === false ? { cache: false } : {}), ...(options.force === undefined ? {} : { force: options.force }) });
      return { result, ms: performance.now() - started };
    },
    close: () => rm(dir, { recursive: true, force: true }),
  };
}
