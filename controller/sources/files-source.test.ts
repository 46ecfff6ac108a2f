import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readFilesSource } from './files-source.js';
import { parseRegistry } from '../registry/parse-registry.js';
import { CourierError, isCourierError } from '../errors.js';
import type { RegistryProblem } from '../registry/model.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const REALISTIC = join(REPO, 'test/fixtures/registry-realistic');

/** The error a promise rejects with (the test fails when it resolves). */
async function rejectionOf(promise: Promise<unknown>): Promise<CourierError> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof CourierError) return err;
    throw err;
  }
  throw new Error('expected a rejection');
}

describe('readFilesSource', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'courier-files-source-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reads every document of a directory with origins relative to the display base', async () => {
    const snapshot = await readFilesSource(REALISTIC, { displayBase: REPO });
    expect(snapshot.trigger).toBe('files: test/fixtures/registry-realistic');
    expect(Object.keys(snapshot.documents).sort()).toEqual(['cluster-domain', 'domains.json', 'registry.json', 'routing.json', 'services.json']);
    expect(snapshot.documents['services.json']).toMatchObject({ name: 'services.json', origin: 'test/fixtures/registry-realistic/services.json', format: 'json' });
    expect(snapshot.documents['cluster-domain']).toMatchObject({ format: 'text', text: 'mycloud\n' });
  });

  it('shows absolute origins for a directory outside the display base', async () => {
    await writeFile(join(dir, 'services.json'), '{}');
    const snapshot = await readFilesSource(dir, { displayBase: REPO });
    expect(snapshot.documents['services.json']?.origin).toBe(join(dir, 'services.json'));
    expect(snapshot.trigger).toBe(`files: ${dir}`);
  });

  it('defaults the display base to the working directory', async () => {
    const snapshot = await readFilesSource(resolve(process.cwd(), 'test/fixtures/registry-realistic'));
    expect(snapshot.documents['routing.json']?.origin).toBe(join('test/fixtures/registry-realistic', 'routing.json'));
  });

  it('returns no documents for an empty directory, and ignores other files', async () => {
    await writeFile(join(dir, 'cluster-domain.txt'), 'ignored');
    await writeFile(join(dir, 'services.json.bak'), '{');
    expect(await readFilesSource(dir)).toMatchObject({ documents: {} });
  });

  it('reads .yaml and .yml twins as YAML', async () => {
    await writeFile(join(dir, 'services.yaml'), 'app:\n  subdomain: app\n  ip: 10.0.0.1\n  port: 80\n');
    await writeFile(join(dir, 'domains.yml'), 'domains:\n  example.com: {}\nvps_nodes: []\n');
    await writeFile(join(dir, 'cluster-domain'), 'lab\n');
    const snapshot = await readFilesSource(dir, { displayBase: dir });
    expect(snapshot.documents['services.json']).toMatchObject({ name: 'services.json', origin: 'services.yaml', format: 'yaml' });
    expect(snapshot.documents['domains.json']).toMatchObject({ origin: 'domains.yml', format: 'yaml' });
    const registry = parseRegistry(snapshot);
    expect(registry.services).toEqual([{ name: 'app', subdomain: 'app', ip: '10.0.0.1', port: 80, public: false }]);
    expect(registry.domains).toEqual(['example.com']);
    expect(registry.clusterDomain).toBe('lab');
  });

  it('rejects a JSON document with a YAML twin as ambiguous', async () => {
    await writeFile(join(dir, 'routing.json'), '{}');
    await writeFile(join(dir, 'routing.yaml'), '{}');
    await writeFile(join(dir, 'registry.yaml'), '{}');
    await writeFile(join(dir, 'registry.yml'), '{}');
    const error = await rejectionOf(readFilesSource(dir, { displayBase: dir }));
    expect(error.code).toBe('REGISTRY_INVALID');
    const problems = error.data.problems as RegistryProblem[];
    expect(problems.map((p) => [p.document, p.origin, p.path])).toEqual([
      ['routing.json', 'routing.json', '$'],
      ['registry.json', 'registry.yaml', '$'],
    ]);
    expect(problems[0]?.message).toBe('is ambiguous: routing.yaml hold the same document; keep only one of them');
  });

  it('rejects a document that is not UTF-8', async () => {
    await writeFile(join(dir, 'services.json'), Buffer.from([0x7b, 0xff, 0x7d]));
    const error = await rejectionOf(readFilesSource(dir, { displayBase: dir }));
    expect(error.code).toBe('REGISTRY_INVALID');
    expect(error.data.problems).toEqual([{ document: 'services.json', origin: 'services.json', path: '$', message: 'is not valid UTF-8; save it as UTF-8 text' }]);
  });

  it('fails with SOURCE_UNAVAILABLE, saying how to fix it, when the directory is missing', async () => {
    const error = await rejectionOf(readFilesSource(join(dir, 'nope'), { displayBase: dir }));
    expect(isCourierError(error, 'SOURCE_UNAVAILABLE')).toBe(true);
    expect(error.retryable).toBe(true);
    expect(error.message).toMatch(/^registry directory nope does not exist; create it .* or set source\.path in courier\.yaml$/);
  });

  it('fails with SOURCE_UNAVAILABLE when the path is a file', async () => {
    await writeFile(join(dir, 'file'), '');
    const error = await rejectionOf(readFilesSource(join(dir, 'file'), { displayBase: dir }));
    expect(error.code).toBe('SOURCE_UNAVAILABLE');
    expect(error.message).toMatch(/is not a directory/);
  });

  it('fails with SOURCE_UNAVAILABLE when a document is a directory', async () => {
    await mkdir(join(dir, 'services.json'));
    const error = await rejectionOf(readFilesSource(dir, { displayBase: dir }));
    expect(error.code).toBe('SOURCE_UNAVAILABLE');
    expect(error.message).toBe('services.json cannot be read (EISDIR): it is a directory, not a file');
  });
});
