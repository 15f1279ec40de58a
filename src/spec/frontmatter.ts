import matter from 'gray-matter';

/** The spec text split into frontmatter and body, with the line bookkeeping messages need. */
export interface SplitSpec {
  /** The parsed YAML (undefined when there is none or it failed to parse). */
  data: unknown;
  /** True when the file starts with a `---` frontmatter block. */
  hasFrontmatter: boolean;
  /** Raw frontmatter lines; `frontmatterLines[i]` is spec-file line `i + 1` (index 0 is the `---` line's tail). */
  frontmatterLines: string[];
  /** Everything after the frontmatter. */
  body: string;
  /** 1-based spec-file line of the body's first line. */
  bodyStartLine: number;
  /** False when a frontmatter block is opened but never closed (the whole file was read as YAML). */
  closed: boolean;
  /** A problem with the frontmatter block itself (YAML syntax, language, unclosed). */
  problem?: { message: string; line: number; received?: string; expected?: string };
}

interface YamlErrorLike {
  reason?: unknown;
  message?: unknown;
  mark?: { line?: unknown };
}

type Engine = { parse: (input: string) => object };

// gray-matter's own YAML engine (js-yaml 3 safeLoad); not in its typings, but part of its documented API.
const yamlEngine = (matter as unknown as { engines: { yaml: Engine } }).engines.yaml;

/**
 * Split and parse a spec with gray-matter.
 *
 * We always pass an options object: gray-matter caches results by input string only when called
 * without options, and a cached result would be shared (and mutated) across calls.
 * We also replace its engines: the YAML engine is wrapped so a syntax error still lets us find the body,
 * and `---js` frontmatter (which gray-matter would `eval`) is refused — a spec is data, never code.
 */
export function splitSpec(input: string): SplitSpec {
  const text = input.startsWith('\uFEFF') ? input.slice(1) : input;
  const hasFrontmatter = text.startsWith('---') && text[3] !== '-';
  const language = hasFrontmatter ? (/^---([^\r\n]*)/.exec(text)?.[1] ?? '').trim() : '';

  // Filled in by the engine below (a holder object, so TypeScript sees the writes from the callback).
  const yaml: { value?: unknown; error?: YamlErrorLike } = {};
  const capture: Engine = {
    parse: (source) => {
      try {
        yaml.value = yamlEngine.parse(source);
      } catch (error) {
        yaml.error = (error ?? {}) as YamlErrorLike;
      }
      return {};
    },
  };
  const refuse: Engine = { parse: () => ({}) };
  const languageOk = language === '' || /^ya?ml$/i.test(language);
  const engines: Record<string, Engine> = { yaml: capture, javascript: refuse };
  if (!languageOk) engines[language] = refuse;

  const file = matter(text, { engines, language: 'yaml' });
  const body = file.content;
  const bodyOffset = text.length - body.length;
  const bodyStartLine = countNewlines(text, bodyOffset) + 1;
  const frontmatterLines = hasFrontmatter ? file.matter.split('\n').map((line) => line.replace(/\r$/, '')) : [];

  const closed = !hasFrontmatter || hasClosingDelimiter(text);
  const result: SplitSpec = { data: yaml.value, hasFrontmatter, frontmatterLines, body, bodyStartLine, closed };
  if (!languageOk) {
    result.data = undefined;
    result.problem = {
      message: 'unsupported frontmatter language; write YAML after a plain `---` line',
      line: 1,
      received: JSON.stringify(language.slice(0, 20)),
      expected: 'YAML',
    };
  } else if (yaml.error !== undefined) {
    const markLine = typeof yaml.error.mark?.line === 'number' ? yaml.error.mark.line : 0;
    // js-yaml counts from 0 within `file.matter`, whose first line is the tail of the opening `---` line.
    const line = Math.min(markLine + 1, Math.max(1, frontmatterLines.length));
    const reason = typeof yaml.error.reason === 'string' ? yaml.error.reason : 'cannot be parsed';
    result.problem = { message: `YAML syntax error: ${reason}`, line };
  } else if (!closed) {
    result.problem = {
      message: 'the frontmatter has no closing `---` line, so the whole file was read as settings; end it with `---`',
      line: 1,
    };
  }
  return result;
}

function countNewlines(text: string, end: number): number {
  let count = 0;
  for (let index = text.indexOf('\n'); index !== -1 && index < end; index = text.indexOf('\n', index + 1)) count += 1;
  return count;
}

function hasClosingDelimiter(text: string): boolean {
  // Same rule as gray-matter: the block ends at the first later line starting with `---`.
  return text.indexOf('\n---', 3) !== -1;
}
