import * as z from 'zod';
import { splitURL } from './url.js';

/** What a local server says about itself without a completion call, for `smol doctor`. */
export interface ServerInfo {
  kind: 'llama.cpp' | 'ollama' | 'vllm' | 'lm-studio';
  /** Tokens of context one request gets (prompt + answer), when the server says. */
  contextTokens?: number;
  /** Whether the model takes tools: true / false when the server says, undefined when it cannot tell. */
  tools?: boolean;
  /** Why `tools` is what it is, in words. */
  toolsNote?: string;
  /** Whether a JSON schema constrains answers (`response_format: json_schema`). */
  jsonSchema?: boolean;
  /** Version or build, when given. */
  version?: string;
}

const PROBE_TIMEOUT_MS = 2000;

// Everything below comes from a server we do not control: parsed with zod, every field optional.
const llamaProps = z.object({
  default_generation_settings: z.object({ n_ctx: z.number().int().positive().optional() }).partial().optional(),
  chat_template_caps: z
    .object({ supports_tools: z.boolean().optional(), supports_tool_calls: z.boolean().optional() })
    .partial()
    .optional(),
  chat_template_tool_use: z.string().optional(),
  build_info: z.string().optional(),
});
const ollamaShow = z.object({
  capabilities: z.array(z.string()).optional(),
  model_info: z.record(z.string(), z.unknown()).optional(),
  parameters: z.string().optional(),
});
const ollamaVersion = z.object({ version: z.string() });
const lmStudioModels = z.object({
  data: z.array(
    z
      .object({
        id: z.string(),
        max_context_length: z.number().optional(),
        loaded_context_length: z.number().optional(),
        capabilities: z.array(z.string()).optional(),
      })
      .passthrough(),
  ),
});

/**
 * Asks a local server what it is and what it supports, through its own endpoints (never a completion):
 * llama.cpp's `GET /props`, Ollama's `GET /api/version` and `POST /api/show`, LM Studio's
 * `GET /api/v0/models`; vLLM is told by its `/v1/models` entries (`owned_by: vllm`, `max_model_len`).
 * Undefined when none answers (a gateway, or a server of another kind).
 */
export async function describeServer(options: DescribeServerOptions): Promise<ServerInfo | undefined> {
  const vllm = vllmInfo(options.listed, options.model);
  if (vllm !== undefined) return vllm;
  const get = serverGetter(options);
  const props = llamaProps.safeParse(await get('/props'));
  if (props.success && (props.data.default_generation_settings !== undefined || props.data.build_info !== undefined))
    return llamaCppInfo(props.data);
  const version = ollamaVersion.safeParse(await get('/api/version'));
  if (version.success || options.providerName === 'ollama') {
    const body = JSON.stringify({ model: options.model });
    const shown =
      options.model === undefined ? undefined : ollamaShow.safeParse(await get('/api/show', { method: 'POST', body }));
    return ollamaInfo(
      version.success ? version.data.version : undefined,
      shown?.success === true ? shown.data : undefined,
    );
  }
  const studio = lmStudioModels.safeParse(await get('/api/v0/models'));
  if (studio.success) return lmStudioInfo(studio.data.data.find((candidate) => candidate.id === options.model));
  return undefined;
}

export interface DescribeServerOptions {
  providerName: string;
  /** The server's base URL (credentials allowed; they are sent, never shown). */
  url: string;
  model: string | undefined;
  apiKey: string | undefined;
  /** `GET /models` entries as listed, to recognise vLLM. */
  listed: unknown[];
  fetch?: typeof fetch | undefined;
}

/** A JSON GET (or POST) on the server's own endpoints, with its credentials; undefined on any failure. */
function serverGetter(options: DescribeServerOptions): (path: string, init?: RequestInit) => Promise<unknown> {
  const { baseURL, query, authorization } = splitURL(options.url);
  const origin = baseURL.replace(/\/v1$/, '');
  const headers: Record<string, string> = {
    ...(options.apiKey === undefined ? {} : { Authorization: `Bearer ${options.apiKey}` }),
    ...(authorization === undefined ? {} : { Authorization: authorization }),
  };
  const search = query === undefined ? '' : `?${new URLSearchParams(query).toString()}`;
  return async (path, init = {}) => {
    try {
      const response = await (options.fetch ?? fetch)(`${origin}${path}${search}`, {
        ...init,
        headers: { ...headers, ...(init.body === undefined ? {} : { 'content-type': 'application/json' }) },
        signal: AbortSignal.timeout(PROBE_TIMEOUT_MS),
      });
      if (!response.ok) return undefined;
      return (await response.json()) as unknown;
    } catch {
      return undefined;
    }
  };
}

