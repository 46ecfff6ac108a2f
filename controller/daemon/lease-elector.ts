/**
 * Leader election on a coordination.k8s.io/v1 Lease, in the manner of client-go's leaderelection:
 * every retryPeriod a candidate reads the Lease and takes it when it is absent, released (no
 * holder) or expired (renewTime + leaseDurationSeconds in the past); the leader renews it. Every
 * write carries the resourceVersion that was read, so of two candidates only one wins (the other
 * gets 409 Conflict). A leader whose renewals have not succeeded for renewDeadline stops acting as
 * leader by itself; since renewDeadline < leaseDuration that happens before anyone else may take
 * the Lease over.
 *
 * Lease times are MicroTime on the wire (six fractional digits). client-node 1.x serializes a
 * `V1MicroTime` correctly (its toISOString pads to microseconds) but a plain `Date` with three
 * digits, which the API server rejects; and it hands times back as the raw strings it received.
 */
import { CoordinationV1Api, V1MicroTime, type KubeConfig, type V1Lease } from '@kubernetes/client-node';
import { CourierError } from '../errors.js';
import { kubernetesStatusCode, wrapKubernetesError } from '../sources/kubernetes-error.js';

/** Options for createLeaseElector (durations in milliseconds). */
export interface LeaseElectorOptions {
  kubeConfig: KubeConfig;
  /** Namespace of the Lease (default kube-system, as in DESIGN.md's leaderElection defaults). */
  namespace?: string;
  name: string;
  /** This candidate's identity, written as holderIdentity (e.g. hostname + pid). */
  identity: string;
  /** How long a Lease stays valid after its renewTime (written as whole seconds, rounded up). */
  leaseDurationMs: number;
  /** A leader stops leading when renewing has not succeeded for this long; must be < leaseDurationMs. */
  renewDeadlineMs: number;
  /** Time between attempts to acquire or renew; must be < renewDeadlineMs. */
  retryPeriodMs: number;
  clock?: () => Date;
  onStartedLeading: () => void;
  onStoppedLeading: () => void;
  /** Failed attempts (API unreachable, rejected writes); the elector retries by itself. */
  onError?: (err: CourierError) => void;
}

/** A running candidate. */
export interface LeaseElector {
  /** Begin acquiring (and then renewing) the Lease. */
  start(): void;
  /** Stop; a leader first stops leading (onStoppedLeading), then releases the Lease so another candidate need not wait for it to expire. */
  stop(): Promise<void>;
  /** True while this candidate holds a Lease it renewed within renewDeadline. */
  isLeader(): boolean;
}

