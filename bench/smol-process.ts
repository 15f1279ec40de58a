import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ProbeReport } from './probe.js';
import { median } from './stats.js';

/** The built CLI of this checkout (bench code runs from dist-bench/bench/). */
export const DEFAULT_BIN = fileURLToPath(new URL('../../bin/smol.js', import.meta.url));

/** An NDJSON event from `--json`, stamped with `performance.now()` in the bench process when it arrived. */
export interface SmolEvent {
  type: string;
  at: number;
  [key: string]: unknown;
}

export interface BenchProject {
  dir: string;
  specFile: string;
  writeSpec(text: string): Promise<void>;
  close(): Promise<void>;
}

/** A temp folder for one project; `prompt.md` in it. */
export async function createBenchProject(): Promise<BenchProject> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'smol-bench-'));
  const specFile = path.join(dir, 'prompt.md');
  return {
    dir,
    specFile,
    writeSpec: (text) => writeFile(specFile, text),
    close: () => rm(dir, { recursive: true, force: true }),
  };
}

export interface SmolProcess {
  pid: number;
  spawnedAt: number;
  events: SmolEvent[];
  /** The next event, after those already consumed, that matches. */
  next(predicate: (event: SmolEvent) => boolean, timeoutMs?: number): Promise<SmolEvent>;
  exited: Promise<{ code: number | null; at: number }>;
  stderr(): string;
  stop(): Promise<void>;
}

/** Node options for the smol processes that run to be measured (`--cpu-prof=DIR` sets them; see profile.ts). */
let nodeOptions: string[] = [];

/** Writes a CPU profile of every `smol run`/`watch` process (startSmol, runSmol) into `dir`. */
export function profileInto(dir: string): void {
  nodeOptions = ['--cpu-prof', `--cpu-prof-dir=${dir}`, '--cpu-prof-interval=250'];
}

function smolEnv(cwd: string): Record<string, string> {
  // Nothing from the bench's environment reaches smol but PATH: no keys, no OPENAI_BASE_URL.
  return { PATH: process.env.PATH ?? '', HOME: cwd, NO_COLOR: '1' };
}

