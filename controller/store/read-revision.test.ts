import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isCourierError } from '../errors.js';
import { commitRevision } from './commit-revision.js';
import type { Store } from './model.js';
import { listNodes, readArtifact, readManifest, readRegistryDocuments } from './read-revision.js';
import { makeArtifact, makeNodeRender, makeTempStore } from './store-fixtures.js';

const DOCUMENTS = {
  'services.json': { photos: { subdomain: 'photos', ip: '10.0.0.5', port: 2283, public: false } },
  'cluster-domain': 'mycloud',
};

describe('reading a revision', () => {
  let store: Store;
  let cleanup: () => Promise<void>;
  let first: string;

  beforeAll(async () => {
    ({ store, cleanup } = await makeTempStore());
    first = (
      await commitRevision(store, {
        documents: DOCUMENTS,
        nodes: [makeNodeRender('vps-1', { 'traefik.yml': 'http: {}\n' }, 'vps'), makeNodeRender('worker-1', { hosts: 'old\n' })],
        trigger: 'one',
      })
    ).revision;
    await commitRevision(store, { documents: {}, nodes: [makeNodeRender('worker-1', { hosts: 'new\n' })], trigger: 'two' });
  });
  afterAll(async () => cleanup());

  it('reads the manifest a node had at a revision', async () => {
    const artifact = makeArtifact('traefik.yml', 'http: {}\n');
    expect(await readManifest(store, first, 'vps-1')).toEqual({
      node: 'vps-1',
      artifacts: [{ name: 'traefik.yml', path: artifact.path, kind: 'file', mode: '0644', oid: artifact.oid }],
    });
    expect(await readManifest(store, 'main', 'vps-1')).toBeUndefined();
    expect(await readManifest(store, 'main', '../registry')).toBeUndefined();
  });

  it('reads artifact content by revision spec', async () => {
    expect(await readArtifact(store, 'main', 'worker-1', 'hosts')).toBe('new\n');
    expect(await readArtifact(store, 'main~1', 'worker-1', 'hosts')).toBe('old\n');
    expect(await readArtifact(store, 'main', 'worker-1', 'traefik.yml')).toBeUndefined();
    expect(await readArtifact(store, 'main', 'worker-1', 'hosts/x')).toBeUndefined();
  });

  it('reads the registry documents back under their document names', async () => {
    expect(await readRegistryDocuments(store, first)).toEqual(DOCUMENTS);
    expect(await readRegistryDocuments(store, 'main')).toEqual({});
  });

  it('lists the nodes of a revision sorted by name', async () => {
    expect(await listNodes(store, first)).toEqual(['vps-1', 'worker-1']);
    expect(await listNodes(store, 'main')).toEqual(['worker-1']);
  });

  it('fails with REVISION_NOT_FOUND for an unknown revision', async () => {
    const error = await readManifest(store, 'main~5', 'worker-1').catch((err: unknown) => err);
    expect(isCourierError(error, 'REVISION_NOT_FOUND')).toBe(true);
  });
});
