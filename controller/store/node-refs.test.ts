import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isCourierError } from '../errors.js';
import { commitRevision } from './commit-revision.js';
import type { Store } from './model.js';
import { readNodeRef, setNodeRef } from './node-refs.js';
import { makeNodeRender, makeTempStore, runGit } from './store-fixtures.js';

describe('node refs', () => {
  let store: Store;
  let cleanup: () => Promise<void>;
  let first: string;
  let second: string;

  beforeAll(async () => {
    ({ store, cleanup } = await makeTempStore());
    first = (await commitRevision(store, { documents: {}, nodes: [makeNodeRender('worker-1', { hosts: 'a\n' })], trigger: 'one' })).revision;
    second = (await commitRevision(store, { documents: {}, nodes: [makeNodeRender('worker-1', { hosts: 'b\n' })], trigger: 'two' })).revision;
  });
  afterAll(async () => cleanup());

  it('reads nothing for a node that was never verified', async () => {
    expect(await readNodeRef(store, 'worker-1')).toBeUndefined();
    expect(await readNodeRef(store, '../heads/main')).toBeUndefined();
  });

  it('points refs/nodes/<node> at the verified revision, forcing it backwards and forwards', async () => {
    expect(await setNodeRef(store, 'worker-1', 'main')).toBe(second);
    expect(await readNodeRef(store, 'worker-1')).toBe(second);
    expect(await setNodeRef(store, 'worker-1', first)).toBe(first);
    expect(await readNodeRef(store, 'worker-1')).toBe(first);
    expect(runGit(store, 'rev-parse', 'refs/nodes/worker-1').trim()).toBe(first);
    expect(runGit(store, 'log', '--format=%s', 'refs/nodes/worker-1').trim()).toBe('one: 1 node(s) changed');
    expect(runGit(store, 'diff', '--name-only', 'refs/nodes/worker-1', 'main', '--', 'nodes/worker-1').trim()).toBe('nodes/worker-1/hosts');
    expect(runGit(store, 'fsck', '--strict', '--no-dangling')).toBe('');
  });

  it('refuses a node the revision does not render with NODE_NOT_FOUND', async () => {
    const error = await setNodeRef(store, 'worker-9', 'main').catch((err: unknown) => err);
    expect(isCourierError(error, 'NODE_NOT_FOUND')).toBe(true);
    expect(await readNodeRef(store, 'worker-9')).toBeUndefined();
  });

  it('refuses an unknown revision with REVISION_NOT_FOUND', async () => {
    const error = await setNodeRef(store, 'worker-1', 'main~7').catch((err: unknown) => err);
    expect(isCourierError(error, 'REVISION_NOT_FOUND')).toBe(true);
  });
});
