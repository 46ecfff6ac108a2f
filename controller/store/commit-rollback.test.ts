import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isCourierError } from '../errors.js';
import { commitRevision, readMain } from './commit-revision.js';
import { commitRollback } from './commit-rollback.js';
import { listRevisions } from './list-revisions.js';
import type { Store } from './model.js';
import { readArtifact, readRegistryDocuments, listNodes } from './read-revision.js';
import { makeNodeRender, makeTempStore, runGit } from './store-fixtures.js';

describe('commitRollback', () => {
  let store: Store;
  let cleanup: () => Promise<void>;
  const revs: string[] = [];

  beforeEach(async () => {
    ({ store, cleanup } = await makeTempStore());
    revs.length = 0;
    // r0: a and b at 0; r1: a, b at 1 and c added; r2: a at 2 (b, c unchanged), registry v2
    const states = [
      { a: 0, b: 0, c: undefined, docs: { 'services.json': { v: 0 } } },
      { a: 1, b: 1, c: 1, docs: { 'services.json': { v: 1 } } },
      { a: 2, b: 1, c: 1, docs: { 'services.json': { v: 2 } } },
    ];
    for (const [i, s] of states.entries()) {
      const nodes = [makeNodeRender('node-a', { hosts: `a ${s.a}\n` }), makeNodeRender('node-b', { hosts: `b ${s.b}\n` })];
      if (s.c !== undefined) nodes.push(makeNodeRender('node-c', { 'traefik.yml': `c ${s.c}\n` }, 'vps'));
      revs.push((await commitRevision(store, { documents: s.docs, nodes, trigger: `state ${i}`, now: new Date(Date.UTC(2024, 0, 1, i)) })).revision);
    }
  });
  afterEach(async () => cleanup());

  it('rolls every node back to the old trees in a new commit on main, keeping main registry and history', async () => {
    const result = await commitRollback(store, { target: 'main~2', reason: 'edge broken\nby a bad port', now: new Date(Date.UTC(2024, 0, 2)) });
    expect(result).toMatchObject({ committed: true, parent: revs[2], target: revs[0], trigger: `rollback to ${revs[0]!.slice(0, 12)}` });
    expect(await readMain(store)).toBe(result.revision);
    expect(result.changes.map((c) => [c.node, c.status])).toEqual([
      ['node-a', 'modified'],
      ['node-b', 'modified'],
      ['node-c', 'removed'],
    ]);
    expect(await readArtifact(store, 'main', 'node-a', 'hosts')).toBe('a 0\n');
    expect(await readArtifact(store, 'main', 'node-b', 'hosts')).toBe('b 0\n');
    // a node the old revision did not have has no subtree: its artifacts are removed from it on push
    expect(await listNodes(store, 'main')).toEqual(['node-a', 'node-b']);
    expect(await readRegistryDocuments(store, 'main')).toEqual({ 'services.json': { v: 2 } });
    // the node trees are byte-identical to the old revision's: stock git sees no difference below nodes/
    expect(runGit(store, 'diff', '--stat', revs[0]!, 'main', '--', 'nodes')).toBe('');
    // history is never rewritten: stock git log shows the rollback on top of everything before
    const log = runGit(store, 'log', '--format=%H %s', 'main').trim().split('\n');
    expect(log.map((l) => l.split(' ')[0])).toEqual([result.revision, revs[2], revs[1], revs[0]]);
    expect(log[0]).toContain(`rollback to ${revs[0]!.slice(0, 12)}: 3 node(s) changed`);
    const message = runGit(store, 'log', '-1', '--format=%B', 'main');
    expect(message).toContain(`Rolled back to ${revs[0]}.`);
    expect(message).toContain('Reason: edge broken by a bad port');
    expect(message).toContain(`Courier-Trigger: rollback to ${revs[0]!.slice(0, 12)}`);
    expect(message).toContain('Courier-Nodes: node-a, node-b, node-c');
    runGit(store, 'fsck', '--strict');
  });

  it('rolls back only the named node and leaves the others on main', async () => {
    const result = await commitRollback(store, { target: revs[0]!.slice(0, 8), nodes: ['node-a'] });
    expect(result.changes.map((c) => c.node)).toEqual(['node-a']);
    expect(result.trigger).toBe(`rollback to ${revs[0]!.slice(0, 12)} (nodes node-a)`);
    expect(await readArtifact(store, 'main', 'node-a', 'hosts')).toBe('a 0\n');
    expect(await readArtifact(store, 'main', 'node-b', 'hosts')).toBe('b 1\n');
    expect(await readArtifact(store, 'main', 'node-c', 'traefik.yml')).toBe('c 1\n');
    expect(runGit(store, 'diff', '--name-only', revs[2]!, 'main').trim().split('\n')).toEqual(['nodes/node-a/hosts']);
  });

  it('removes a named node that did not exist yet in the old revision', async () => {
    const result = await commitRollback(store, { target: revs[0]!, nodes: ['node-c'] });
    expect(result.changes).toEqual([{ node: 'node-c', status: 'removed', artifacts: [{ name: 'traefik.yml', change: 'removed' }] }]);
    expect(await listNodes(store, 'main')).toEqual(['node-a', 'node-b']);
  });

  it('commits nothing when main already holds the old node trees', async () => {
    const result = await commitRollback(store, { target: 'main', nodes: ['node-b'] });
    expect(result).toMatchObject({ committed: false, revision: revs[2], changes: [] });
    expect(await readMain(store)).toBe(revs[2]);
  });

  it('refuses an unknown revision or node with nothing changed', async () => {
    for (const [input, code] of [
      [{ target: 'deadbeef' }, 'REVISION_NOT_FOUND'],
      [{ target: 'main~7' }, 'REVISION_NOT_FOUND'],
      [{ target: 'main~1', nodes: ['node-zz'] }, 'NODE_NOT_FOUND'],
    ] as const) {
      const err = await commitRollback(store, input as { target: string; nodes?: string[] }).catch((e: unknown) => e);
      expect(isCourierError(err, code)).toBe(true);
    }
    expect(await readMain(store)).toBe(revs[2]);
    expect((await listRevisions(store)).length).toBe(3);
  });

  it('a later render on top of a rollback is an ordinary commit against it', async () => {
    const rollback = await commitRollback(store, { target: 'main~1' });
    const next = await commitRevision(store, { documents: { 'services.json': { v: 3 } }, nodes: [makeNodeRender('node-a', { hosts: 'a 3\n' })], trigger: 'after' });
    expect(next.parent).toBe(rollback.revision);
    expect(next.changes.map((c) => [c.node, c.status])).toEqual([
      ['node-a', 'modified'],
      ['node-b', 'removed'],
      ['node-c', 'removed'],
    ]);
  });
});
