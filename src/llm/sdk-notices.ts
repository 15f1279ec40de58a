/**
 * What the provider SDKs would print themselves. The Anthropic SDK writes a deprecation warning with
 * `console.warn` on every call to a deprecated model (its `logLevel`/`logger` options do not cover it),
 * which lands in the middle of progress lines, once per file. Calls are made through
 * {@link captureConsoleWarnings}, and what the SDK said reaches the listeners instead (the CLI prints it
 * once, in its own words); with no listener, it is dropped: the library never writes to the console.
 */
export interface SdkNotice {
  sdk: string;
  /** The SDK's own text. */
  message: string;
  /** For a model deprecation: the model and the end-of-life date the SDK gave. */
  deprecation?: { model: string; endOfLife: string } | undefined;
}

const listeners = new Set<(notice: SdkNotice) => void>();

/** Subscribes to SDK notices; returns the unsubscribe function. */
export function onSdkNotice(listener: (notice: SdkNotice) => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/**
 * Runs `call` (synchronous: the SDK warns before its request promise is returned) with `console.warn`
 * captured, then hands what was written to the listeners. Single-threaded JavaScript means nothing else
 * can write in between.
 */
export function captureConsoleWarnings<T>(sdk: string, call: () => T): T {
  const original = console.warn;
  const captured: string[] = [];
  console.warn = (...args: unknown[]) => {
    captured.push(args.map(String).join(' '));
  };
  try {
    return call();
  } finally {
    console.warn = original;
    for (const message of captured) {
      const notice: SdkNotice = { sdk, message, deprecation: deprecationIn(message) };
      for (const listener of listeners) {
        try {
          listener(notice);
        } catch {
          // A listener's failure is its own; the call goes on.
        }
      }
    }
  }
}

/** "The model 'claude-sonnet-4-5' is deprecated and will reach end-of-life on November 30th, 2026…" */
function deprecationIn(message: string): SdkNotice['deprecation'] {
  const match = /model '([^']+)' is deprecated and will reach end-of-life on ([^\n]+?)\.?\s*(?:\n|$)/.exec(message);
  return match === null ? undefined : { model: match[1]!, endOfLife: match[2]! };
}
