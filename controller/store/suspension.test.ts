import { execFileSync } from 'node:child_process';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { commitRevision } from './commit-revision.js';
import type { Store } from './model.js';
import { openStore } from './open-store.js';
import { clearSuspension, readSuspension, writeSuspension, SUSPENSION_REF } from './suspension.js';
import { makeNodeRender, makeTempStore, runGit } from './store-fixtures.js';
import { isCourierError } from '../errors.js';

describe('suspension in the store', () => {
  let store: Store;
  let cleanup: () => Promise<void>;
  let main: string;

  beforeEach(async () => {
    ({ store, cleanup } = await makeTempStore());
    main = (await commitRevision(store, { documents: {}, nodes: [makeNodeRender('node-a', { hosts: 'a\n' })], trigger: 't' })).revision;
  });
  afterEach(async () => cleanup());

  it('is absent on a new store, recorded by suspend, read by a fresh handle, and cleared by resume', async () => {
    expect(await readSuspension(store)).toBeUndefined();
    const suspension = { since: '2024-05-01T10:00:00.000Z', reason: 'bad edge', revision: main, by: 'command' as const, actor: 'ops@cp' };
    await writeSuspension(store, suspension);
    // another process (a restarted daemon, the next leader on the shared state volume) sees it
    expect(await readSuspension(await openStore(store.dir))).toEqual(suspension);
    await clearSuspension(store, 'dashboard', 'dashboard 127.0.0.1', new Date('2024-05-01T11:00:00Z'));
    expect(await readSuspension(await openStore(store.dir))).toBeUndefined();
    // clearing again writes nothing
    await clearSuspension(store, 'command', 'x');
    // its audit trail, readable with stock git; main is untouched
    expect(runGit(store, 'log', '--format=%s', SUSPENSION_REF).trim().split('\n')).toEqual(['resume', `suspend at ${main.slice(0, 12)}: bad edge`]);
    expect(runGit(store, 'rev-parse', 'main').trim()).toBe(main);
    runGit(store, 'fsck', '--strict');
  });

  it('a suspension record that is not one is a STORE_ERROR saying how to clear it', async () => {
    await writeSuspension(store, { since: '2024-05-01T10:00:00.000Z', reason: '', revision: main, by: 'command', actor: 'a' });
    // point the ref at a commit whose suspension.json is garbage
    const tmp = path.join(store.dir, 'bad.json');
    await writeFile(tmp, '{"nope":1}\n');
    const badBlob = runGit(store, 'hash-object', '-w', tmp).trim();
    const treeOid = runGitInput(store, `100644 blob ${badBlob}\tsuspension.json\n`, 'mktree');
    const commit = runGitInput(store, 'bad\n', 'commit-tree', treeOid);
    runGit(store, 'update-ref', SUSPENSION_REF, commit);
    const err = await readSuspension(await openStore(store.dir)).catch((e: unknown) => e);
    expect(isCourierError(err, 'STORE_ERROR')).toBe(true);
    expect((err as Error).message).toContain('courier resume');
  });
});

function runGitInput(store: Store, input: string, ...args: string[]): string {
  return execFileSync('git', [`--git-dir=${store.dir}`, ...args], { input, encoding: 'utf8', env: { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@t', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@t' } }).trim();
}
