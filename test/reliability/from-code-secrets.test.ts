import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { collectCodeFiles } from '../../src/library/code-files.js';
import { tempDir } from '../helpers/cli.js';
import { createProject, FAKE_KEY, type TestProject } from '../helpers/project.js';

const PRIVATE_KEY =
  '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ\n-----END OPENSSH PRIVATE KEY-----\n';
const SECRETS = {
  env: 'DATABASE_PASSWORD=hunter2-db-secret',
  envLocal: 'STRIPE=local-env-secret',
  deployKey: 'deploy-key-secret-body',
  pem: 'pem-secret-body',
  ignoredDir: 'ignored-dir-secret',
  log: 'log-line-secret',
  nested: 'nested-ignore-secret',
  parent: 'parent-ignore-secret',
  exclude: 'exclude-secret',
  aws: 'AKIAIOSFODNN7EXAMPLE',
};

let project: TestProject | undefined;
let cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  await project?.close();
  project = undefined;
  for (const cleanup of cleanups) await cleanup();
  cleanups = [];
});

async function put(root: string, files: Record<string, string>): Promise<void> {
  for (const [file, content] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(root, file)), { recursive: true });
    await writeFile(path.join(root, file), content);
  }
}

describe('smol init --from-code sends no secrets', () => {
  it('respects .gitignore (root, parent, nested, negations, .git/info/exclude), skips secret files and lists what it skipped', async () => {
    project = await createProject((request) => {
      if (request.stage !== 'plan') return { status: 400, error: { message: 'unexpected' } };
      return { content: '## Global\n\nA service.\n\n### `src/main.ts`\n\nThe entry point.\n' };
    });
    // The repository is the project folder; the code is in code/.
    await put(project.dir, {
      '.git/HEAD': 'ref: refs/heads/main\n',
      '.git/info/exclude': 'code/scratch.md\n',
      '.gitignore': 'code/local-notes.md\n',
      'code/.gitignore': '.env*\n!.env.example\nsecrets/\n*.log\n!keep.log\n',
      'code/src/.gitignore': 'generated.ts\n',
      'code/src/main.ts': 'console.log("hi");\n',
      'code/src/generated.ts': `export const x = "${SECRETS.nested}";\n`,
      'code/src/config.ts': `export const key = \`${PRIVATE_KEY}\`;\n`,
      'code/src/settings.json': `{ "openai": "${FAKE_KEY}" }\n`,
      'code/src/aws.ts': `const id = "${SECRETS.aws}";\n`,
      'code/.env': `${SECRETS.env}\n`,
      'code/.env.local': `${SECRETS.envLocal}\n`,
      'code/.env.example': 'DATABASE_PASSWORD=\n',
      'code/deploy_key': `${PRIVATE_KEY}${SECRETS.deployKey}\n`,
      'code/certs/server.pem': `${SECRETS.pem}\n`,
      'code/secrets/token.txt': `${SECRETS.ignoredDir}\n`,
      'code/app.log': `${SECRETS.log}\n`,
      'code/keep.log': 'kept\n',
      'code/local-notes.md': `${SECRETS.parent}\n`,
      'code/scratch.md': `${SECRETS.exclude}\n`,
    });
    const init = await project.smol(['init', '--from-code', 'code', '--model', 'test-model']);
    expect(init.code, init.stderr).toBe(0);

    const sent = JSON.stringify(project.server.requests.map((request) => request.body));
    for (const secret of [...Object.values(SECRETS), FAKE_KEY, 'PRIVATE KEY']) expect(sent).not.toContain(secret);
    expect(sent).toContain('console.log(\\"hi\\")');
    expect(sent).toContain('kept');
    const spec = await project.read('prompt.md');
    expect(spec).toContain('## `src/main.ts`');
    expect(spec).toContain('## `keep.log`');
    for (const name of [
      '.env',
      'deploy_key',
      'server.pem',
      'token.txt',
      'app.log',
      'generated.ts',
      'local-notes.md',
      'scratch.md',
      'config.ts',
      'settings.json',
      'aws.ts',
    ]) {
      expect(spec).not.toContain(name);
    }
    // Everything left out is listed with its reason.
    for (const line of [
      'not sent .env: an environment file',
      'not sent .env.local: an environment file',
      'not sent .env.example: an environment file',
      'not sent deploy_key: a private key',
      'not sent certs/server.pem: a key or certificate store',
      'not sent src/config.ts: holds a private key',
      'not sent src/settings.json: holds the value of a credential set in your environment',
      'not sent src/aws.ts: holds what looks like an AWS access key',
      'skipped secrets/: git-ignored',
      'skipped app.log: git-ignored',
      'skipped src/generated.ts: git-ignored',
      'skipped local-notes.md: git-ignored',
      'skipped scratch.md: git-ignored',
    ]) {
      expect(init.stderr).toContain(line);
    }
    expect(init.stderr).toMatch(/\d+ paths not sent to the model \(8 secret, 5 git-ignored/);
  });

  it('never sends a file with a private key, a known credential or a secret name, and accounts for every file (property)', async () => {
    const { dir, cleanup } = await tempDir('smol-code-');
    cleanups.push(cleanup);
    const known = 'sk-known-credential-value-123456';
    const kind = fc.constantFrom('plain', 'private-key', 'known', 'env-name', 'key-name');
    const entry = fc.record({
      name: fc.stringMatching(/^[a-z][a-z0-9_]{0,8}$/),
      kind,
      text: fc.string({ maxLength: 40 }).map((text) => text.replaceAll('\u0000', '').replace(/[\ud800-\udfff]/g, '')),
    });
    let trial = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(entry, { minLength: 1, maxLength: 8, selector: (item) => item.name }),
        async (entries) => {
          const root = path.join(dir, `t${(trial += 1)}`);
          const files: Record<string, string> = {};
          for (const item of entries) {
            const name =
              item.kind === 'env-name'
                ? `.env.${item.name}`
                : item.kind === 'key-name'
                  ? `${item.name}.pem`
                  : `${item.name}.txt`;
            const keyType = ['', 'RSA ', 'EC ', 'ENCRYPTED ', 'OPENSSH '][item.text.length % 5]!;
            const secret =
              item.kind === 'private-key'
                ? `-----BEGIN ${keyType}PRIVATE KEY-----\nAAAA\n`
                : item.kind === 'known'
                  ? known
                  : '';
            files[name] = `${item.text.slice(0, 20)}${secret}${item.text.slice(20)}\n`;
          }
          await put(root, files);
          const result = await collectCodeFiles(root, { knownSecrets: [known] });
          for (const file of result.files) {
            expect(file.content).not.toMatch(/PRIVATE KEY/);
            expect(file.content).not.toContain(known);
            expect(file.path).not.toMatch(/^\.env|\.pem$/);
          }
          const accounted = [
            ...result.files.map((file) => file.path),
            ...result.skipped.map((item) => item.path),
          ].sort();
          expect(accounted).toEqual(Object.keys(files).sort());
        },
      ),
      { numRuns: 100 },
    );
  });
});

