import { describe, expect, it } from 'vitest';
import { nextNodeStatus, type NodeStatus } from './next-node-status.js';

const base = { node: 'edge-1', role: 'vps' as const };
const now = new Date('2026-11-23T10:00:00Z');
const fail = { ok: false as const, error: { code: 'NODE_UNREACHABLE', message: 'connection refused' } };

describe('nextNodeStatus', () => {
  it('turns a node active with last_sync and revision on success', () => {
    const s = nextNodeStatus(undefined, base, { ok: true, revision: 'abc', oids: { 'file /x': 'o' } }, { now, errorAfter: 3 });
    expect(s).toMatchObject({ status: 'active', last_sync: now.toISOString(), last_attempt: now.toISOString(), revision: 'abc', failures: 0, oids: { 'file /x': 'o' } });
  });

  it('marks a failing node pending_sync and counts consecutive failures', () => {
    const s1 = nextNodeStatus(undefined, base, fail, { now, errorAfter: 3 });
    const s2 = nextNodeStatus(s1, base, fail, { now, errorAfter: 3 });
    expect([s1.status, s1.failures, s2.status, s2.failures]).toEqual(['pending_sync', 1, 'pending_sync', 2]);
    expect(s2.last_error).toEqual(fail.error);
  });

  it('turns pending_sync into error once failures reach errorAfter', () => {
    let s: NodeStatus | undefined;
    for (let i = 0; i < 3; i++) s = nextNodeStatus(s, base, fail, { now, errorAfter: 3 });
    expect(s?.status).toBe('error');
  });

  it('keeps the last successful sync time through failures and clears the error on recovery', () => {
    const ok = nextNodeStatus(undefined, base, { ok: true, revision: 'r1', oids: {} }, { now, errorAfter: 2 });
    const later = new Date('2026-11-23T11:00:00Z');
    const failed = nextNodeStatus(ok, base, fail, { now: later, errorAfter: 2 });
    expect(failed.last_sync).toBe(now.toISOString());
    expect(failed.last_attempt).toBe(later.toISOString());
    const recovered = nextNodeStatus(failed, base, { ok: true, revision: 'r2', oids: {} }, { now: later, errorAfter: 2 });
    expect(recovered).toMatchObject({ status: 'active', failures: 0, last_error: undefined, revision: 'r2' });
  });
});
