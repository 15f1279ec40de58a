import * as z from 'zod';

/*
 * The structured content each tool returns, declared as its `outputSchema` (MCP 2025-06-18) so clients
 * can rely on it; the SDK checks every result against it. Objects are loose: the fields listed are
 * promised, more may come.
 */

const pathReason = z.looseObject({ path: z.string(), reason: z.string() });
const pathMessage = z.looseObject({ path: z.string(), message: z.string() });
const usage = z
  .looseObject({ calls: z.number(), inputTokens: z.number(), outputTokens: z.number(), costUsd: z.number() })
  .describe('Calls, tokens and cost of this call');

export const statusOutput = z.looseObject({
  hasLock: z.boolean(),
  specChanged: z
    .boolean()
    .describe('The spec or settings changed since smol.lock: `plan` tells which files that regenerates'),
  settingsChanged: z.boolean(),
  files: z.array(
    z.looseObject({
      path: z.string(),
      disk: z.string().describe('clean, edited, missing, untracked or absent'),
      reasons: z
        .array(z.string())
        .nullable()
        .describe('Why it is stale (empty: up to date; null: unknown until a re-plan)'),
      removed: z.boolean().describe('True when the file left the plan'),
    }),
  ),
});

export const planOutput = z.looseObject({
  plan: z.looseObject({ global: z.string(), sections: z.array(z.looseObject({ path: z.string(), text: z.string() })) }),
  files: z.array(
    z.looseObject({ path: z.string(), regenerate: z.boolean(), reasons: z.array(z.string()), disk: z.string() }),
  ),
  rejected: z.array(pathReason).describe('Paths from the model that were refused'),
});

export const diffOutput = z.looseObject({
  summary: z.string(),
  changes: z.array(
    z.looseObject({ path: z.string(), action: z.string(), reasons: z.array(z.string()), diff: z.string() }),
  ),
  failed: z.array(pathMessage),
  usage,
});

export const applyOutput = z.looseObject({
  applied: z.array(z.string()),
  refused: z.array(pathReason).describe('Changes refused because the file changed since it was staged'),
  pending: z.array(z.string()).describe('Changes left staged (unresolved conflicts, or not among `paths`)'),
});

export const runOutput = z.looseObject({
  written: z.array(z.string()),
  failed: z.array(pathMessage),
  conflicts: z
    .array(z.string())
    .describe('Files left staged because the new generation and a hand edit change the same lines'),
  rejected: z.array(pathReason),
  usage,
});