/** `node bin/smol.js ARGS` in `cwd`, reading NDJSON events from stdout as they come. */
export function startSmol(bin: string, args: readonly string[], cwd: string): SmolProcess {
  const spawnedAt = performance.now();
  const child = spawn(process.execPath, [...nodeOptions, bin, ...args], { cwd, env: smolEnv(cwd) });
  const events: SmolEvent[] = [];
  let cursor = 0;
  let buffer = '';
  let stderr = '';
  let wake: (() => void) | undefined;
  child.stdout.on('data', (chunk: Buffer) => {
    const at = performance.now();
    buffer += chunk.toString();
    for (let newline = buffer.indexOf('\n'); newline !== -1; newline = buffer.indexOf('\n')) {
      const line = buffer.slice(0, newline).trim();
      buffer = buffer.slice(newline + 1);
      if (line !== '') events.push({ ...(JSON.parse(line) as { type: string }), at });
    }
    wake?.();
  });
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<{ code: number | null; at: number }>((resolve) =>
    child.on('close', (code) => resolve({ code, at: performance.now() })),
  );
  void exited.then(() => wake?.());
  return {
    pid: child.pid!,
    spawnedAt,
    events,
    async next(predicate, timeoutMs = 120_000) {
      const deadline = performance.now() + timeoutMs;
      for (;;) {
        while (cursor < events.length) {
          const event = events[cursor++]!;
          if (predicate(event)) return event;
        }
        if (child.exitCode !== null || performance.now() > deadline) {
          throw new Error(
            `bench: no such event from smol ${args.join(' ')} (exit ${child.exitCode}); got ${events.map((event) => event.type).join(', ')}\n${stderr}`,
          );
        }
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, Math.max(0, deadline - performance.now()) + 1);
          wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
      }
    },
    exited,
    stderr: () => stderr,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

export interface SmolRun {
  code: number | null;
  spawnedAt: number;
  exitedAt: number;
  events: SmolEvent[];
  stderr: string;
}

/** Runs a command to the end. Throws when it fails: a bench figure from a failed run would mislead. */
export async function runSmol(
  bin: string,
  args: readonly string[],
  cwd: string,
  options: { allowFailure?: boolean } = {},
): Promise<SmolRun> {
  const smol = startSmol(bin, args, cwd);
  const { code, at } = await smol.exited;
  if (code !== 0 && options.allowFailure !== true)
    throw new Error(`bench: smol ${args.join(' ')} exited ${code}\n${smol.stderr()}`);
  return { code, spawnedAt: smol.spawnedAt, exitedAt: at, events: smol.events, stderr: smol.stderr() };
}

/** The first event of a type; throws when there is none. */
export function eventOf(run: { events: readonly SmolEvent[] }, type: string): SmolEvent {
  const event = run.events.find((candidate) => candidate.type === type);
  if (event === undefined) throw new Error(`bench: no ${type} event`);
  return event;
}

/** What one command cost as a whole process: wall time (spawn to exit), peak memory, CPU time, modules. */
export interface Measured {
  ms: number;
  maxRssMb: number;
  /** User + system CPU time. */
  cpuMs: number;
  /** Files loaded, with `{ modules: true }` (the loader hook slows the run: its `ms` is not a start time). */
  modules?: string[];
}

/** Runs a command with probe.js preloaded (`node --import`), which reports its peak RSS, CPU time and modules. */
export function measureSmol(
  bin: string,
  args: readonly string[],
  cwd: string,
  options: { modules?: boolean } = {},
): Promise<Measured> {
  return measureNode([bin, ...args], cwd, options);
}

/** `node ARGS` with probe.js preloaded: `measureNode(['-e', '0'])` is Node alone. */
export async function measureNode(
  args: readonly string[],
  cwd: string,
  options: { modules?: boolean } = {},
): Promise<Measured> {
  const reportFile = path.join(await mkdtemp(path.join(os.tmpdir(), 'smol-bench-probe-')), 'report.json');
  const probe = new URL('./probe.js', import.meta.url).href;
  const env = {
    ...smolEnv(cwd),
    SMOL_BENCH_PROBE_FILE: reportFile,
    ...(options.modules === true ? { SMOL_BENCH_MODULES: '1' } : {}),
  };
  const started = performance.now();
  await new Promise<void>((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', probe, ...args], {
      cwd,
      env,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolve() : reject(new Error(`bench: node ${args.join(' ')} exited ${code}\n${stderr}`)),
    );
  });
  const ms = performance.now() - started;
  const report = JSON.parse(await readFile(reportFile, 'utf8')) as ProbeReport;
  await rm(path.dirname(reportFile), { recursive: true, force: true });
  return {
    ms,
    maxRssMb: report.maxRssKb / 1024,
    cpuMs: report.userMs + report.systemMs,
    ...(report.modules === undefined ? {} : { modules: report.modules }),
  };
}

/**
 * Median wall time (spawn to exit, output ignored) of each `node ARGS`, over `rounds` rounds. The commands
 * take turns within a round, so a burst of load from elsewhere on the machine falls on all of them alike.
 */
export async function medianWallMs(
  commands: readonly (readonly string[])[],
  cwd: string,
  rounds: number,
): Promise<number[]> {
  const times: number[][] = commands.map(() => []);
  for (let round = 0; round < rounds; round += 1) {
    for (const [index, args] of commands.entries()) {
      const started = performance.now();
      const code = await new Promise<number | null>((resolve, reject) => {
        const child = spawn(process.execPath, args, { cwd, env: smolEnv(cwd), stdio: 'ignore' });
        child.on('error', reject);
        child.on('close', resolve);
      });
      if (code !== 0) throw new Error(`bench: node ${args.join(' ')} exited ${code}`);
      times[index]!.push(performance.now() - started);
    }
  }
  return times.map((list) => median(list));
}
