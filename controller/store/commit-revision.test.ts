import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isCourierError } from '../errors.js';
import { commitRevision } from './commit-revision.js';
import type { Store } from './model.js';
import { openStore } from './open-store.js';
import { gitHashObject, makeArtifact, makeNodeRender, makeTempStore, runGit } from './store-fixtures.js';

const HOSTS_V1 = '10.0.0.5\tphotos.mycloud.local\n';
const HOSTS_V2 = '10.0.0.5\tphotos.mycloud.local\n10.0.0.6\tgrafana.mycloud.local\n';
const TRAEFIK = 'http:\n  routers: {}\n';
const DOCUMENTS = {
  'services.json': { photos: { subdomain: 'photos', ip: '10.0.0.5', port: 2283, public: false } },
  'cluster-domain': 'mycloud',
};
const NOW = new Date('2024-05-01T12:00:00Z');

function fleet(hosts = HOSTS_V1) {
  return [makeNodeRender('laptop-1', { hosts }, 'laptop'), makeNodeRender('vps-1', { 'traefik.yml': TRAEFIK }, 'vps'), makeNodeRender('worker-1', { hosts })];
}

describe('commitRevision', () => {
  let store: Store;
  let cleanup: () => Promise<void>;
  beforeEach(async () => ({ store, cleanup } = await makeTempStore()));
  afterEach(async () => cleanup());

  it('writes the first revision so that stock git reads it and fsck --strict is clean', async () => {
    const result = await commitRevision(store, { documents: DOCUMENTS, nodes: fleet(), trigger: 'initial import', now: NOW });

    expect(result.committed).toBe(true);
    expect(result.parent).toBeUndefined();
    expect(result.changes.map((c) => [c.node, c.status])).toEqual([
      ['laptop-1', 'added'],
      ['vps-1', 'added'],
      ['worker-1', 'added'],
    ]);
    expect(runGit(store, 'rev-parse', 'main').trim()).toBe(result.revision);
    expect(runGit(store, 'show', 'main:nodes/worker-1/hosts')).toBe(HOSTS_V1);
    expect(runGit(store, 'show', 'main:registry/cluster-domain.json')).toBe('"mycloud"\n');
    expect(JSON.parse(runGit(store, 'show', 'main:registry/services.json'))).toEqual(DOCUMENTS['services.json']);
    expect(runGit(store, 'ls-tree', '-r', '--name-only', 'main').trim().split('\n')).toEqual([
      'nodes/laptop-1/hosts',
      'nodes/laptop-1/manifest.json',
      'nodes/vps-1/manifest.json',
      'nodes/vps-1/traefik.yml',
      'nodes/worker-1/hosts',
      'nodes/worker-1/manifest.json',
      'registry/cluster-domain.json',
      'registry/services.json',
    ]);
    const stat = runGit(store, 'log', '--stat');
    expect(stat).toContain('nodes/vps-1/traefik.yml');
    expect(stat).toContain('Author: courier <courier@localhost>');
    const raw = runGit(store, 'cat-file', '-p', result.revision);
    expect(raw).toContain('author courier <courier@localhost> 1714564800 +0000');
    expect(raw).toContain('committer courier <courier@localhost> 1714564800 +0000');
    expect(raw).not.toMatch(/^parent /m);
    expect(runGit(store, 'fsck', '--strict', '--no-dangling')).toBe('');
  });

  it('writes the manifest as 2-space JSON with a trailing newline: name, path, kind and mode of each artifact', async () => {
    await commitRevision(store, { documents: DOCUMENTS, nodes: fleet(), trigger: 'initial import', now: NOW });
    const text = runGit(store, 'show', 'main:nodes/vps-1/manifest.json');
    const artifact = makeArtifact('traefik.yml', TRAEFIK);
    expect(text).toBe(`${JSON.stringify({ artifacts: [{ name: 'traefik.yml', path: artifact.path, kind: 'file', mode: '0644' }] }, null, 2)}\n`);
  });

  it('lets nodes with the same artifacts share one subtree (content-addressed: 1,000 laptops cost a few objects)', async () => {
    const nodes = Array.from({ length: 50 }, (_, i) => makeNodeRender(`laptop-${i}`, { hosts: HOSTS_V1 }, 'laptop'));
    await commitRevision(store, { documents: DOCUMENTS, nodes, trigger: 'many laptops', now: NOW });
    const trees = new Set(nodes.map((n) => runGit(store, 'rev-parse', `main:nodes/${n.node.name}`).trim()));
    expect(trees.size).toBe(1);
    const objects = runGit(store, 'count-objects', '-v').match(/^count: (\d+)$/m)![1];
    // registry blobs and tree, one hosts blob, one manifest blob, one node tree, nodes/, root, commit
    expect(Number(objects)).toBeLessThan(20);
    expect(runGit(store, 'fsck', '--strict', '--no-dangling')).toBe('');
  });

  it('stores blobs whose ids equal git hash-object of the content', async () => {
    await commitRevision(store, { documents: DOCUMENTS, nodes: fleet(), trigger: 'initial import', now: NOW });
    expect(runGit(store, 'rev-parse', 'main:nodes/worker-1/hosts').trim()).toBe(gitHashObject(HOSTS_V1));
    expect(runGit(store, 'rev-parse', 'main:nodes/vps-1/traefik.yml').trim()).toBe(gitHashObject(TRAEFIK));
    expect(runGit(store, 'rev-parse', 'main:nodes/vps-1/traefik.yml').trim()).toBe(makeArtifact('traefik.yml', TRAEFIK).oid);
    expect(runGit(store, 'cat-file', '-p', 'main:nodes/vps-1/traefik.yml')).toBe(TRAEFIK);
  });

  it('makes no commit and returns the same revision when nothing changed', async () => {
    const first = await commitRevision(store, { documents: DOCUMENTS, nodes: fleet(), trigger: 'initial import', now: NOW });
    const second = await commitRevision(store, { documents: DOCUMENTS, nodes: fleet(), trigger: 'periodic reconcile' });

    expect(second).toEqual({ revision: first.revision, parent: first.revision, committed: false, changes: [], registry: [] });
    expect(runGit(store, 'rev-list', '--count', 'main').trim()).toBe('1');
  });

  it('recognises an unchanged render through a freshly opened handle too', async () => {
    const first = await commitRevision(store, { documents: DOCUMENTS, nodes: fleet(), trigger: 'initial import', now: NOW });
    const reopened = await openStore(store.dir);
    const second = await commitRevision(reopened, { documents: DOCUMENTS, nodes: fleet(), trigger: 'restart' });
    expect(second.committed).toBe(false);
    expect(second.revision).toBe(first.revision);
  });

  it('lists only the node whose artifact changed, in the result and in the trailers', async () => {
    const first = await commitRevision(store, { documents: DOCUMENTS, nodes: fleet(), trigger: 'initial import', now: NOW });
    const nodes = fleet();
    nodes[2] = makeNodeRender('worker-1', { hosts: HOSTS_V2 });
    const second = await commitRevision(store, { documents: DOCUMENTS, nodes, trigger: 'file services.json changed', now: NOW });

    expect(second.committed).toBe(true);
    expect(second.parent).toBe(first.revision);
    expect(second.changes).toEqual([{ node: 'worker-1', status: 'modified', artifacts: [{ name: 'hosts', change: 'modified' }] }]);
    expect(second.registry).toEqual([]);
    expect(runGit(store, 'log', '-1', '--format=%(trailers:key=Courier-Nodes,valueonly)').trim()).toBe('worker-1');
    expect(runGit(store, 'diff', '--name-only', 'main~1', 'main').trim()).toBe('nodes/worker-1/hosts');
    expect(runGit(store, 'fsck', '--strict', '--no-dangling')).toBe('');
  });

  it('formats the message as subject, one line per node, and Courier trailers', async () => {
    await commitRevision(store, { documents: DOCUMENTS, nodes: fleet(), trigger: 'initial import', now: NOW });
    const nodes = [
      makeNodeRender('laptop-1', { hosts: HOSTS_V2 }, 'laptop'),
      makeNodeRender('vps-1', { 'traefik.yml': TRAEFIK, 'extra.yml': 'http: {}\n' }, 'vps'),
      makeNodeRender('worker-1', { hosts: HOSTS_V2 }),
    ];
    await commitRevision(store, { documents: DOCUMENTS, nodes, trigger: 'configmap service-registry rv 4711', now: NOW });

    expect(runGit(store, 'log', '-1', '--format=%B')).toBe(
      [
        'configmap service-registry rv 4711: 3 node(s) changed',
        '',
        '  laptop-1: hosts (modified)',
        '  vps-1: extra.yml (added)',
        '  worker-1: hosts (modified)',
        '',
        'Courier-Trigger: configmap service-registry rv 4711',
        'Courier-Nodes: laptop-1, vps-1, worker-1',
        '',
        '',
      ].join('\n'),
    );
    expect(runGit(store, 'log', '-1', '--format=%(trailers:key=Courier-Trigger,valueonly)').trim()).toBe('configmap service-registry rv 4711');
  });

  it('reports a node that is no longer rendered as removed, with its artifacts', async () => {
    await commitRevision(store, { documents: DOCUMENTS, nodes: fleet(), trigger: 'initial import', now: NOW });
    const result = await commitRevision(store, { documents: DOCUMENTS, nodes: fleet().filter((n) => n.node.name !== 'vps-1'), trigger: 'node vps-1 deleted', now: NOW });

    expect(result.changes).toEqual([{ node: 'vps-1', status: 'removed', artifacts: [{ name: 'traefik.yml', change: 'removed' }] }]);
    expect(runGit(store, 'ls-tree', '--name-only', 'main:nodes').trim().split('\n')).toEqual(['laptop-1', 'worker-1']);
    expect(runGit(store, 'log', '-1', '--format=%s').trim()).toBe('node vps-1 deleted: 1 node(s) changed');
  });

  it('reports a removed artifact of a node that stays', async () => {
    await commitRevision(store, { documents: DOCUMENTS, nodes: [makeNodeRender('vps-1', { 'traefik.yml': TRAEFIK, 'extra.yml': 'x: 1\n' }, 'vps')], trigger: 'a', now: NOW });
    const result = await commitRevision(store, { documents: DOCUMENTS, nodes: [makeNodeRender('vps-1', { 'traefik.yml': TRAEFIK }, 'vps')], trigger: 'b', now: NOW });
    expect(result.changes).toEqual([{ node: 'vps-1', status: 'modified', artifacts: [{ name: 'extra.yml', change: 'removed' }] }]);
  });

  it('commits a registry-only change with a "registry only" subject and no node trailer', async () => {
    await commitRevision(store, { documents: DOCUMENTS, nodes: fleet(), trigger: 'initial import', now: NOW });
    const documents = { ...DOCUMENTS, 'routing.json': {} };
    const result = await commitRevision(store, { documents, nodes: fleet(), trigger: 'file routing.json changed', now: NOW });

    expect(result.committed).toBe(true);
    expect(result.changes).toEqual([]);
    expect(result.registry).toEqual([{ document: 'routing.json', change: 'added' }]);
    expect(runGit(store, 'log', '-1', '--format=%B')).toBe(
      'file routing.json changed: registry only\n\n  registry/routing.json (added)\n\nCourier-Trigger: file routing.json changed\n\n',
    );
    expect(runGit(store, 'show', 'main:registry/routing.json')).toBe('{}\n');
  });

  it('makes no revision for a change of role that renders the same artifacts (nothing to deliver)', async () => {
    const first = await commitRevision(store, { documents: DOCUMENTS, nodes: [makeNodeRender('node-1', { hosts: HOSTS_V1 }, 'worker')], trigger: 'a', now: NOW });
    const result = await commitRevision(store, { documents: DOCUMENTS, nodes: [makeNodeRender('node-1', { hosts: HOSTS_V1 }, 'laptop')], trigger: 'b', now: NOW });
    expect(result).toMatchObject({ committed: false, revision: first.revision, changes: [] });
  });

  it('puts a multi-line trigger on one line', async () => {
    await commitRevision(store, { documents: DOCUMENTS, nodes: fleet(), trigger: 'manual push\nCourier-Nodes: evil', now: NOW });
    expect(runGit(store, 'log', '-1', '--format=%(trailers:key=Courier-Nodes,valueonly)').trim()).toBe('laptop-1, vps-1, worker-1');
    expect(runGit(store, 'log', '-1', '--format=%s').trim()).toBe('manual push Courier-Nodes: evil: 3 node(s) changed');
  });

  it('serializes concurrent commits so both land on a linear history', async () => {
    await commitRevision(store, { documents: DOCUMENTS, nodes: fleet(), trigger: 'initial import', now: NOW });
    const [a, b] = await Promise.all([
      commitRevision(store, { documents: DOCUMENTS, nodes: fleet(HOSTS_V2), trigger: 'first writer', now: NOW }),
      commitRevision(store, { documents: { ...DOCUMENTS, 'routing.json': {} }, nodes: fleet(HOSTS_V2), trigger: 'second writer', now: NOW }),
    ]);

    expect(a.committed && b.committed).toBe(true);
    expect(b.parent).toBe(a.revision);
    expect(b.changes).toEqual([]);
    expect(runGit(store, 'rev-list', '--count', 'main').trim()).toBe('3');
    expect(runGit(store, 'rev-list', '--merges', 'main').trim()).toBe('');
    expect(runGit(store, 'log', '--format=%(trailers:key=Courier-Trigger,valueonly)').trim().split(/\n+/)).toEqual(['second writer', 'first writer', 'initial import']);
  });

  it('serializes concurrent commits made through two handles on the same directory', async () => {
    const other = await openStore(store.dir);
    const results = await Promise.all([
      commitRevision(store, { documents: DOCUMENTS, nodes: fleet(), trigger: 'one', now: NOW }),
      commitRevision(other, { documents: DOCUMENTS, nodes: fleet(HOSTS_V2), trigger: 'two', now: NOW }),
    ]);
    expect(results.map((r) => r.committed)).toEqual([true, true]);
    expect(results[1]!.parent).toBe(results[0]!.revision);
    expect(runGit(store, 'fsck', '--strict', '--no-dangling')).toBe('');
  });

  it('rejects an artifact whose oid does not match its content with STORE_ERROR and writes nothing', async () => {
    const render = makeNodeRender('worker-1', { hosts: HOSTS_V1 });
    render.artifacts[0]!.oid = makeArtifact('hosts', HOSTS_V2).oid;
    const error = await commitRevision(store, { documents: DOCUMENTS, nodes: [render], trigger: 'bad render' }).catch((err: unknown) => err);

    expect(isCourierError(error, 'STORE_ERROR')).toBe(true);
    expect(() => runGit(store, 'rev-parse', '--verify', '--quiet', 'main')).toThrow();
  });

  it('rejects a node rendered twice and an artifact name with a slash', async () => {
    const twice = await commitRevision(store, { documents: {}, nodes: [makeNodeRender('a', { hosts: '' }), makeNodeRender('a', { hosts: '' })], trigger: 't' }).catch((e: unknown) => e);
    const slash = await commitRevision(store, { documents: {}, nodes: [makeNodeRender('a', { '../hosts': '' })], trigger: 't' }).catch((e: unknown) => e);
    expect(isCourierError(twice, 'STORE_ERROR')).toBe(true);
    expect(isCourierError(slash, 'STORE_ERROR')).toBe(true);
  });

  it('wraps a failing write into STORE_ERROR with the original error as cause', async () => {
    const broken: Store = { dir: '/proc/courier-no-such-store', cache: {} };
    const error = await commitRevision(broken, { documents: DOCUMENTS, nodes: fleet(), trigger: 't' }).catch((err: unknown) => err);
    expect(isCourierError(error, 'STORE_ERROR')).toBe(true);
    expect((error as Error).cause).toBeDefined();
  });
});
