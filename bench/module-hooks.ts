import { appendFileSync } from 'node:fs';

/** Module customization hooks (registered by probe.ts): every ES module loaded, one URL a line. */
let traceFile: string | undefined;

export function initialize(data: { file: string }): void {
  traceFile = data.file;
}

export async function load(
  url: string,
  context: unknown,
  nextLoad: (url: string, context: unknown) => Promise<unknown>,
): Promise<unknown> {
  const result = await nextLoad(url, context);
  if (traceFile !== undefined) appendFileSync(traceFile, `${url}\n`);
  return result;
}
