import { isSmolError } from '../errors.js';
import type { DoctorCheck } from '../llm/doctor.js';
import { UnsupportedFeatureError } from '../llm/refusals.js';
import type { Provider } from '../llm/types.js';
import { fileListStage, type FileListRoute } from './file-list.js';
import type { FileListSetting } from './stage-call.js';

const ROUTE_WORDS: Record<FileListRoute, string> = {
  tools: 'a forced tool call',
  'json-schema': 'a JSON schema (response_format)',
  text: 'JSON in the text',
};

/**
 * `smol doctor --probe`: one tiny file-list call, exactly as a run makes it (same routes, same
 * fallbacks; one more call per route the server refuses, and one repair at most), to see what works
 * with this server and model before a real run spends anything.
 */
export async function probeFileList(options: {
  provider: Provider;
  model: string;
  fileList: FileListSetting;
  signal?: AbortSignal;
}): Promise<DoctorCheck> {
  const refusals: string[] = [];
  const recording: Provider = {
    name: options.provider.name,
    async complete(request, callOptions) {
      try {
        return await options.provider.complete(request, callOptions);
      } catch (error) {
        if (error instanceof UnsupportedFeatureError)
          refusals.push(`${error.feature === 'tools' ? 'tools' : 'a JSON schema'} (${error.serverMessage})`);
        throw error;
      }
    },
  };
  const started = Date.now();
  try {
    const result = await fileListStage(
      {
        provider: recording,
        model: options.model,
        temperature: 0,
        maxTokens: 400,
        fileList: options.fileList,
        signal: options.signal,
      },
      { globalText: 'A command-line program that prints a greeting.', includes: [], sections: [] },
      '## Global\n\nNode.js, no dependencies.\n\n### `src/main.js`\n\nPrints the greeting from greeting.js.\n\n### `src/greeting.js`\n\nExports greeting().\n',
    );
    const how = `the model listed ${result.value.length} file${result.value.length === 1 ? '' : 's'} through ${ROUTE_WORDS[result.route]}${result.repaired ? ' after one repair request' : ''} in ${((Date.now() - started) / 1000).toFixed(1)}s`;
    const refused = refusals.length === 0 ? '' : `; the server refused ${refusals.join(' and ')}`;
    const shaky = result.repaired || (result.route === 'text' && options.fileList !== 'text');
    return {
      name: 'probe',
      status: shaky ? 'warn' : 'ok',
      message: `${how}${refused}`,
      ...(shaky
        ? {
            hint: 'JSON in the text is the least reliable route with small models: enable tools (llama.cpp `--jinja`) or use a server with JSON schema support, or a larger model.',
          }
        : {}),
    };
  } catch (error) {
    if (!isSmolError(error)) throw error;
    return { name: 'probe', status: 'fail', message: error.message, hint: error.hint };
  }
}
