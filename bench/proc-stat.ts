import { readFile } from 'node:fs/promises';

/** CPU time (user + system) and resident memory of a process, from /proc (Linux). */
export interface ProcessSample {
  cpuMs: number;
  rssMb: number;
}

/** Clock ticks per second for /proc/PID/stat: 100 on every Linux that Node supports. */
const CLOCK_TICKS = 100;

export async function sampleProcess(pid: number): Promise<ProcessSample> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  // The fields after "pid (comm) " — comm may hold spaces — start with field 3 (state); utime and stime are 14 and 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1]);
  return { cpuMs: (ticks * 1000) / CLOCK_TICKS, rssMb: rssKb / 1024 };
}

export function hasProc(): Promise<boolean> {
  return readFile('/proc/self/stat', 'utf8').then(
    () => true,
    () => false,
  );
}
