// Bundles the CLI (src/cli/main.ts and everything it imports, packages included) into dist/bundle/, which
// bin/smol.js runs. Part of `npm run build`, after tsc (which still builds dist/ for the library API and
// its types). Why: on Node 20 a command's start-up is mostly resolving, reading and compiling modules
// (`smol status` loaded ~240 files); a bundle is a handful of files, and it drops the code nobody calls
// (zod's 64 locale files among them). `splitting` keeps each command's module, and the SDKs behind it, in
// chunks of their own that load on first use, as the unbundled imports did. No source maps (they would
// point into src/, which is not shipped) and no minifying (a bug's stack trace stays readable).
import { readFile, rm, writeFile } from 'node:fs/promises';
import { build } from 'esbuild';

const root = new URL('..', import.meta.url);
const outdir = new URL('dist/bundle/', root);
/**
 * js-yaml 3 tries `require('esprima')` (280 kB, ~15 ms) as it loads, for the `!!js/function` type of its
 * unsafe schema. smol reads frontmatter through gray-matter's safeLoad engine only, which never uses that
 * type, so the bundle skips the attempt (the type then refuses every value, as it does without esprima).
 */
const withoutEsprima = {
  name: 'without-esprima',
  setup(plugin) {
    plugin.onLoad({ filter: /[\\/]js-yaml[\\/]lib[\\/]js-yaml[\\/]type[\\/]js[\\/]function\.js$/ }, async (args) => ({
      contents: (await readFile(args.path, 'utf8')).replace("_require('esprima')", 'undefined'),
      loader: 'js',
    }));
  },
};

// Chunk names carry content hashes: clear the folder so an old build's chunks are not shipped.
await rm(outdir, { recursive: true, force: true });
const result = await build({
  absWorkingDir: root.pathname,
  entryPoints: { main: 'src/cli/main.ts' },
  outdir: outdir.pathname,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20.19',
  sourcemap: false,
  logLevel: 'warning',
  plugins: [withoutEsprima],
  metafile: process.env.SMOL_BUNDLE_META !== undefined,
  // CommonJS packages (commander, gray-matter, write-file-atomic) call `require` for Node's built-ins and
  // read `__filename`; an ES module has neither, so each output file gets them.
  banner: {
    js: [
      "import { createRequire as __smolCreateRequire } from 'node:module';",
      'const require = __smolCreateRequire(import.meta.url);',
      'const __filename = import.meta.filename;',
      'const __dirname = import.meta.dirname;',
    ].join('\n'),
  },
});
// SMOL_BUNDLE_META=FILE writes esbuild's metafile (which input went into which chunk) for bench work.
if (result.metafile !== undefined) await writeFile(process.env.SMOL_BUNDLE_META, JSON.stringify(result.metafile));
