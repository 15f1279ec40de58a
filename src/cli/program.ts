import { Command } from 'commander';
import { DEFAULT_DEBUG_CONTEXT_TOKENS } from '../debug/defaults.js';
import type { CliIO, Output } from './io.js';
import { addModelFlags, portNumber, positiveInt, wholeNumber, usdAmount } from './options.js';

/**
 * What every command's action gets: the process edges and the output, never `process` itself. The global
 * options (`-C`, `--quiet`, `--no-color`) replace `io` and `output` before the action runs.
 */
export interface CommandContext {
  io: CliIO;
  output: Output;
  version: string;
}

const EXIT_CODES = `
SPEC is a spec file or a folder holding prompt.md; without it, smol looks for prompt.md here and in the
folders above, up to the repository root.

Exit codes:
  0    success
  1    the run failed (a file failed or conflicts, a provider error, \`smol check\` found drift)
  2    bad usage or a bad spec
  130  cancelled (Ctrl+C)`;

/**
 * Every command, its arguments and options: all `--help` needs. A command's module is imported only when
 * that command runs, so `--version` and `--help` load commander and this file, not the engine or the SDKs.
 */
export function buildProgram(context: CommandContext, setExit: (code: number) => void): Command {
  const done = (code: number | undefined): void => setExit(code ?? 0);
  const program = rootCommand(context);
  addGenerationCommands(program, context, done);
  addStagingCommands(program, context, done);
  addServiceCommands(program, context, done);
  for (const command of program.commands) command.exitOverride().addHelpText('after', EXIT_CODES);
  return program;
}

/** Sets a command's exit code from what its action returned. */
type Done = (code: number | undefined) => void;

/** `smol` itself: its description, version, global options and how it writes help and errors. */
function rootCommand(context: CommandContext): Command {
  const program: Command = new Command('smol')
    .description('Turn a Markdown spec into a codebase, and keep the codebase in step as you edit the spec.')
    .version(context.version, '-v, --version', 'print the version')
    .option('-C <dir>', 'run as if smol was started in DIR (the spec is looked for from there)')
    .option('-q, --quiet', 'print only errors, warnings and results (no progress, summaries or notes)')
    .option('--no-color', 'never colour the output (NO_COLOR=1 does the same)')
    .showHelpAfterError('(run with --help for usage)')
    .addHelpText('after', EXIT_CODES)
    .configureOutput({
      writeOut: (text) => context.io.stdout.write(text),
      writeErr: (text) => context.io.stderr.write(text),
      outputError: (text, write) => write(context.output.colors.red(text)),
    })
    .hook(
      'preAction',
      async (): Promise<void> => (await import('./global-options.js')).applyGlobalOptions(context, program.opts()),
    )
    .exitOverride();
  return program;
}

/** Commands that plan and generate: init, run, plan, status, check, regen. */
// A flat declarative table (commander declarations, each action a lazy import): long, and left whole.
function addGenerationCommands(program: Command, context: CommandContext, done: Done): void {
  addModelFlags(
    program
      .command('init [spec]')
      .description(
        'write a documented starter prompt.md (or, with --from-code, one that describes existing code) and git-ignore .smol/',
      )
      .option('--force', 'overwrite an existing spec file')
      .option(
        '--from-code <dir>',
        'describe the code in DIR as a spec (needs --model) and record it as the current base in smol.lock',
      ),
  ).action(async (spec, flags) => done(await (await import('./commands/init.js')).initCommand(context, spec, flags)));

  addModelFlags(
    program
      .command('run [spec]')
      .description(
        'plan the spec, generate what is stale, review and write it (default spec: prompt.md here or in a folder above)',
      )
      .option('-y, --yes', 'write the changes without asking')
      .option('--all', 'regenerate every file, whatever its state (also rebuilds a damaged smol.lock)')
      .option(
        '--max-calls <n>',
        'refuse, before any generation call, to make more than N of them',
        positiveInt('--max-calls'),
      )
      .option(
        '--max-cost <usd>',
        'refuse, before any generation call, when the estimated cost is above USD',
        usdAmount('--max-cost'),
      )
      .option('--json', 'print NDJSON events on stdout, nothing else'),
  ).action(async (spec, flags) => done(await (await import('./commands/run.js')).runCommand(context, spec, flags)));

  addModelFlags(
    program
      .command('plan [spec]')
      .description('print the plan and, for every file, whether it would be regenerated and why (planning calls only)')
      .option('--json', 'print the result as JSON on stdout'),
  ).action(async (spec, flags) => done(await (await import('./commands/plan.js')).planCommand(context, spec, flags)));

  addModelFlags(
    program
      .command('status [spec]')
      .description('show each file as clean / edited / missing / stale, without any model call')
      .option('--json', 'print the result as JSON on stdout'),
  ).action(async (spec, flags) =>
    done(await (await import('./commands/status.js')).statusCommand(context, spec, flags)),
  );

  addModelFlags(
    program
      .command('check [spec]')
      .description(
        'exit 1 when the spec or settings changed since smol.lock or outputs drifted from it (for CI; no model call)',
      )
      .option('--json', 'print the result as JSON on stdout'),
  ).action(async (spec, flags) =>
    done(await (await import('./commands/status.js')).checkCommand(context, spec, flags)),
  );

  addModelFlags(
    program
      .command('regen <paths...>')
      .description(
        'regenerate these output files whatever their state (recreates files deleted by hand; hand edits are merged)',
      )
      .option(
        '--spec <file>',
        'the spec file, or a folder holding prompt.md (default: prompt.md here or in a folder above)',
      )
      .option('-y, --yes', 'write the changes without asking')
      .option('--json', 'print NDJSON events on stdout, nothing else'),
  ).action(async (paths, flags) =>
    done(await (await import('./commands/regen.js')).regenCommand(context, paths, flags)),
  );
}