const vllmEntry = z.object({ id: z.string(), owned_by: z.string(), max_model_len: z.number().optional() });
const modelEntry = z.object({ id: z.string(), max_model_len: z.number().optional() });

function vllmInfo(listed: readonly unknown[], model: string | undefined): ServerInfo | undefined {
  const vllm = listed
    .map((entry) => vllmEntry.safeParse(entry))
    .find((parsed) => parsed.success && parsed.data.owned_by === 'vllm');
  if (vllm?.success !== true) return undefined;
  const entry = listed
    .map((item) => modelEntry.safeParse(item))
    .find((parsed) => parsed.success && parsed.data.id === model);
  const contextTokens = entry?.success === true ? entry.data.max_model_len : vllm.data.max_model_len;
  return {
    kind: 'vllm',
    ...(contextTokens === undefined ? {} : { contextTokens }),
    jsonSchema: true,
    toolsNote: 'forced tool calls work; free tool choice needs `--enable-auto-tool-choice --tool-call-parser NAME`',
  };
}

function llamaCppInfo(props: z.infer<typeof llamaProps>): ServerInfo {
  const caps = props.chat_template_caps;
  const tools = caps?.supports_tools ?? caps?.supports_tool_calls;
  return {
    kind: 'llama.cpp',
    ...(props.default_generation_settings?.n_ctx === undefined
      ? {}
      : { contextTokens: props.default_generation_settings.n_ctx }),
    ...(tools === undefined ? {} : { tools }),
    toolsNote:
      tools === false
        ? "the model's chat template has no tool support"
        : props.chat_template_tool_use !== undefined
          ? 'the server runs with `--jinja` and a tool-use template'
          : 'tools work only if the server was started with `--jinja` (it cannot tell here)',
    jsonSchema: true,
    ...(props.build_info === undefined ? {} : { version: props.build_info }),
  };
}

/** Ollama from its version (json schemas since 0.5.0) and what `/api/show` says of the model. */
function ollamaInfo(version: string | undefined, shown: z.infer<typeof ollamaShow> | undefined): ServerInfo {
  const info: ServerInfo = { kind: 'ollama', jsonSchema: version === undefined ? true : atLeast(version, [0, 5, 0]) };
  if (version !== undefined) info.version = version;
  if (shown !== undefined) {
    if (shown.capabilities !== undefined) {
      info.tools = shown.capabilities.includes('tools');
      info.toolsNote = info.tools ? 'the model is tagged "tools"' : 'the model is not tagged "tools"';
    }
    const numCtx = /(?:^|\n)\s*num_ctx\s+(\d+)/.exec(shown.parameters ?? '')?.[1];
    if (numCtx !== undefined) info.contextTokens = Number(numCtx);
  }
  return info;
}

function lmStudioInfo(entry: z.infer<typeof lmStudioModels>['data'][number] | undefined): ServerInfo {
  const info: ServerInfo = { kind: 'lm-studio', jsonSchema: true };
  const contextTokens = entry?.loaded_context_length ?? entry?.max_context_length;
  if (contextTokens !== undefined) info.contextTokens = contextTokens;
  if (entry?.capabilities !== undefined) {
    info.tools = entry.capabilities.includes('tool_use');
    info.toolsNote = info.tools ? 'the model is marked for tool use' : 'the model is not marked for tool use';
  }
  return info;
}

function atLeast(version: string, minimum: [number, number, number]): boolean {
  const parts = version.split(/[.-]/).map((part) => Number.parseInt(part, 10));
  for (let index = 0; index < 3; index += 1) {
    const have = parts[index] ?? 0;
    if (Number.isNaN(have)) return true;
    if (have !== minimum[index]) return have > minimum[index]!;
  }
  return true;
}
