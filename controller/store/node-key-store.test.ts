import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasNodeKey, isNodeKey, nodeKey } from '../registry/node-key.js';
import { findTextViolation, TEXT_RULES } from '../registry/text-rules.js';
import { commitRevision } from './commit-revision.js';
import { diffRevisions } from './diff-revisions.js';
import { listRevisions } from './list-revisions.js';
import type { Store } from './model.js';
import { readNodeRef, setNodeRef } from './node-refs.js';
import { listNodes, readArtifact, readManifest } from './read-revision.js';
import { resolveRevision } from './resolve-revision.js';
import { makeNodeRender, makeTempStore, runGit } from './store-fixtures.js';

const HOSTNAMES = ['Vinays-MacBook-Pro', 'worker_01', 'vps.example.net', 'ip-10-0-0-1.EC2.internal', 'W', `A${'b'.repeat(62)}`];

/** What stock git says about a ref name (`git check-ref-format`). */
function gitAcceptsRef(ref: string): boolean {
  try {
    execFileSync('git', ['check-ref-format', ref], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

describe('node names as hostname prints them, in the store', () => {
  let store: Store;
  let cleanup: () => Promise<void>;
  let first: string;
  let second: string;

  beforeAll(async () => {
    ({ store, cleanup } = await makeTempStore());
    first = (await commitRevision(store, { documents: {}, nodes: HOSTNAMES.map((name) => makeNodeRender(name, { hosts: `${name}\n` })), trigger: 'one' })).revision;
    const next = await commitRevision(store, {
      documents: {},
      nodes: HOSTNAMES.map((name) => makeNodeRender(name, { hosts: name === 'Vinays-MacBook-Pro' ? 'changed\n' : `${name}\n` })),
      trigger: 'two',
    });
    second = next.revision;
    expect(next.changes.map((change) => change.node)).toEqual(['Vinays-MacBook-Pro']);
  });
  afterAll(async () => cleanup());

  it('stores each node under its lowercase key, which stock git accepts as a ref component', () => {
    expect(runGit(store, 'ls-tree', '--name-only', 'main', 'nodes/').trim().split('\n').sort()).toEqual(HOSTNAMES.map((name) => `nodes/${nodeKey(name)}`).sort());
    for (const name of HOSTNAMES) expect(gitAcceptsRef(`refs/nodes/${nodeKey(name)}`)).toBe(true);
    expect(runGit(store, 'fsck', '--strict', '--no-dangling')).toBe('');
  });

  it('keeps the name as written in commit messages, and finds it again by any spelling', async () => {
    expect(runGit(store, 'log', '-1', '--format=%B', 'main')).toContain('Courier-Nodes: Vinays-MacBook-Pro');
    expect((await listRevisions(store, { node: 'Vinays-MacBook-Pro' })).map((r) => r.revision)).toEqual([second, first]);
    expect((await listRevisions(store, { node: 'vinays-macbook-pro' })).map((r) => r.revision)).toEqual([second, first]);
    expect((await listRevisions(store, { node: 'worker_01' })).map((r) => r.revision)).toEqual([first]);
  });

  it('reads manifests and artifacts by the name, and lists folders by key', async () => {
    expect((await readManifest(store, 'main', 'Vinays-MacBook-Pro'))?.node).toBe('Vinays-MacBook-Pro');
    expect(await readArtifact(store, 'main', 'Vinays-MacBook-Pro', 'hosts')).toBe('changed\n');
    expect(await readArtifact(store, first, 'vps.example.net', 'hosts')).toBe('vps.example.net\n');
    expect(await listNodes(store, 'main')).toEqual(HOSTNAMES.map(nodeKey).sort());
    const diff = await diffRevisions(store, first, second, { node: 'Vinays-MacBook-Pro' });
    expect(diff.map((file) => file.path)).toEqual(['nodes/vinays-macbook-pro/hosts']);
  });

  it('points refs/nodes/<key> at the verified revision; stock git and courier read it by name', async () => {
    expect(await setNodeRef(store, 'Vinays-MacBook-Pro', first)).toBe(first);
    expect(await readNodeRef(store, 'Vinays-MacBook-Pro')).toBe(first);
    expect(runGit(store, 'rev-parse', 'refs/nodes/vinays-macbook-pro').trim()).toBe(first);
    expect(runGit(store, 'diff', '--name-only', 'refs/nodes/vinays-macbook-pro', 'main', '--', 'nodes/vinays-macbook-pro').trim()).toBe('nodes/vinays-macbook-pro/hosts');
    expect(await resolveRevision(store, 'refs/nodes/Vinays-MacBook-Pro')).toBe(first);
    await setNodeRef(store, 'vps.example.net', 'main');
    expect(runGit(store, 'for-each-ref', '--format=%(refname)', 'refs/nodes/').trim().split('\n')).toEqual(['refs/nodes/vinays-macbook-pro', 'refs/nodes/vps.example.net']);
  });
});

describe('node keys', () => {
  it('are the name in lowercase and idempotent', () => {
    expect(nodeKey('Vinays-MacBook-Pro')).toBe('vinays-macbook-pro');
    expect(nodeKey(nodeKey('Worker_01'))).toBe('worker_01');
  });

  // every name the registry accepts has a key git accepts; every name git would refuse is refused by the registry
  it.each(['a', 'A.b', 'x_y', 'x-', 'x_', 'a.b.c', '1', '9z'])('a valid name %s has a key git accepts', (name) => {
    expect(findTextViolation(name, TEXT_RULES.nodeName)).toBeUndefined();
    expect(hasNodeKey(name)).toBe(true);
    expect(gitAcceptsRef(`refs/nodes/${nodeKey(name)}`)).toBe(true);
  });

  it.each(['.hidden', 'a..b', 'a.lock', 'A.LOCK', 'end.', 'a/b', 'a b', 'a@{1}', 'a~1', 'a^', 'a:b', 'a?', 'a*', 'a[', 'a\\b', '', '-a', '_a'])(
    'the name %j is refused, and so never reaches a ref',
    (name) => {
      expect(findTextViolation(name, TEXT_RULES.nodeName)).toBeDefined();
      expect(isNodeKey(nodeKey(name))).toBe(false);
    },
  );
});