/** Commands on what is staged and applied, with no model call: diff, apply, undo, redo, accept, gc. */
// A flat declarative table (commander declarations, each action a lazy import): long, and left whole.
function addStagingCommands(program: Command, context: CommandContext, done: Done): void {
  addModelFlags(
    program
      .command('diff [spec]')
      .description(
        'show the staged changes as unified diffs (no model call); when generation is needed, say what it costs and generate on request. Writes nothing in outDir',
      )
      .option('-g, --generate', 'generate what is stale into the staging area without asking (model calls)')
      .option('--no-pager', 'print long diffs instead of showing them through $PAGER on a terminal')
      .option('--json', 'print the changes (with their diffs) as JSON on stdout'),
  ).action(async (spec, flags) => done(await (await import('./commands/review.js')).diffCommand(context, spec, flags)));

  addModelFlags(
    program
      .command('apply [spec]')
      .description('apply what `smol diff` or `smol run` staged, with no model call; resolve conflicts')
      .option('-y, --yes', 'apply every staged change without asking')
      .option('--theirs <path>', 'resolve a conflict by taking the new generation (repeatable)', repeat)
      .option('--ours <path>', 'resolve a conflict by keeping your version (repeatable)', repeat)
      .option('--markers <path>', 'resolve a conflict by writing both with conflict markers (repeatable)', repeat)
      .option('--json', 'print the result as JSON on stdout'),
  ).action(async (spec, flags) =>
    done(await (await import('./commands/review.js')).applyCommand(context, spec, flags)),
  );

  addModelFlags(
    program
      .command('undo [spec]')
      .description(
        'revert the latest apply not yet undone (again for the one before); refuses, naming them, if files were edited since',
      )
      .option('--list', 'show the history of applies, newest first')
      .option('--json', 'print the result as JSON on stdout'),
  ).action(async (spec, flags) => done(await (await import('./commands/review.js')).undoCommand(context, spec, flags)));

  addModelFlags(
    program
      .command('redo [spec]')
      .description('re-apply what `smol undo` last reverted (when nothing was applied since)')
      .option('--json', 'print the result as JSON on stdout'),
  ).action(async (spec, flags) => done(await (await import('./commands/review.js')).redoCommand(context, spec, flags)));

  addModelFlags(
    program
      .command('accept <paths...>')
      .description(
        'record these hand-edited files as your accepted versions (`smol check` passes); the edits stay yours and are merged into later regenerations',
      )
      .option('--spec <file>', 'the spec file (default: ./prompt.md)')
      .option('--json', 'print the result as JSON on stdout'),
  ).action(async (paths, flags) =>
    done(await (await import('./commands/review.js')).acceptCommand(context, paths, flags)),
  );

  addModelFlags(
    program
      .command('gc [spec]')
      .description('shrink .smol/ to what undo, redo, merges and the recent response cache need (no model call)')
      .option(
        '--cache-days <n>',
        'keep cached answers from the last N days (0 empties the cache)',
        wholeNumber('--cache-days'),
        30,
      )
      .option('--json', 'print the result as JSON on stdout'),
  ).action(async (spec, flags) => done(await (await import('./commands/gc.js')).gcCommand(context, spec, flags)));
}

