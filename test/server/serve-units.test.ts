import { validateHeaderValue } from 'node:http';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { contentDisposition, generatedRelativePath, uploadPath } from '../../src/server/agent-protocol/artifacts.js';
import { CLIENT_SETTINGS, clientSettings } from '../../src/server/agent-protocol/client-settings.js';
import { authorized } from '../../src/server/agent-protocol/http.js';
import { matchRoute, type Route } from '../../src/server/agent-protocol/router.js';
import { ProtocolError } from '../../src/server/agent-protocol/types.js';
import { checkOutputPath } from '../../src/workspace/safe-path.js';

const segment = fc
  .stringMatching(/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,11}$/)
  .filter((value) => value !== '.' && value !== '..');
const hostile = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.constantFrom('..', '../x', '/etc', 'C:\\', '.git/x', '.smol/y', 'a/../../b', '\u0000', '~'),
);

describe('artifacts', () => {
  it('Content-Disposition is a valid header for any name and decodes back to it', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', minLength: 1, maxLength: 40 }), (name) => {
        const header = contentDisposition(name);
        expect(() => validateHeaderValue('content-disposition', header)).not.toThrow();
        const fallback = /filename="([^"]*)"/.exec(header)![1]!;
        expect(fallback).toMatch(/^[\x20-\x7e]*$/);
        expect(decodeURIComponent(/filename\*=UTF-8''(\S+)$/.exec(header)![1]!)).toBe(name);
      }),
    );
  });

  it('an upload path is a safe relative path or a 422, for any name and relative_path', () => {
    fc.assert(
      fc.property(
        fc.oneof(segment, hostile),
        fc.option(
          fc.oneof(
            segment,
            hostile,
            fc.array(segment, { maxLength: 3 }).map((parts) => parts.join('/')),
          ),
          { nil: null },
        ),
        (name, relativePath) => {
          let stored: string | undefined;
          try {
            stored = uploadPath(name, relativePath);
          } catch (error) {
            expect(error).toBeInstanceOf(ProtocolError);
            expect((error as ProtocolError).status).toBe(422);
            return;
          }
          expect(checkOutputPath(stored)).toEqual({ ok: true, path: stored });
        },
      ),
    );
  });

  it('takes relative_path as a folder or as the whole path (AutoGPT), never doubling the name', () => {
    fc.assert(
      fc.property(fc.array(segment, { minLength: 1, maxLength: 3 }), segment, (folders, name) => {
        const folder = folders.join('/');
        fc.pre(folders.at(-1) !== name);
        expect(uploadPath(name, `${folder}/`)).toBe(`${folder}/${name}`);
        expect(uploadPath(name, folder)).toBe(`${folder}/${name}`);
        expect(uploadPath(name, `${folder}/${name}`)).toBe(`${folder}/${name}`);
        expect(uploadPath(name, null)).toBe(name);
        expect(generatedRelativePath(`${folder}/${name}`)).toBe(`${folder}/`);
        expect(generatedRelativePath(name)).toBeNull();
      }),
    );
  });
});

describe('routing table', () => {
  const routes: Route<string>[] = [
    { method: 'GET', pattern: '/t', handler: 'list' },
    { method: 'POST', pattern: '/t', handler: 'create' },
    { method: 'GET', pattern: '/t/:id', handler: 'get' },
  ];

  it('matches by segments (trailing and doubled slashes ignored), answers HEAD with GET, and lists Allow for 405', () => {
    expect(matchRoute(routes, 'GET', '/t/')).toEqual({ kind: 'found', handler: 'list', params: {} });
    expect(matchRoute(routes, 'HEAD', '//t//a%20b')).toEqual({ kind: 'found', handler: 'get', params: { id: 'a b' } });
    expect(matchRoute(routes, 'DELETE', '/t')).toEqual({
      kind: 'method-not-allowed',
      allow: ['GET', 'POST', 'HEAD', 'OPTIONS'],
    });
    expect(matchRoute(routes, 'POST', '/t/x')).toEqual({
      kind: 'method-not-allowed',
      allow: ['GET', 'HEAD', 'OPTIONS'],
    });
    expect(matchRoute(routes, 'GET', '/t/%E0%A4%A')).toEqual({ kind: 'not-found' });
    expect(matchRoute(routes, 'GET', '/t/x/y')).toEqual({ kind: 'not-found' });
  });
});

describe('client settings', () => {
  const policy = {
    operator: { model: 'op-model', provider: 'openai' as const, maxTokens: 2000 },
    allowModels: ['mini-*'],
  };

  it('returns only keys a client may set, whatever it sends, or refuses with 422', () => {
    fc.assert(
      fc.property(
        fc.dictionary(
          fc.oneof(
            fc.constantFrom(
              'model',
              'provider',
              'baseURL',
              'include',
              'temperature',
              'maxTokens',
              'context',
              'outDir',
              'checks',
              'test_run_id',
            ),
          ),
          fc.jsonValue({ maxDepth: 1 }),
        ),
        (additional) => {
          let settings: Record<string, unknown>;
          try {
            settings = clientSettings(policy, additional, null);
          } catch (error) {
            expect((error as ProtocolError).status).toBe(422);
            return;
          }
          for (const key of Object.keys(settings)) expect(CLIENT_SETTINGS).toContain(key);
        },
      ),
    );
  });

  it('lets additional_input win over the frontmatter and keeps metadata out', () => {
    expect(
      clientSettings(
        policy,
        { model: 'mini-2', test_run_id: 'x' },
        '---\nmodel: op-model\ntemperature: 0.3\n---\nText',
      ),
    ).toEqual({ model: 'mini-2', temperature: 0.3 });
  });
});

describe('bearer token', () => {
  const request = (authorization: string | undefined) =>
    ({ headers: authorization === undefined ? {} : { authorization } }) as never;
  it('compares the token exactly and the scheme in any case', () => {
    fc.assert(
      fc.property(
        fc.stringMatching(/^[\x21-\x7e]{1,30}$/),
        fc.stringMatching(/^[\x21-\x7e]{1,30}$/),
        fc.constantFrom('Bearer', 'bearer', 'BEARER', 'bEaReR'),
        (token, other, scheme) => {
          expect(authorized(request(`${scheme} ${token}`), token)).toBe(true);
          expect(authorized(request(`${scheme} ${other}`), token)).toBe(other === token);
          expect(authorized(request(token), token)).toBe(false);
          expect(authorized(request(undefined), token)).toBe(false);
        },
      ),
    );
  });
});
