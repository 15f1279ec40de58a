/**
 * A base URL may carry credentials: user info (`https://bob:pw@host/v1`) or query values
 * (`?token=...`, `?key=...`). They are shown nowhere: not in messages, doctor's lines, events or the
 * response-cache key (issue 13.14).
 */
export function redactURL(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    // Not a URL: hide anything between `//` and `@`, and every query value.
    return value.replace(/\/\/[^/@]*@/, '//***@').replace(/([?&][^=&#]*=)[^&#]*/g, '$1***');
  }
  if (url.username === '' && url.password === '' && url.search === '') return value;
  if (url.username !== '' || url.password !== '') {
    url.username = '***';
    url.password = '';
  }
  const query = [...url.searchParams.keys()].map((key) => `${encodeURIComponent(key)}=***`).join('&');
  url.search = '';
  const base = url.toString().replace(/\/+$/, '');
  return query === '' ? base : `${base}?${query}`;
}

/**
 * What the SDKs need from a base URL with credentials in it. fetch refuses URLs with user info, and the
 * SDKs append paths after any query string, so: the URL without either, the query as parameters for
 * every request, and user info as a Basic `Authorization` header (as curl would send it).
 */
export function splitURL(value: string): {
  baseURL: string;
  query: Record<string, string> | undefined;
  authorization: string | undefined;
} {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return { baseURL: value, query: undefined, authorization: undefined };
  }
  const authorization =
    url.username === '' && url.password === ''
      ? undefined
      : `Basic ${Buffer.from(`${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`).toString('base64')}`;
  const query = url.search === '' ? undefined : Object.fromEntries(url.searchParams);
  url.username = '';
  url.password = '';
  url.search = '';
  url.hash = '';
  return { baseURL: url.toString().replace(/\/+$/, ''), query, authorization };
}
