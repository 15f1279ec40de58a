import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { tempDir, type CliResult } from './cli.js';
import { runMain } from './main-in-process.js';
import { startOpenAIServer, type MockOpenAIServer, type ReplyHandler } from './openai-server.js';

/** A fake API key: tests check it never shows up in any output or file. */
export const FAKE_KEY = 'sk-test-DO-NOT-LEAK-4f9c2a7e1b';

export interface SpecOptions {
  settings?: Record<string, string | number>;
  body?: string;
  sections?: Record<string, string>;
}

export function specText(options: SpecOptions = {}): string {
  const settings = { model: 'test-model', outDir: 'app', ...options.settings };
  const frontmatter = Object.entries(settings)
    .map(
      ([key, value]) =>
        `${key}: ${typeof value === 'string' && /[:#{}[\]]/.test(value) ? JSON.stringify(value) : value}`,
    )
    .join('\n');
  const sections = Object.entries(options.sections ?? {})
    .map(([file, text]) => `## \`${file}\`\n\n${text}\n`)
    .join('\n');
  return `---\n${frontmatter}\n---\n${options.body ?? '# Demo\n\nA tiny demo program.'}\n\n${sections}`;
}

/** A temp project with a spec and a loopback model server, driven through the real CLI. */
export interface TestProject {
  dir: string;
  server: MockOpenAIServer;
  writeSpec(options?: SpecOptions): Promise<void>;
  smol(args: string[], extraEnv?: Record<string, string>): Promise<CliResult>;
  read(relative: string): Promise<string>;
  readOrUndefined(relative: string): Promise<string | undefined>;
  write(relative: string, content: string): Promise<void>;
  /** Every file under the project (relative paths), for "nothing outside outDir" checks. */
  listFiles(): Promise<string[]>;
  close(): Promise<void>;
}

export async function createProject(handler: ReplyHandler): Promise<TestProject> {
  const { dir, cleanup } = await tempDir();
  const server = await startOpenAIServer({ handler });
  const project: TestProject = {
    dir,
    server,
    writeSpec: (options) => writeFile(path.join(dir, 'prompt.md'), specText(options)),
    smol: (args, extraEnv) =>
      runMain([...args, '--provider', 'openai-compatible', '--base-url', server.url], {
        cwd: dir,
        env: { OPENAI_API_KEY: FAKE_KEY, ...extraEnv },
      }),
    read: (relative) => readFile(path.join(dir, relative), 'utf8'),
    readOrUndefined: (relative) => readFile(path.join(dir, relative), 'utf8').catch(() => undefined),
    write: async (relative, content) => {
      await mkdir(path.dirname(path.join(dir, relative)), { recursive: true });
      await writeFile(path.join(dir, relative), content);
    },
    listFiles: async () =>
      (await readdir(dir, { recursive: true, withFileTypes: true }))
        .filter((entry) => entry.isFile())
        .map((entry) => path.relative(dir, path.join(entry.parentPath, entry.name)))
        .sort(),
    close: async () => {
      await server.close();
      await cleanup();
    },
  };
  return project;
}

/** Every file's content under `dir`, for secret scans. */
export async function allText(dir: string): Promise<string> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  const texts = await Promise.all(
    entries.filter((entry) => entry.isFile()).map((entry) => readFile(path.join(entry.parentPath, entry.name), 'utf8')),
  );
  return texts.join('\n');
}
