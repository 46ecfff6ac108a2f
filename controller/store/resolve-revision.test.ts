import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CourierError } from '../errors.js';
import { commitRevision } from './commit-revision.js';
import type { Store } from './model.js';
import { setNodeRef } from './node-refs.js';
import { resolveRevision } from './resolve-revision.js';
import { makeNodeRender, makeTempStore, runGit } from './store-fixtures.js';

async function codeOf(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise;
    return undefined;
  } catch (err) {
    return err instanceof CourierError ? err.code : `not a CourierError: ${String(err)}`;
  }
}

describe('resolveRevision', () => {
  let store: Store;
  let cleanup: () => Promise<void>;
  const revisions: string[] = [];

  beforeAll(async () => {
    ({ store, cleanup } = await makeTempStore());
    for (let i = 0; i < 3; i++) {
      const result = await commitRevision(store, { documents: {}, nodes: [makeNodeRender('worker-1', { hosts: `10.0.0.${i}\tx.mycloud.local\n` })], trigger: `change ${i}` });
      revisions.push(result.revision);
    }
  });
  afterAll(async () => cleanup());

  it('resolves main, HEAD and refs/heads/main to the newest revision', async () => {
    for (const spec of ['main', 'HEAD', 'refs/heads/main', ' main ']) expect(await resolveRevision(store, spec)).toBe(revisions[2]);
  });

  it('resolves main~N, HEAD^ and chained steps like git rev-parse', async () => {
    expect(await resolveRevision(store, 'main~1')).toBe(revisions[1]);
    expect(await resolveRevision(store, 'main~2')).toBe(revisions[0]);
    expect(await resolveRevision(store, 'HEAD^')).toBe(revisions[1]);
    expect(await resolveRevision(store, 'main~1^')).toBe(revisions[0]);
    expect(await resolveRevision(store, 'main~0')).toBe(revisions[2]);
    expect(await resolveRevision(store, 'main~2')).toBe(runGit(store, 'rev-parse', 'main~2').trim());
  });

  it('resolves full and abbreviated commit ids', async () => {
    const oid = revisions[1]!;
    expect(await resolveRevision(store, oid)).toBe(oid);
    expect(await resolveRevision(store, oid.slice(0, 12))).toBe(oid);
    expect(await resolveRevision(store, `${oid.slice(0, 12)}~1`)).toBe(revisions[0]);
  });

  it('resolves refs/nodes/<node> and nodes/<node>', async () => {
    await setNodeRef(store, 'worker-1', revisions[0]!);
    expect(await resolveRevision(store, 'refs/nodes/worker-1')).toBe(revisions[0]);
    expect(await resolveRevision(store, 'nodes/worker-1')).toBe(revisions[0]);
  });

  it('rejects unknown names, missing ids, non-commits and steps past the first revision with REVISION_NOT_FOUND', async () => {
    const tree = runGit(store, 'rev-parse', 'main^{tree}').trim();
    for (const spec of ['nope', 'refs/nodes/unknown', '0000000000000000000000000000000000000000', 'deadbeef', tree, 'main~3', '', '../../config', 'main:nodes', 'a..b']) {
      expect({ spec, code: await codeOf(resolveRevision(store, spec)) }).toEqual({ spec, code: 'REVISION_NOT_FOUND' });
    }
  });

  it('puts the spec in the error data and names the store in the message', async () => {
    const error = (await resolveRevision(store, 'main~9').catch((err: unknown) => err)) as CourierError;
    expect(error.data).toMatchObject({ spec: 'main~9', dir: store.dir });
    expect(error.message).toContain(store.dir);
  });

  it('says the store is empty when main does not exist yet', async () => {
    const empty = await makeTempStore();
    try {
      const error = (await resolveRevision(empty.store, 'main').catch((err: unknown) => err)) as CourierError;
      expect(error.code).toBe('REVISION_NOT_FOUND');
      expect(error.message).toContain('no revisions yet');
    } finally {
      await empty.cleanup();
    }
  });
});