/** Create a Lease-based leader elector; nothing happens until start(). */
export function createLeaseElector(options: LeaseElectorOptions): LeaseElector {
  const { name, identity, leaseDurationMs, renewDeadlineMs, retryPeriodMs } = options;
  const namespace = options.namespace ?? 'kube-system';
  if (!(renewDeadlineMs < leaseDurationMs) || !(retryPeriodMs < renewDeadlineMs)) {
    throw new CourierError('CONFIG_INVALID', `leaderElection: need retryPeriod < renewDeadline < leaseDuration (got ${retryPeriodMs}ms, ${renewDeadlineMs}ms, ${leaseDurationMs}ms)`, {
      leaseDurationMs,
      renewDeadlineMs,
      retryPeriodMs,
    });
  }
  const clock = options.clock ?? (() => new Date());
  const leaseSeconds = Math.max(1, Math.ceil(leaseDurationMs / 1000));
  const api = options.kubeConfig.makeApiClient(CoordinationV1Api);
  const where = `lease ${namespace}/${name}`;

  let running = false;
  let leader = false;
  let tickTimer: NodeJS.Timeout | undefined;
  let deadlineTimer: NodeJS.Timeout | undefined;
  let inFlight: Promise<void> | undefined;

  function call(callback: () => void): void {
    try {
      callback();
    } catch (err) {
      options.onError?.(new CourierError('USAGE', `leader election callback failed: ${(err as Error).message}`, {}, { cause: err }));
    }
  }

  function stopLeading(): void {
    if (!leader) return;
    leader = false;
    clearTimeout(deadlineTimer);
    call(options.onStoppedLeading);
  }

  /** Read the Lease; undefined when it does not exist. */
  async function readLease(): Promise<V1Lease | undefined> {
    try {
      return await api.readNamespacedLease({ name, namespace });
    } catch (err) {
      if (kubernetesStatusCode(err) === 404) return undefined;
      throw err;
    }
  }

  /** One attempt: true when this candidate holds the Lease afterwards, 'lost' when someone else validly holds it. */
  async function tryAcquireOrRenew(now: Date): Promise<boolean | 'lost'> {
    const lease = await readLease();
    const time = new V1MicroTime(now.getTime());
    if (lease === undefined) {
      const body: V1Lease = {
        metadata: { name, namespace },
        spec: { holderIdentity: identity, leaseDurationSeconds: leaseSeconds, acquireTime: time, renewTime: time, leaseTransitions: 0 },
      };
      return writeOrConflict(() => api.createNamespacedLease({ namespace, body }));
    }
    const spec = lease.spec ?? {};
    const holder = spec.holderIdentity ?? '';
    if (holder !== '' && holder !== identity && !isExpired(spec.renewTime, spec.leaseDurationSeconds ?? leaseSeconds, now)) return 'lost';
    const takeover = holder !== identity;
    const body: V1Lease = {
      ...lease,
      spec: {
        ...spec,
        holderIdentity: identity,
        leaseDurationSeconds: leaseSeconds,
        acquireTime: takeover || spec.acquireTime === undefined ? time : spec.acquireTime,
        renewTime: time,
        leaseTransitions: (spec.leaseTransitions ?? 0) + (takeover ? 1 : 0),
      },
    };
    return writeOrConflict(() => api.replaceNamespacedLease({ name, namespace, body }));
  }

  async function writeOrConflict(write: () => Promise<V1Lease>): Promise<boolean> {
    try {
      await write();
      return true;
    } catch (err) {
      // Someone else wrote the Lease since we read it: they won this round.
      if (kubernetesStatusCode(err) === 409) return false;
      throw err;
    }
  }

  async function tick(): Promise<void> {
    const started = performance.now();
    let outcome: boolean | 'lost' = false;
    try {
      // A hung request must not hold the loop past the deadline; a late answer is simply ignored.
      outcome = await withTimeout(tryAcquireOrRenew(clock()), renewDeadlineMs);
    } catch (err) {
      options.onError?.(wrapKubernetesError(err, `${leader ? 'renewing' : 'acquiring'} ${where}`, { namespace, name }));
    }
    if (!running) return;
    if (outcome === true) {
      clearTimeout(deadlineTimer);
      // Counted from when the attempt began: its renewTime is no later than that.
      deadlineTimer = setTimeout(stopLeading, Math.max(0, renewDeadlineMs - (performance.now() - started)));
      if (!leader) {
        leader = true;
        call(options.onStartedLeading);
      }
    } else if (outcome === 'lost') {
      stopLeading();
    }
  }

  function loop(): void {
    if (!running) return;
    inFlight = tick().finally(() => {
      inFlight = undefined;
      if (running) tickTimer = setTimeout(loop, retryPeriodMs);
    });
  }

  /** Give the Lease up if we hold it: no holder, renewTime now, so the next candidate takes it at once. */
  async function release(): Promise<void> {
    const lease = await readLease();
    if (lease?.spec?.holderIdentity !== identity) return;
    const time = new V1MicroTime(clock().getTime());
    const body: V1Lease = { ...lease, spec: { ...lease.spec, holderIdentity: '', leaseDurationSeconds: 1, acquireTime: time, renewTime: time } };
    await api.replaceNamespacedLease({ name, namespace, body });
  }

  return {
    start(): void {
      if (running) return;
      running = true;
      loop();
    },

    async stop(): Promise<void> {
      running = false;
      clearTimeout(tickTimer);
      await inFlight;
      stopLeading();
      try {
        await withTimeout(release(), renewDeadlineMs);
      } catch (err) {
        // Best effort: an unreleased Lease just expires after leaseDuration.
        options.onError?.(wrapKubernetesError(err, `releasing ${where}`, { namespace, name }));
      }
    },

    isLeader: () => leader,
  };
}

/** Whether a Lease renewed at `renewTime` (a MicroTime string as received, or a Date) for `seconds` has run out at `now`. */
function isExpired(renewTime: unknown, seconds: number, now: Date): boolean {
  const renewed = renewTime instanceof Date ? renewTime.getTime() : typeof renewTime === 'string' ? Date.parse(renewTime) : Number.NaN;
  if (Number.isNaN(renewed)) return true;
  return renewed + seconds * 1000 < now.getTime();
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms}ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
