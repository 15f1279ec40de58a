import path from 'node:path';
import { checkOutputPath } from '../../workspace/safe-path.js';
import { ProtocolError } from './types.js';

/**
 * Where an uploaded file goes inside the task folder. Clients disagree on `relative_path`: the Agent
 * Protocol SDKs treat it as the folder (`python/code/`, `python/code`), AutoGPT as the whole path including
 * the file name (`pkg/b.py` for `b.py`). Both are accepted: a path whose last segment is the file's name
 * is the file itself. Anything that would leave the folder is refused (422).
 */
export function uploadPath(fileName: string, relativePath: string | null): string {
  const name = fileName.trim() === '' ? 'upload' : fileName;
  let joined = name;
  if (relativePath !== null && relativePath !== '') {
    const folderForm = /[\\/]$/.test(relativePath);
    const last = relativePath
      .split(/[\\/]/)
      .filter((segment) => segment !== '')
      .at(-1);
    joined = !folderForm && last === name ? relativePath : `${relativePath.replace(/[\\/]+$/, '')}/${name}`;
  }
  const check = checkOutputPath(joined);
  if (!check.ok) throw new ProtocolError(422, `Refused artifact path ${JSON.stringify(joined)}: ${check.reason}.`);
  return check.path;
}

/**
 * `relative_path` of an artifact smol generated: its folder with a trailing slash (`lib/`), as in the
 * protocol's example (`python/code/`), or null for a file at the top of the task folder.
 */
export function generatedRelativePath(filePath: string): string | null {
  const folder = path.posix.dirname(filePath);
  return folder === '.' ? null : `${folder}/`;
}

/**
 * `Content-Disposition` for a download (RFC 6266): an ASCII `filename` fallback and the real name as
 * `filename*=UTF-8''…` (RFC 8187), so a name like `日本語 ü.txt` neither breaks the header nor is lost.
 */
export function contentDisposition(fileName: string): string {
  const fallback = fileName.replace(/[^\x20-\x7e]|["\\%]/g, '_');
  const encoded = encodeURIComponent(fileName).replace(
    /['()*]/g,
    (character) => `%${character.charCodeAt(0).toString(16).toUpperCase()}`,
  );
  return `attachment; filename="${fallback}"; filename*=UTF-8''${encoded}`;
}
