import { readFile, writeFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { commitRevision } from './commit-revision.js';
import { listRevisions } from './list-revisions.js';
import type { RevisionInfo, Store } from './model.js';
import { listNodeRevisions, nodeLogIndexPath } from './node-log-index.js';
import { openStore } from './open-store.js';
import { makeNodeRender, makeTempStore, runGit } from './store-fixtures.js';

/** The node filter the slow way: every commit of main, newest first, whose trailer names the node. */
async function walk(store: Store, node: string, limit: number): Promise<RevisionInfo[]> {
  return (await listRevisions(store, { ref: 'main' })).filter((r) => r.nodes.includes(node)).slice(0, limit);
}

describe('per-node log index', () => {
  let store: Store;
  let cleanup: () => Promise<void>;

  /** Revision i changes node-0 always, node-1 every third, node-2 only in the first. */
  async function commitMany(from: number, to: number): Promise<void> {
    for (let i = from; i < to; i++) {
      const nodes = [
        makeNodeRender('node-0', { hosts: `0 ${i}\n` }),
        makeNodeRender('node-1', { hosts: `1 ${Math.floor(i / 3)}\n` }),
        makeNodeRender('node-2', { hosts: '2\n' }),
      ];
      await commitRevision(store, { documents: {}, nodes, trigger: `rev ${i}`, now: new Date(Date.UTC(2024, 0, 1, 0, 0, i)) });
    }
  }

  beforeAll(async () => {
    ({ store, cleanup } = await makeTempStore());
    await commitMany(0, 40);
  });
  afterAll(async () => cleanup());

  it('gives exactly what walking the history gives, for every node, and is built on first use', async () => {
    for (const [node, limit] of [['node-0', 5], ['node-1', 4], ['node-2', 20], ['node-9', 3]] as const) {
      expect(await listNodeRevisions(await openStore(store.dir), node, limit)).toEqual(await walk(store, node, limit));
    }
    expect((await listNodeRevisions(store, 'node-2', 20)).map((r) => r.trigger)).toEqual(['rev 0']);
    const index = JSON.parse(await readFile(nodeLogIndexPath(store), 'utf8')) as { tip: string; commits: string[] };
    expect(index.tip).toBe(runGit(store, 'rev-parse', 'main').trim());
    expect(index.commits).toHaveLength(40);
    // the index is not part of the repository
    runGit(store, 'fsck', '--strict');
  });

  it('is extended, not rebuilt, when main moved ahead of it', async () => {
    await listNodeRevisions(store, 'node-0', 1);
    await commitMany(40, 45);
    expect(await listNodeRevisions(await openStore(store.dir), 'node-1', 3)).toEqual(await walk(store, 'node-1', 3));
    const index = JSON.parse(await readFile(nodeLogIndexPath(store), 'utf8')) as { tip: string; commits: string[] };
    expect(index.commits).toHaveLength(45);
    expect(index.tip).toBe(runGit(store, 'rev-parse', 'main').trim());
  });

  it('is rebuilt when unreadable, and never trusted over the commits it points at', async () => {
    await writeFile(nodeLogIndexPath(store), 'not json');
    expect(await listNodeRevisions(store, 'node-0', 2)).toEqual(await walk(store, 'node-0', 2));
    // a tampered index that points node-2 at the wrong commits is caught by re-reading the trailers
    const index = JSON.parse(await readFile(nodeLogIndexPath(store), 'utf8')) as { nodes: Record<string, number[]> };
    index.nodes['node-2'] = [10, 20];
    await writeFile(nodeLogIndexPath(store), JSON.stringify(index));
    expect((await listNodeRevisions(store, 'node-2', 5)).map((r) => r.trigger)).toEqual(['rev 0']);
  });

  it('is rebuilt when main no longer descends from the indexed tip', async () => {
    await listNodeRevisions(store, 'node-0', 1);
    // another history entirely (main reset by hand to an old commit, then new work on top)
    runGit(store, 'update-ref', 'refs/heads/main', runGit(store, 'rev-parse', 'main~30').trim());
    const fresh = await openStore(store.dir);
    await commitRevision(fresh, { documents: {}, nodes: [makeNodeRender('node-2', { hosts: 'other\n' })], trigger: 'other history' });
    expect(await listNodeRevisions(await openStore(store.dir), 'node-2', 5)).toEqual(await walk(fresh, 'node-2', 5));
    expect((await listNodeRevisions(store, 'node-2', 5)).map((r) => r.trigger)).toEqual(['other history', 'rev 0']);
  });

  it('cuts at a ref on main (a node verified ref) and declines one off main', async () => {
    const at = runGit(store, 'rev-parse', 'main~4').trim();
    const walked = (await listRevisions(store, { ref: at })).filter((r) => r.nodes.includes('node-0')).slice(0, 3);
    expect(await listNodeRevisions(store, 'node-0', 3, at)).toEqual(walked);
    expect(await listRevisions(store, { ref: at, node: 'node-0', limit: 3 })).toEqual(walked);
    expect(await listNodeRevisions(store, 'node-0', 3, '0'.repeat(40))).toBeUndefined();
  });

  it('serves listRevisions with a node filter on main, and an empty store gives nothing', async () => {
    expect(await listRevisions(store, { node: 'node-1', limit: 2 })).toEqual(await walk(store, 'node-1', 2));
    const empty = await makeTempStore();
    expect(await listNodeRevisions(empty.store, 'node-0', 5)).toEqual([]);
    await empty.cleanup();
  });
});