describe('smol init: missing folders are user errors with the fix', () => {
  it('a spec path in a folder that does not exist', async () => {
    project = await createProject(() => ({ status: 400, error: { message: 'no calls expected' } }));
    const result = await project.smol(['init', 'specs/app.md']);
    expect(result.code).toBe(2);
    expect(result.stderr).not.toContain('smol hit a bug');
    expect(result.stderr).toContain('specs (the folder for the spec) does not exist; nothing was written.');
    expect(result.stderr).toContain('mkdir -p specs');
  });

  it('--from-code with a folder that does not exist (or is a file), before any model call', async () => {
    project = await createProject(() => ({ status: 400, error: { message: 'no calls expected' } }));
    const missing = await project.smol(['init', 'y.md', '--from-code', 'nope', '--model', 'm']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).not.toContain('smol hit a bug');
    expect(missing.stderr).toContain('nope (the code folder) does not exist; nothing was written.');
    expect(missing.stderr).toContain('--from-code src');
    await project.write('file.txt', 'x\n');
    const file = await project.smol(['init', 'y.md', '--from-code', 'file.txt', '--model', 'm']);
    expect(file.code).toBe(2);
    expect(file.stderr).toContain('file.txt (the code folder) is not a folder');
    expect(project.server.requests).toHaveLength(0);
    expect(await project.readOrUndefined('y.md')).toBeUndefined();
  });
});
