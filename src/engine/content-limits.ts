/** What a model may make smol write (design.md 6): text only, within per-file and per-run byte limits. */
export interface ContentLimits {
  maxFileBytes: number;
  maxTotalBytes: number;
}

/**
 * Counts what one run writes against the limits. `admit` returns why a content is refused (nothing is
 * counted then), or undefined when it may be written (its bytes are counted toward the run's total).
 */
export function createContentBudget(limits: ContentLimits): { admit: (content: string) => string | undefined } {
  let totalBytes = 0;
  return {
    admit(content) {
      const problem = contentProblem(content, limits.maxFileBytes);
      if (problem !== undefined) return problem;
      const bytes = Buffer.byteLength(content);
      if (totalBytes + bytes > limits.maxTotalBytes)
        return `the run would write more than maxTotalBytes (${limits.maxTotalBytes})`;
      totalBytes += bytes;
      return undefined;
    },
  };
}

/** Why one content may not be written (binary, not UTF-8, too big), or undefined. */
function contentProblem(content: string, maxFileBytes: number): string | undefined {
  // A code generator has no business writing binary: NUL bytes, or text that did not decode as UTF-8.
  if (content.includes('\u0000')) return 'the answer holds NUL bytes (binary content)';
  if (content.includes('\ufffd')) return 'the answer is not valid UTF-8 (it decoded to U+FFFD replacement characters)';
  const bytes = Buffer.byteLength(content);
  if (bytes > maxFileBytes) return `${bytes} bytes is more than maxFileBytes (${maxFileBytes})`;
  return undefined;
}
