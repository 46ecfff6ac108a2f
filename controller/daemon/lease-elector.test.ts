import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ApiException, CoordinationV1Api, KubeConfig, V1MicroTime } from '@kubernetes/client-node';
import { isCourierError } from '../errors.js';
import { startKubeApiServer, type KubeApiServer } from '../../test/support/kube-api-server.js';
import { createLeaseElector, type LeaseElector, type LeaseElectorOptions } from './lease-elector.js';

const NS = 'kube-system';
const LEASE = 'courier-controller';
// Small but ordered durations: retryPeriod < renewDeadline < leaseDuration (written as 1 s). On a
// loaded machine a renewal can still miss the deadline and leadership flap; the tests assert the
// invariant (never two leaders) and the end state, not an exact history.
const DURATIONS = { leaseDurationMs: 1000, renewDeadlineMs: 700, retryPeriodMs: 100 };
const POLL = { timeout: 20_000, interval: 25 };
const MICRO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;

let server: KubeApiServer;
let electors: LeaseElector[];
let events: string[];
let leaders: Set<string>;
/** Moments when a candidate started leading while another still was: must stay empty. */
let overlaps: string[];

beforeEach(async () => {
  server = await startKubeApiServer();
  electors = [];
  events = [];
  leaders = new Set();
  overlaps = [];
});

afterEach(async () => {
  for (const e of electors) await e.stop();
  await server.stop();
});

function kubeConfigFor(token: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromString(server.kubeconfig({ token }));
  return kc;
}

/** An elector whose identity is also its bearer token, so the server can tell candidates apart. */
function candidate(identity: string, extra: Partial<LeaseElectorOptions> = {}): LeaseElector {
  const elector = createLeaseElector({
    kubeConfig: kubeConfigFor(identity),
    namespace: NS,
    name: LEASE,
    identity,
    ...DURATIONS,
    onStartedLeading: () => {
      if (leaders.size > 0) overlaps.push(`${identity} started while ${[...leaders].join(', ')} led`);
      leaders.add(identity);
      events.push(`${identity} started`);
    },
    onStoppedLeading: () => {
      leaders.delete(identity);
      events.push(`${identity} stopped`);
    },
    ...extra,
  });
  electors.push(elector);
  return elector;
}

const leaseSpec = () => server.getLease(NS, LEASE)?.spec as Record<string, unknown> | undefined;
const requestsBy = (token: string) => server.requests.filter((r) => r.token === token).length;

