import { rm } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { commitRevision } from './commit-revision.js';
import type { Store } from './model.js';
import { readNodeRef, setNodeRef } from './node-refs.js';
import { resolveRevision } from './resolve-revision.js';
import { makeNodeRender, makeTempStore, runGit } from './store-fixtures.js';

describe('node refs and commit ids on a long-lived store handle (the daemon)', () => {
  let store: Store;
  let cleanup: () => Promise<void>;
  let revision: string;

  beforeAll(async () => {
    ({ store, cleanup } = await makeTempStore());
    revision = (await commitRevision(store, { documents: {}, nodes: [makeNodeRender('worker-a', { hosts: 'a\n' })], trigger: 'one' })).revision;
  });
  afterAll(() => cleanup());

  it('writes refs/nodes/<node> again after its directory was removed by hand', async () => {
    await setNodeRef(store, 'worker-a', revision);
    await rm(path.join(store.dir, 'refs', 'nodes'), { recursive: true });
    await setNodeRef(store, 'worker-a', revision);
    expect(runGit(store, 'rev-parse', 'refs/nodes/worker-a').trim()).toBe(revision);
    expect(await readNodeRef(store, 'worker-a')).toBe(revision);
  });

  it('remembers a full id it read as a commit, and still refuses one that is not', async () => {
    expect(await resolveRevision(store, revision)).toBe(revision);
    expect(store.knownCommits?.has(revision)).toBe(true);
    await expect(resolveRevision(store, '0'.repeat(40))).rejects.toMatchObject({ code: 'REVISION_NOT_FOUND' });
    expect(store.knownCommits?.has('0'.repeat(40))).toBe(false);
  });
});
