import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire, register } from 'node:module';
import { fileURLToPath } from 'node:url';

/**
 * Preloaded into a measured smol process with `node --import`: as the process exits it writes what it
 * cost, as JSON, to SMOL_BENCH_PROBE_FILE (see `ProbeReport`). With SMOL_BENCH_MODULES set it also lists
 * every module loaded: ES modules through a loader hook (which slows loading, so module counts come from
 * runs of their own), CommonJS ones from `require.cache`.
 */
export interface ProbeReport {
  maxRssKb: number;
  userMs: number;
  systemMs: number;
  /** Files loaded (absolute paths; node: built-ins left out), when SMOL_BENCH_MODULES was set. */
  modules?: string[];
}

const reportFile = process.env.SMOL_BENCH_PROBE_FILE;
const traceFile =
  process.env.SMOL_BENCH_MODULES === undefined || reportFile === undefined ? undefined : `${reportFile}.modules`;
if (traceFile !== undefined) {
  writeFileSync(traceFile, '');
  register(new URL('./module-hooks.js', import.meta.url), { data: { file: traceFile } });
}

process.on('exit', () => {
  if (reportFile === undefined) return;
  const usage = process.resourceUsage();
  const report: ProbeReport = {
    maxRssKb: usage.maxRSS,
    userMs: usage.userCPUTime / 1000,
    systemMs: usage.systemCPUTime / 1000,
  };
  if (traceFile !== undefined) {
    const esm = readFileSync(traceFile, 'utf8')
      .split('\n')
      .filter((line) => line.startsWith('file:'))
      .map((url) => fileURLToPath(url));
    const cjs = Object.keys(createRequire(import.meta.url).cache);
    const self = fileURLToPath(import.meta.url);
    report.modules = [...new Set([...esm, ...cjs])].filter((file) => file !== self);
  }
  writeFileSync(reportFile, JSON.stringify(report));
});
