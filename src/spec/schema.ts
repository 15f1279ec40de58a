import * as z from 'zod';
import { PROVIDER_NAMES } from '../llm/endpoints.js';

// Providers smol can talk to: the list lives with the providers (llm/endpoints.ts), so the schema and the
// adapters cannot disagree.

/**
 * The spec's frontmatter. Strict at every level: an unknown key is an error, not silently ignored,
 * so a typo (`concurency: 8`) never quietly falls back to a default.
 *
 * Every key has a `.describe()`: the descriptions become the shipped JSON Schema's, which editors
 * show while completing keys.
 */
export const specSettingsSchema = z
  .strictObject({
    model: z
      .string()
      .min(1)
      .optional()
      .describe(
        'Model name, e.g. "gpt-4o", "claude-sonnet-4-5" or "qwen2.5-coder". Required, either here or with --model.',
      ),
    provider: z
      .enum(PROVIDER_NAMES)
      .optional()
      .describe(
        'Which API to call. When absent: `azure.endpoint` or `baseURL` if set, else OPENAI_BASE_URL, else the API keys in the environment (ANTHROPIC_API_KEY first for a "claude-" model, then OPENAI_API_KEY, ANTHROPIC_API_KEY, AZURE_OPENAI_API_KEY with AZURE_OPENAI_ENDPOINT), else a local Ollama if one answers. `smol doctor` shows the choice and why.',
      ),
    baseURL: z
      .url({ protocol: /^https?$/ })
      .optional()
      .describe(
        'http(s) URL of an OpenAI-compatible endpoint (Ollama, llama.cpp, vLLM, LM Studio, a gateway), e.g. "http://127.0.0.1:11434/v1". With `provider: anthropic`, an Anthropic-compatible server root.',
      ),
    azure: z
      .strictObject({
        endpoint: z
          .url({ protocol: /^https?$/ })
          .optional()
          .describe(
            'The Azure OpenAI resource, e.g. "https://my-resource.openai.azure.com". Default: AZURE_OPENAI_ENDPOINT.',
          ),
        deployment: z.string().min(1).optional().describe('The deployment to call. Default: the `model` value.'),
        apiVersion: z
          .string()
          .min(1)
          .optional()
          .describe('The Azure OpenAI API version, e.g. "2024-10-21". Default: OPENAI_API_VERSION, else 2024-10-21.'),
      })
      .optional()
      .describe('Azure OpenAI connection for `provider: azure`; the key comes from AZURE_OPENAI_API_KEY.'),
    outDir: z
      .string()
      .min(1)
      .default('app')
      .describe("Folder the code is written to, relative to the spec file's folder (absolute paths allowed)."),
    concurrency: z.int().min(1).max(64).default(4).describe('How many files are generated at the same time.'),
    temperature: z
      .number()
      .min(0)
      .max(2)
      .default(0)
      .describe('Sampling temperature; 0 gives the most repeatable output.'),
    maxTokens: z
      .int()
      .min(1)
      .max(1_000_000)
      .default(8192)
      .describe('Largest number of tokens one generation call may produce.'),
    callTimeout: z
      .number()
      .positive()
      .max(86_400)
      .optional()
      .describe(
        'Seconds one model call may take in all, retries included; a call still streaming then fails (that file fails). Default 1200 (20 minutes).',
      ),
    fileList: z
      .enum(['auto', 'tools', 'json-schema', 'text'])
      .optional()
      .describe(
        'How the file list is asked for: "tools" = a forced tool call, "json-schema" = a JSON schema the server constrains the answer to (response_format), "text" = JSON in the answer. "auto" = tools for OpenAI, Azure and Anthropic, json-schema for local servers (Ollama, llama.cpp, vLLM, LM Studio); a route the server refuses falls back to the next, text last. Default "auto".',
      ),
    rateLimit: z
      .strictObject({
        rpm: z.int().positive().optional().describe('Requests per minute.'),
        tpm: z.int().positive().optional().describe('Tokens per minute (prompt + completion).'),
      })
      .optional()
      .describe('Client-side rate limit, shared by all calls of one run, e.g. { rpm: 500, tpm: 200000 }.'),
    include: z
      .array(z.string().min(1))
      .default([])
      .describe("More spec files, relative to this spec's folder; their text is added to the spec and watched too."),
    ignore: z
      .array(z.string().min(1))
      .default([])
      .describe(
        'Glob patterns of output paths (relative to outDir) that smol never writes or deletes, e.g. "assets/**".',
      ),
    apply: z
      .enum(['review', 'auto'])
      .default('review')
      .describe(
        'How the daemon applies changes: "review" waits for you, "auto" writes them as soon as they are ready.',
      ),
    context: z
      .enum(['plan', 'full'])
      .default('plan')
      .describe(
        'What each file\'s generation sees: "plan" = the plan, its dependencies\' plan sections and its own spec section, so a spec edit reaches a file only through the plan; "full" = also the whole spec text (any spec edit regenerates every file).',
      ),
    checks: z
      .array(z.string().min(1))
      .default([])
      .describe('Shell commands run in outDir after an apply, e.g. "npm test"; failures feed the fix loop.'),
    fix: z
      .boolean()
      .default(false)
      .describe('When a check fails, ask the model to fix the files it names, then rerun the checks.'),
    maxFixRounds: z.int().min(0).max(10).default(2).describe('Most fix-and-recheck rounds after a failing check.'),
    checkTimeout: z.number().positive().default(300).describe('Seconds a check command may run before it is stopped.'),
    budget: z
      .strictObject({
        usd: z.number().positive().describe('Most US dollars one run may spend.'),
      })
      .optional()
      .describe('Stop before spending more than this in one run, e.g. { usd: 5 }. Needs known or configured prices.'),
    price: z
      .strictObject({
        input: z.number().nonnegative().describe('USD per million prompt tokens.'),
        output: z.number().nonnegative().describe('USD per million completion tokens.'),
      })
      .optional()
      .describe("The model's price in USD per million tokens, for models smol has no price for."),
    maxFiles: z.int().min(1).max(10_000).default(200).describe('Most files one plan may contain.'),
    maxFileBytes: z.int().min(1).default(1_000_000).describe('Largest generated file, in bytes.'),
    maxTotalBytes: z.int().min(1).default(20_000_000).describe('Largest total size of all generated files, in bytes.'),
  })
  .describe('Frontmatter of a smol spec (prompt.md). Command-line flags override these settings.');

/** Validated settings with defaults applied. `model` may still be missing here; `loadSpec` requires it. */
export type SpecSettings = z.output<typeof specSettingsSchema>;
/** Settings as written in the frontmatter or passed as overrides: every key optional. */
export type SpecSettingsInput = z.input<typeof specSettingsSchema>;
/** Top-level frontmatter keys. */
export type SpecSettingsKey = keyof SpecSettingsInput;

/** Every top-level key, in schema order. */
export const specSettingsKeys = Object.keys(specSettingsSchema.shape) as SpecSettingsKey[];