/** `--allow-models a,b --allow-models c`: every non-empty item. */
function list(value: string, previous: string[] = []): string[] {
  return [
    ...previous,
    ...value
      .split(',')
      .map((item) => item.trim())
      .filter((item) => item !== ''),
  ];
}

/** `--cors a --cors b`, `--theirs a --theirs b`: every value. */
function repeat(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** Long-running and diagnostic commands: watch, debug, serve, mcp, doctor. */
// A flat declarative table (commander declarations, each action a lazy import): long, and left whole.
function addServiceCommands(program: Command, context: CommandContext, done: Done): void {
  addModelFlags(
    program
      .command('watch [spec]')
      .description(
        'daemon: every save of the spec (or an include) plans, regenerates what changed and shows the result',
      )
      .option('--no-pager', 'print long diffs (key d, s in a review) instead of piping them to $PAGER')
      .option('--json', 'print NDJSON events on stdout, nothing else'),
  ).action(async (spec, flags) => done(await (await import('./commands/watch.js')).watchCommand(context, spec, flags)));

  addModelFlags(
    program
      .command('debug [spec]')
      .description(
        'send an error (stdin, --error-file, --run or --checks) with the relevant files; review and apply the fixes',
      )
      .option('--error-file <file>', 'read the error from this file')
      .option('--run <command>', 'run this command in outDir; if it fails, its output is the error')
      .option('--checks', "run the spec's `checks` as the error source (with `fix: true`: up to maxFixRounds rounds)")
      .option('-y, --yes', 'apply the fixes without asking')
      .option(
        '--max-context-tokens <n>',
        `token budget for the error and the files sent (default ${DEFAULT_DEBUG_CONTEXT_TOKENS})`,
        positiveInt('--max-context-tokens'),
      )
      .option('--json', 'print the result as JSON on stdout'),
  ).action(async (spec, flags) => done(await (await import('./commands/debug.js')).debugCommand(context, spec, flags)));

  addModelFlags(
    program
      .command('serve')
      .description(
        'serve the Agent Protocol v1 (/ap/v1/agent/tasks): a task is a prompt, each step runs the next stage',
      )
      .option(
        '--host <host>',
        'address to bind; anything but loopback exposes it to the network and needs --token',
        '127.0.0.1',
      )
      .option('--port <port>', 'port (0 picks a free one)', portNumber('--port'), 8000)
      .option('--token <token>', 'require `Authorization: Bearer <token>` on every request (default: SMOL_SERVE_TOKEN)')
      .option('--workspace <dir>', "folder for the tasks' files, one subfolder per task", 'smol-workspace')
      .option(
        '--allow-models <names>',
        'models a client may choose besides --model (comma-separated; `*` matches anything)',
        list,
      )
      .option(
        '--allow-host <names>',
        "more names the Host header may carry, e.g. a proxy's (comma-separated; `*` accepts any)",
        list,
      )
      .option('--cors <origin>', 'let a web page at this origin call the server (repeatable)', repeat),
  ).action(async (flags) => done(await (await import('./commands/serve.js')).serveCommand(context, flags)));

  addModelFlags(
    program
      .command('mcp [spec]')
      .description(
        'serve the Model Context Protocol over stdio (tools: status, plan, diff, apply, run on one spec); logs go to stderr',
      ),
  ).action(async (spec, flags) => done(await (await import('./commands/mcp.js')).mcpCommand(context, spec, flags)));

  addModelFlags(
    program
      .command('doctor [spec]')
      .description(
        'check the provider, key, server and model a run would use, and say what is missing (no spec file needed)',
      )
      .option('--json', 'print the report as JSON on stdout')
      .option(
        '--probe',
        'also make one tiny model call: ask for a file list the way a run does (tools / JSON schema / text)',
      ),
  ).action(async (spec, flags) =>
    done(await (await import('./commands/doctor.js')).doctorCommand(context, spec, flags)),
  );
}
