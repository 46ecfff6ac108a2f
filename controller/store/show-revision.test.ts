import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isCourierError } from '../errors.js';
import { commitRevision } from './commit-revision.js';
import type { Store } from './model.js';
import { showRevision } from './show-revision.js';
import { makeNodeRender, makeTempStore, runGit } from './store-fixtures.js';

describe('showRevision', () => {
  let store: Store;
  let cleanup: () => Promise<void>;
  const revs: string[] = [];

  beforeAll(async () => {
    ({ store, cleanup } = await makeTempStore());
    const a = makeNodeRender('node-a', { hosts: 'a 1\n' });
    revs.push((await commitRevision(store, { documents: { 'services.json': { s: 1 } }, nodes: [a, makeNodeRender('node-b', { hosts: 'b\n' })], trigger: 'first', now: new Date(Date.UTC(2024, 1, 1)) })).revision);
    revs.push((await commitRevision(store, { documents: { 'services.json': { s: 2 } }, nodes: [makeNodeRender('node-a', { hosts: 'a 2\n' }), makeNodeRender('node-c', { 'traefik.yml': 'c\n' }, 'vps')], trigger: 'second', now: new Date(Date.UTC(2024, 1, 2)) })).revision);
  });
  afterAll(async () => cleanup());

  it('names the trigger, time, changed nodes and artifacts and diffs every changed file against the parent', async () => {
    const detail = await showRevision(store, 'main');
    expect(detail).toMatchObject({ revision: revs[1], parent: revs[0], time: '2024-02-02T00:00:00.000Z', trigger: 'second' });
    expect(detail.nodes).toEqual([
      { node: 'node-a', change: 'modified', artifacts: [{ name: 'hosts', change: 'modified' }] },
      { node: 'node-b', change: 'removed', artifacts: [{ name: 'hosts', change: 'removed' }] },
      { node: 'node-c', change: 'added', artifacts: [{ name: 'traefik.yml', change: 'added' }] },
    ]);
    expect(detail.registry).toEqual([{ document: 'services.json', change: 'modified' }]);
    expect(detail.files.map((f) => f.path)).toEqual(runGit(store, 'diff', '--name-only', revs[0]!, revs[1]!).trim().split('\n'));
    expect(detail.files.find((f) => f.path === 'nodes/node-a/hosts')?.patch).toContain('-a 1\n+a 2\n');
  });

  it('diffs the first revision against the empty tree, and an unknown one is REVISION_NOT_FOUND', async () => {
    const first = await showRevision(store, revs[0]!.slice(0, 7));
    expect(first.parent).toBeNull();
    expect(first.nodes.map((n) => [n.node, n.change])).toEqual([['node-a', 'added'], ['node-b', 'added']]);
    expect(isCourierError(await showRevision(store, 'main~5').catch((e: unknown) => e), 'REVISION_NOT_FOUND')).toBe(true);
  });
});
