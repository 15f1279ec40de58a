import { onSdkNotice, type SdkNotice } from '../llm/sdk-notices.js';
import type { CommandContext } from './program.js';

/**
 * Prints what a provider SDK would have printed on its own (llm/sdk-notices.ts), once per command and in
 * smol's words, as a warning on stderr. Returns the unsubscribe function.
 */
export function reportSdkNotices(context: CommandContext): () => void {
  const seen = new Set<string>();
  return onSdkNotice((notice) => {
    const key = notice.deprecation?.model ?? notice.message;
    if (seen.has(key)) return;
    seen.add(key);
    context.output.warn(describeNotice(notice));
  });
}

function describeNotice(notice: SdkNotice): string {
  if (notice.deprecation !== undefined) {
    const { model, endOfLife } = notice.deprecation;
    const where =
      notice.sdk === 'anthropic' ? ' (https://docs.anthropic.com/en/docs/resources/model-deprecations lists them)' : '';
    return `${model} is deprecated: ${notice.sdk === 'anthropic' ? 'Anthropic' : notice.sdk} retires it on ${endOfLife}. Set \`model:\` to a current model${where}.`;
  }
  return `the ${notice.sdk} SDK says: ${notice.message.split('\n')[0]}`;
}
