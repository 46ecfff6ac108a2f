import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isCourierError } from '../errors.js';
import { commitRevision } from './commit-revision.js';
import { listRevisions } from './list-revisions.js';
import type { Store } from './model.js';
import { setNodeRef } from './node-refs.js';
import { makeNodeRender, makeTempStore, runGit } from './store-fixtures.js';

describe('listRevisions', () => {
  let store: Store;
  let cleanup: () => Promise<void>;
  const revisions: string[] = [];

  beforeAll(async () => {
    ({ store, cleanup } = await makeTempStore());
    // Revision i changes worker-a when i is even, worker-b when i is odd; the first adds both.
    for (let i = 0; i < 6; i++) {
      const nodes = [
        makeNodeRender('worker-a', { hosts: `a ${i - (i % 2)}\n` }),
        makeNodeRender('worker-b', { hosts: `b ${i === 0 ? 0 : i - ((i + 1) % 2)}\n` }),
      ];
      const result = await commitRevision(store, { documents: {}, nodes, trigger: `change ${i}`, now: new Date(Date.UTC(2024, 0, 1, 0, i)) });
      revisions.push(result.revision);
    }
  });
  afterAll(async () => cleanup());

  it('lists every revision newest first with parent, time, trigger and nodes', async () => {
    const log = await listRevisions(store);
    expect(log.map((r) => r.revision)).toEqual([...revisions].reverse());
    expect(log.map((r) => r.revision)).toEqual(runGit(store, 'rev-list', 'main').trim().split('\n'));
    expect(log[0]).toMatchObject({ parent: revisions[4], time: '2024-01-01T00:05:00.000Z', trigger: 'change 5', nodes: ['worker-b'] });
    expect(log.at(-1)).toMatchObject({ parent: undefined, trigger: 'change 0', nodes: ['worker-a', 'worker-b'] });
    expect(log[0]!.message).toMatch(/^change 5: 1 node\(s\) changed\n/);
  });

  it('stops at the limit', async () => {
    expect((await listRevisions(store, { limit: 2 })).map((r) => r.revision)).toEqual([revisions[5], revisions[4]]);
    expect(await listRevisions(store, { limit: 0 })).toEqual([]);
  });

  it('keeps only revisions whose trailer names the node, within the limit', async () => {
    const forA = await listRevisions(store, { node: 'worker-a' });
    expect(forA.map((r) => r.trigger)).toEqual(['change 4', 'change 2', 'change 0']);
    expect((await listRevisions(store, { node: 'worker-b', limit: 2 })).map((r) => r.trigger)).toEqual(['change 5', 'change 3']);
    expect(await listRevisions(store, { node: 'worker-z' })).toEqual([]);
  });

  it('starts from another ref such as a node verified ref', async () => {
    await setNodeRef(store, 'worker-a', revisions[2]!);
    expect((await listRevisions(store, { ref: 'refs/nodes/worker-a' })).map((r) => r.revision)).toEqual([revisions[2], revisions[1], revisions[0]]);
    expect(runGit(store, 'log', '--format=%H', 'refs/nodes/worker-a').trim().split('\n')).toEqual([revisions[2], revisions[1], revisions[0]]);
  });

  it('returns nothing for an empty store and REVISION_NOT_FOUND for an unknown ref', async () => {
    const empty = await makeTempStore();
    try {
      expect(await listRevisions(empty.store)).toEqual([]);
    } finally {
      await empty.cleanup();
    }
    const error = await listRevisions(store, { ref: 'refs/nodes/nobody' }).catch((err: unknown) => err);
    expect(isCourierError(error, 'REVISION_NOT_FOUND')).toBe(true);
  });
});
