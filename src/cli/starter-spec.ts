/** The documented starter spec `smol init` writes. Every key is listed; optional ones are commented out. */
export const STARTER_SPEC = `---
# smol spec: the frontmatter holds settings, the text below describes the program.
# Every key is documented in the README; editors can complete keys with smol-dev/schema.json.
model: gpt-4o                  # the model to use (required unless --model is given)
# provider: openai             # openai | azure | anthropic | ollama | openai-compatible; auto-detected if absent
# baseURL: http://127.0.0.1:11434/v1   # for Ollama, llama.cpp, vLLM, LM Studio or a gateway
outDir: app                    # output folder, relative to this file
concurrency: 4                 # files generated at once
temperature: 0                 # 0 gives the most repeatable output
maxTokens: 8192                # token limit per generation call; a cut-off answer is never written
# rateLimit: { rpm: 500, tpm: 200000 }
# include: [docs/api.md]       # more spec text, read (and watched) too
# ignore: ["assets/**"]        # output paths smol never writes or deletes
apply: review                  # review | auto: how changes are applied
context: plan                  # plan | full: does each file see only its plan section, or the whole spec?
# checks: ["npm test"]         # commands run in outDir after an apply
# budget: { usd: 5 }           # stop before a run spends more
---
# A to-do list in the terminal

Describe the program here: what it does, for whom, the stack to use, and anything every file must agree on.
For example: a Node.js command-line to-do list written in TypeScript, storing items in a JSON file in the
user's home folder, with \`todo add TEXT\`, \`todo list\` and \`todo done N\`.

## \`src/cli.ts\`
Optional per-file section: a level-2 heading that is exactly one code span holding a path.
Its text is seen by the planner and by this file's generation only.
The entry point parses the arguments and prints friendly errors for unknown commands.
`;
