import { InvalidArgumentError, type Command } from 'commander';

/** Flags named after the frontmatter keys; they override the spec (design.md 2). */
export interface ModelFlags {
  model?: string;
  provider?: string;
  baseUrl?: string;
  outDir?: string;
  concurrency?: number;
  temperature?: number;
  maxTokens?: number;
}

export function addModelFlags(command: Command): Command {
  return command
    .option('--model <name>', 'model to use (overrides `model:`)')
    .option('--provider <name>', 'openai | azure | anthropic | ollama | openai-compatible (overrides `provider:`)')
    .option('--base-url <url>', 'server URL for Ollama, llama.cpp, vLLM, LM Studio or a gateway (overrides `baseURL:`)')
    .option('--out-dir <dir>', 'output folder, relative to the spec (overrides `outDir:`)')
    .option('--concurrency <n>', 'files generated at once (overrides `concurrency:`)', number('--concurrency'))
    .option('--temperature <t>', 'sampling temperature (overrides `temperature:`)', number('--temperature'))
    .option('--max-tokens <n>', 'token limit per generation call (overrides `maxTokens:`)', number('--max-tokens'));
}

/** Turns the flags into spec overrides, leaving out what was not given. */
export function overridesFrom(flags: ModelFlags): Record<string, unknown> {
  const overrides: Record<string, unknown> = {};
  if (flags.model !== undefined) overrides.model = flags.model;
  if (flags.provider !== undefined) overrides.provider = flags.provider;
  if (flags.baseUrl !== undefined) overrides.baseURL = flags.baseUrl;
  if (flags.outDir !== undefined) overrides.outDir = flags.outDir;
  if (flags.concurrency !== undefined) overrides.concurrency = flags.concurrency;
  if (flags.temperature !== undefined) overrides.temperature = flags.temperature;
  if (flags.maxTokens !== undefined) overrides.maxTokens = flags.maxTokens;
  return overrides;
}

/** A commander parser for whole numbers above 0. */
export function positiveInt(flag: string): (value: string) => number {
  return (value) => {
    const parsed = Number(value);
    if (!Number.isInteger(parsed) || parsed <= 0)
      throw new InvalidArgumentError(`${flag} takes a whole number above 0 (got "${value}").`);
    return parsed;
  };
}

/** A commander parser for whole numbers from 0. */
export function wholeNumber(flag: string): (value: string) => number {
  return (value) => {
    const parsed = Number(value);
    if (!Number.isInteger(parsed) || parsed < 0)
      throw new InvalidArgumentError(`${flag} takes a whole number, 0 or more (got "${value}").`);
    return parsed;
  };
}

/** A commander parser for a TCP port (0 picks a free one). */
export function portNumber(flag: string): (value: string) => number {
  return (value) => {
    const parsed = Number(value);
    if (!Number.isInteger(parsed) || parsed < 0 || parsed > 65535)
      throw new InvalidArgumentError(`${flag} takes a port number (got "${value}").`);
    return parsed;
  };
}

/** A commander parser for an amount of US dollars (`0.5`, `$2`). */
export function usdAmount(flag: string): (value: string) => number {
  return (value) => {
    const parsed = Number(value.trim().replace(/^\$/, ''));
    if (value.trim() === '' || !Number.isFinite(parsed) || parsed < 0)
      throw new InvalidArgumentError(`${flag} takes an amount of US dollars, such as 0.50 (got "${value}").`);
    return parsed;
  };
}

function number(flag: string): (value: string) => number {
  return (value) => {
    const parsed = Number(value);
    if (value.trim() === '' || !Number.isFinite(parsed))
      throw new InvalidArgumentError(`${flag} takes a number (got "${value}").`);
    return parsed;
  };
}
