import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { ScriptedApp } from '../../test/helpers/scripted-model.js';
import { modulePath, specText } from '../app.js';
import { figure, type Figure, type Scenario } from '../figure.js';
import { startBenchServer } from '../model-server.js';
import { createBenchProject, runSmol } from '../smol-process.js';

const LINES = 200;

/** A file of `LINES` distinct lines (a diff's context then looks like real code's). */
function fileText(index: number): string {
  return Array.from(
    { length: LINES },
    (_, line) => `export const value${index}_${line} = ${line * 7}; // generated line ${line + 1} of module ${index}\n`,
  ).join('');
}

/** Hand edits, each to a file of its own. */
const EDITS: { label: string; edit: (lines: string[]) => string[] }[] = [
  {
    label: 'a 200-line file, 3 adjacent lines changed',
    edit: (lines) => lines.map((line, index) => (index >= 100 && index < 103 ? `// hand edit: ${line}` : line)),
  },
  {
    label: 'a 200-line file, 3 lines changed far apart',
    edit: (lines) =>
      lines.map((line, index) => (index === 20 || index === 100 || index === 180 ? `// hand edit: ${line}` : line)),
  },
  {
    label: 'a 200-line file, 3 lines added at the end',
    edit: (lines) => [...lines, '// hand edit 1\n', '// hand edit 2\n', '// hand edit 3\n'],
  },
  {
    label: 'a 200-line file, 1 line changed',
    edit: (lines) => lines.map((line, index) => (index === 100 ? `// hand edit: ${line}` : line)),
  },
];

/**
 * 9. What a hand edit costs in the repository (issue 20): `smol.edits.patch`, committed next to the lock,
 * holds a unified diff per hand-edited file (with the hashes of the generation and of the edit), from which
 * a fresh clone rebuilds the merge base. Each edit below is made to a file of its own and recorded by
 * `smol status`; the figure is how much the patch file grew, against the size of the file itself (what
 * committing the whole generation would cost).
 */
export const editsSize: Scenario = async (context) => {
  const files: ScriptedApp['files'] = {};
  for (const index of EDITS.keys())
    files[modulePath(index)] = {
      purpose: `module ${index}`,
      section: `Exports module ${index}.`,
      content: fileText(index),
    };
  const app: ScriptedApp = { files };
  const server = await startBenchServer({ app: () => app, latency: { ttftMs: 0, tokensPerSecond: 1e9 } });
  const project = await createBenchProject();
  const figures: Figure[] = [];
  try {
    await project.writeSpec(specText({ baseURL: server.url, concurrency: 4 }));
    await runSmol(context.bin, ['run', '--yes', '--json'], project.dir);
    const patchFile = path.join(project.dir, 'smol.edits.patch');
    const sizeNow = async (): Promise<number> => (await readFile(patchFile).catch(() => Buffer.alloc(0))).length;
    let before = 0;
    let header = 0;
    for (const [index, { label, edit }] of EDITS.entries()) {
      const file = path.join(project.dir, 'app', modulePath(index));
      const text = await readFile(file, 'utf8');
      await writeFile(file, edit(text.split(/(?<=\n)/)).join(''));
      await runSmol(context.bin, ['status', '--json'], project.dir);
      const after = await sizeNow();
      if (index === 0) {
        // The file's two comment lines and a blank line are paid once, whatever the number of entries.
        const patch = await readFile(patchFile, 'utf8');
        header = patch.indexOf('Index: ');
      }
      const bytes = after - before - (index === 0 ? header : 0);
      figures.push(
        figure(
          'edits',
          `smol.edits.patch: bytes committed for ${label} (the file: ${Buffer.byteLength(text).toLocaleString('en-US')} bytes)`,
          bytes,
          'bytes',
        ),
      );
      before = after;
    }
    figures.push(figure('edits', 'smol.edits.patch: its header, paid once', header, 'bytes'));
  } finally {
    await project.close();
    await server.close();
  }
  return figures;
};