describe('lease elector', () => {
  it('lets one candidate lead while a second stays follower; stop() releases and the second takes over', async () => {
    const first = candidate('alpha');
    first.start();
    await expect.poll(() => first.isLeader(), POLL).toBe(true);
    expect(leaseSpec()).toMatchObject({ holderIdentity: 'alpha', leaseDurationSeconds: 1, leaseTransitions: 0 });

    const second = candidate('beta');
    second.start();
    const seen = requestsBy('beta');
    // Several rounds of trying while alpha keeps renewing.
    await expect.poll(() => requestsBy('beta'), POLL).toBeGreaterThan(seen + 5);
    expect(second.isLeader()).toBe(false);
    expect(leaseSpec()?.holderIdentity).toBe('alpha');

    await first.stop();
    expect(first.isLeader()).toBe(false);
    await expect.poll(() => second.isLeader(), POLL).toBe(true);
    expect(leaseSpec()?.holderIdentity).toBe('beta');
    expect(Number(leaseSpec()?.leaseTransitions)).toBeGreaterThanOrEqual(1);
    expect(overlaps).toEqual([]);
    expect(events.slice(-2)).toEqual(['alpha stopped', 'beta started']);
  });

  it('a leader cut off from the API stops leading before its lease expires, then the follower takes over', async () => {
    const first = candidate('alpha');
    const second = candidate('beta');
    first.start();
    await expect.poll(() => first.isLeader(), POLL).toBe(true);
    second.start();
    const renewedAt = String(leaseSpec()?.renewTime);

    // alpha can no longer reach the API server: it neither renews nor releases.
    server.partition('alpha');
    await expect.poll(() => second.isLeader(), POLL).toBe(true);
    // alpha gave up (renewDeadline) before beta could take over (leaseDuration): never two leaders.
    expect(overlaps).toEqual([]);
    expect(events.slice(-2)).toEqual(['alpha stopped', 'beta started']);
    expect(first.isLeader()).toBe(false);
    expect(leaseSpec()?.holderIdentity).toBe('beta');
    expect(Date.parse(String(leaseSpec()?.acquireTime))).toBeGreaterThan(Date.parse(renewedAt));

    // Back on the network, alpha finds beta's valid lease and stays a follower.
    server.heal('alpha');
    const seen = requestsBy('alpha');
    await expect.poll(() => requestsBy('alpha'), POLL).toBeGreaterThan(seen + 5);
    expect(first.isLeader()).toBe(false);
    expect(leaseSpec()?.holderIdentity).toBe('beta');
  });

  it('takes over a lease whose holder stopped renewing long ago and counts the transition', async () => {
    const leases = kubeConfigFor('seed').makeApiClient(CoordinationV1Api);
    const old = new V1MicroTime(Date.parse('2026-01-01T00:00:00Z'));
    await leases.createNamespacedLease({ namespace: NS, body: { metadata: { name: LEASE }, spec: { holderIdentity: 'ghost', leaseDurationSeconds: 15, acquireTime: old, renewTime: old, leaseTransitions: 3 } } });
    const elector = candidate('alpha');
    elector.start();
    await expect.poll(() => elector.isLeader(), POLL).toBe(true);
    expect(leaseSpec()).toMatchObject({ holderIdentity: 'alpha', leaseTransitions: 4 });
  });

  it('writes acquireTime and renewTime as MicroTime (six fractional digits) from the given clock', async () => {
    const elector = candidate('alpha', { clock: () => new Date('2030-05-06T07:08:09.123Z') });
    elector.start();
    await expect.poll(() => elector.isLeader(), POLL).toBe(true);
    expect(leaseSpec()).toMatchObject({ acquireTime: '2030-05-06T07:08:09.123000Z', renewTime: '2030-05-06T07:08:09.123000Z' });
    expect(String(leaseSpec()?.renewTime)).toMatch(MICRO_TIME);
  });

  it('the API server rejects a Lease time sent as a plain Date (three fractional digits)', async () => {
    const leases = kubeConfigFor('direct').makeApiClient(CoordinationV1Api);
    const error = await leases
      .createNamespacedLease({ namespace: NS, body: { metadata: { name: LEASE }, spec: { holderIdentity: 'x', renewTime: new Date('2030-01-01T00:00:00.123Z') } } })
      .catch((err: unknown) => err);
    expect(error).toBeInstanceOf(ApiException);
    expect((error as ApiException<string>).code).toBe(400);
    expect(JSON.parse((error as ApiException<string>).body)).toMatchObject({ kind: 'Status', reason: 'BadRequest', code: 400 });
    expect(server.getLease(NS, LEASE)).toBeUndefined();
  });

  it('stop() without ever leading leaves the lease to its holder', async () => {
    const first = candidate('alpha');
    first.start();
    await expect.poll(() => first.isLeader(), POLL).toBe(true);
    const second = candidate('beta');
    second.start();
    await second.stop();
    expect(leaseSpec()?.holderIdentity).toBe('alpha');
    expect(events.filter((e) => e.startsWith('beta'))).toEqual([]);
  });

  it('refuses durations where renewDeadline is not shorter than leaseDuration', () => {
    let error: unknown;
    try {
      candidate('alpha', { leaseDurationMs: 400, renewDeadlineMs: 400 });
    } catch (err) {
      error = err;
    }
    expect(isCourierError(error, 'CONFIG_INVALID')).toBe(true);
  });
});
