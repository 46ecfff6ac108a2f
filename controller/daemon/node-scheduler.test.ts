import { describe, expect, it } from 'vitest';
import type { Node } from '../registry/model.js';
import type { NodeSyncReport } from '../pipeline/sync-node.js';
import { NodeScheduler } from './node-scheduler.js';

const node = (name: string) => ({ name, role: 'worker', ip: '127.0.0.1', sshUser: 'u', sshPort: 22, transport: 'ssh', sudo: false }) as unknown as Node;
const report = (name: string, revision: string) => ({ node: name, role: 'worker', revision, status: 'converged' }) as unknown as NodeSyncReport;

/** A promise and its resolver. */
function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

describe('NodeScheduler', () => {
  it('bounds the sessions, not the report writing: a slow status write frees its slot', async () => {
    const nodes = new Map(['a', 'b', 'c'].map((n) => [n, node(n)]));
    let running = 0;
    let most = 0;
    const synced: string[] = [];
    const write = deferred();
    const scheduler = new NodeScheduler(
      {
        current: () => ({ revision: 'r1', nodes }),
        sync: async (n, revision) => {
          most = Math.max(most, ++running);
          await new Promise((r) => setTimeout(r, 5));
          running--;
          synced.push(n.name);
          return report(n.name, revision);
        },
        // every report waits for a status write that lands only after all three sessions ran
        onReport: () => write.promise,
      },
      { concurrency: 1, retryDelayMs: 10, intervalMs: 1000 },
    );
    const done = scheduler.request(undefined, 'test');
    // with the slot held through onReport this never gets past the first node (the test times out)
    while (synced.length < 3) await new Promise((r) => setTimeout(r, 5));
    expect(synced.sort()).toEqual(['a', 'b', 'c']);
    expect(most).toBe(1);
    write.resolve();
    await done;
  });

  it('syncs a queued node at the revision current when its slot comes up', async () => {
    const nodes = new Map(['a', 'b'].map((n) => [n, node(n)]));
    let revision = 'r1';
    const first = deferred();
    const seen: string[] = [];
    const scheduler = new NodeScheduler(
      {
        current: () => ({ revision, nodes }),
        sync: async (n, rev) => {
          seen.push(`${n.name}@${rev}`);
          if (n.name === 'a') await first.promise;
          return report(n.name, rev);
        },
        onReport: () => undefined,
      },
      { concurrency: 1, retryDelayMs: 10, intervalMs: 1000 },
    );
    const done = scheduler.request(['a', 'b'], 'test');
    while (seen.length < 1) await new Promise((r) => setTimeout(r, 5));
    revision = 'r2';
    first.resolve();
    await done;
    expect(seen).toEqual(['a@r1', 'b@r2']);
  });
});
