import type { LatencyModel } from './model-server.js';

/** One measured figure. A figure with a goal says whether it met it; the bench never fails on a miss. */
export interface Figure {
  scenario: string;
  measure: string;
  value: number;
  unit: string;
  goal?: string;
  pass?: boolean;
  /** More numbers behind the figure, for `--json` (e.g. the wall and critical-path times behind a percentage). */
  details?: Record<string, number>;
}

/** What every scenario receives. */
export interface BenchContext {
  quick: boolean;
  /** The CLI to measure (default: this checkout's bin/smol.js). */
  bin: string;
  /** The simulated model's speed for the timed scenarios (parallel, edit, reaction). */
  latency: LatencyModel;
  /** Progress lines for humans (stderr). */
  log(line: string): void;
}

export type Scenario = (context: BenchContext) => Promise<Figure[]>;

export function figure(
  scenario: string,
  measure: string,
  value: number,
  unit: string,
  goal?: { goal: string; pass: boolean },
  details?: Record<string, number>,
): Figure {
  return {
    scenario,
    measure,
    value,
    unit,
    ...(goal === undefined ? {} : goal),
    ...(details === undefined ? {} : { details }),
  };
}
