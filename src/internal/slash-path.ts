/**
 * A relative path as people and models write it, in the form smol keys files by: forward slashes, no
 * doubled slashes, no leading `./`. Only the spelling changes; safety checks happen where paths are written.
 */
export function slashPath(path: string): string {
  let normalised = path.replace(/\\/g, '/').replace(/\/{2,}/g, '/');
  while (normalised.startsWith('./')) normalised = normalised.slice(2);
  return normalised;
}
