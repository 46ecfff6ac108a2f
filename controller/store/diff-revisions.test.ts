import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { commitRevision } from './commit-revision.js';
import { diffRevisions } from './diff-revisions.js';
import type { Store } from './model.js';
import { makeNodeRender, makeTempStore } from './store-fixtures.js';

describe('diffRevisions', () => {
  let store: Store;
  let cleanup: () => Promise<void>;
  let first: string;
  let second: string;

  beforeAll(async () => {
    ({ store, cleanup } = await makeTempStore());
    first = (
      await commitRevision(store, {
        documents: { 'cluster-domain': 'mycloud' },
        nodes: [makeNodeRender('vps-1', { 'traefik.yml': 'http:\n  routers: {}\n' }, 'vps'), makeNodeRender('worker-1', { hosts: '10.0.0.5\tphotos.mycloud.local\n' })],
        trigger: 'one',
      })
    ).revision;
    second = (
      await commitRevision(store, {
        documents: { 'cluster-domain': 'homelab' },
        nodes: [makeNodeRender('worker-1', { hosts: '10.0.0.6\tphotos.homelab.local\n' }), makeNodeRender('worker-2', { hosts: 'new\n' })],
        trigger: 'two',
      })
    ).revision;
  });
  afterAll(async () => cleanup());

  it('gives a unified diff of every changed file under nodes/ and registry/, sorted by path', async () => {
    const diffs = await diffRevisions(store, first, second);
    expect(diffs.map((d) => [d.path, d.status])).toEqual([
      ['nodes/vps-1/manifest.json', 'removed'],
      ['nodes/vps-1/traefik.yml', 'removed'],
      ['nodes/worker-1/hosts', 'modified'],
      ['nodes/worker-2/hosts', 'added'],
      ['nodes/worker-2/manifest.json', 'added'],
      ['registry/cluster-domain.json', 'modified'],
    ]);
    const hosts = diffs.find((d) => d.path === 'nodes/worker-1/hosts')!;
    expect(hosts.patch).toContain('--- a/nodes/worker-1/hosts\n+++ b/nodes/worker-1/hosts\n');
    expect(hosts.patch).toContain('-10.0.0.5\tphotos.mycloud.local\n+10.0.0.6\tphotos.homelab.local\n');
    const domain = diffs.find((d) => d.path === 'registry/cluster-domain.json')!;
    expect(domain.patch).toContain('-"mycloud"\n+"homelab"\n');
    const added = diffs.find((d) => d.path === 'nodes/worker-2/hosts')!;
    expect(added.patch).toBe('--- /dev/null\n+++ b/nodes/worker-2/hosts\n@@ -0,0 +1,1 @@\n+new\n');
    const removed = diffs.find((d) => d.path === 'nodes/vps-1/traefik.yml')!;
    expect(removed.patch).toContain('--- a/nodes/vps-1/traefik.yml\n+++ /dev/null\n');
    expect(removed.patch).toContain('-  routers: {}\n');
  });

  it('limits the diff to one node and leaves the registry out when a node is given', async () => {
    const diffs = await diffRevisions(store, first, second, { node: 'worker-1' });
    expect(diffs.map((d) => d.path)).toEqual(['nodes/worker-1/hosts']);
  });

  it('diffs against the empty tree when from is undefined', async () => {
    const diffs = await diffRevisions(store, undefined, first);
    expect(diffs.every((d) => d.status === 'added')).toBe(true);
    expect(diffs.map((d) => d.path)).toContain('registry/cluster-domain.json');
    expect(diffs.find((d) => d.path === 'nodes/worker-1/hosts')!.patch).toContain('+10.0.0.5\tphotos.mycloud.local\n');
  });

  it('returns nothing between a revision and itself or for a node absent from both', async () => {
    expect(await diffRevisions(store, second, 'main')).toEqual([]);
    expect(await diffRevisions(store, first, second, { node: 'nobody' })).toEqual([]);
  });
});
