/**
 * The daemon's Prometheus metrics, on a registry of their own (never prom-client's global one, so
 * two daemons in one process, or a test, never share series). Per-node series carry the node's
 * name and role; `forgetNode` drops every series of a node that left the registry, so a removed
 * node does not linger as a stale gauge.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { NodeSyncReport } from '../pipeline/sync-node.js';
import type { NodeStatus } from '../status/next-node-status.js';

/** The daemon's metrics and the calls that update them. */
export interface CourierMetrics {
  /** The prom-client registry holding every courier series and the default process metrics. */
  readonly registry: Registry;
  /** Count one sync or verify of one node: result, duration, bytes sent, and a drift event when it found drift or healed hand edits. */
  recordSync(report: NodeSyncReport, mode: string): void;
  /** Set a node's status gauges (1 for its status, 0 for the others) and its last sync time. */
  setNodeStatus(status: NodeStatus): void;
  /** Drop every series of a node that is no longer in the registry. */
  forgetNode(name: string): void;
  /** Whether the last registry load validated. */
  setRegistryValid(valid: boolean): void;
  /** The desired revision (`main`); only its series of `courier_revision_info` exists. */
  setRevision(revision: string): void;
  /** Count one change event from a source watcher (`files`, `kubernetes`, `git`, ...). */
  recordWatchEvent(source: string): void;
  /** Count one reconcile pass by what started it (`interval`, `watch`, `api`, `startup`, ...). */
  recordReconcile(trigger: string): void;
  /** Whether this process holds the leader lease (or the state lock). */
  setLeader(leader: boolean): void;
  /** Node sessions running now. */
  setSessionsInFlight(count: number): void;
  /** Warm agent sessions open now (the daemon with ssh.sessions: warm). */
  setSessionsOpen(count: number): void;
  /** Whether the site is suspended (nodes held on the pinned revision). */
  setSuspended(suspended: boolean): void;
  /** The Prometheus text exposition of every series. */
  render(): Promise<string>;
}

/** Every node status the status gauge has a series for. */
const NODE_STATUSES: readonly NodeStatus['status'][] = ['active', 'pending_sync', 'error'];

/** Every sync result `courier_syncs_total` counts. */
const SYNC_RESULTS: readonly NodeSyncReport['status'][] = ['converged', 'drifted', 'unreachable', 'failed'];

/** Sync durations run from a verify of an idle node on a LAN (~50 ms) to a slow push over a bad link (a minute). */
const SYNC_DURATION_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60];

/** prom-client default metrics that `promtool check metrics` rejects (gauges named like counters). */
const LINT_FAILING_DEFAULT_METRICS = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'];

/** Create the metrics on a fresh registry, with prom-client's default process metrics. */
export function createMetrics(): CourierMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  // prom-client's three "_total" gauges break the Prometheus naming rules (`promtool check metrics`:
  // only counters end in _total) and only sum the per-type gauges it also exports
  // (sum(nodejs_active_handles) is the same number), so they are dropped.
  for (const name of LINT_FAILING_DEFAULT_METRICS) registry.removeSingleMetric(name);
  const registers = [registry];

  const nodeStatus = new Gauge({ name: 'courier_node_status', help: "1 for the node's current status (active, pending_sync, error), 0 for the others.", labelNames: ['node', 'role', 'status'] as const, registers });
  const lastSync = new Gauge({ name: 'courier_node_last_sync_timestamp_seconds', help: 'Unix time of the last verified convergence of the node.', labelNames: ['node', 'role'] as const, registers });
  const syncDuration = new Histogram({ name: 'courier_sync_duration_seconds', help: 'Duration of one node sync or verify, connect to verdict.', labelNames: ['mode', 'result'] as const, buckets: SYNC_DURATION_BUCKETS, registers });
  const syncs = new Counter({ name: 'courier_syncs_total', help: 'Node syncs and verifies by result (converged, drifted, unreachable, failed).', labelNames: ['node', 'mode', 'result'] as const, registers });
  const bytesSent = new Counter({ name: 'courier_artifact_bytes_sent_total', help: 'Artifact bytes sent to the node.', labelNames: ['node'] as const, registers });
  const driftEvents = new Counter({ name: 'courier_drift_events_total', help: 'Times the node was found holding something other than the desired artifacts.', labelNames: ['node'] as const, registers });
  const registryValid = new Gauge({ name: 'courier_registry_valid', help: '1 when the last registry load validated, 0 when it did not (the last good revision stays in force).', registers });
  const revisionInfo = new Gauge({ name: 'courier_revision_info', help: 'The desired revision (commit of main); always 1.', labelNames: ['revision'] as const, registers });
  const watchEvents = new Counter({ name: 'courier_watch_events_total', help: 'Change events seen by the source watcher.', labelNames: ['source'] as const, registers });
  const reconciles = new Counter({ name: 'courier_reconciles_total', help: 'Reconcile passes by what started them.', labelNames: ['trigger'] as const, registers });
  const inFlight = new Gauge({ name: 'courier_sync_sessions_in_flight', help: 'Node sync sessions running now.', registers });
  const sessionsOpen = new Gauge({ name: 'courier_agent_sessions_open', help: 'Warm agent sessions (one per node) open now.', registers });
  const suspended = new Gauge({ name: 'courier_suspended', help: '1 while the site is suspended (rollback or suspend: nodes held on the pinned revision, nothing rendered from the registry), else 0.', registers });
  const leader = new Gauge({ name: 'courier_leader', help: '1 while this process is the one writer (holds the lease or lock), else 0.', registers });

  // The role each node's series carry, and the modes seen per node: prom-client removes a series
  // only by its exact label set, so forgetting a node needs every label set it was given.
  const roles = new Map<string, string>();
  const modes = new Map<string, Set<string>>();

  /** Drop a node's status and last-sync series under one role. */
  function removeRoleSeries(node: string, role: string): void {
    for (const status of NODE_STATUSES) nodeStatus.remove({ node, role, status });
    lastSync.remove({ node, role });
  }

  return {
    registry,

    recordSync(report, mode) {
      const result = report.status;
      syncs.inc({ node: report.node, mode, result });
      syncDuration.observe({ mode, result }, report.durationMs / 1000);
      if (report.bytesSent > 0) bytesSent.inc({ node: report.node }, report.bytesSent);
      // one event per sync that found the node changed: left drifted, or hand edits healed by the push
      if (result === 'drifted' || (report.handEdits?.length ?? 0) > 0) driftEvents.inc({ node: report.node });
      const seen = modes.get(report.node) ?? new Set<string>();
      seen.add(mode);
      modes.set(report.node, seen);
    },

    setNodeStatus(status) {
      const previousRole = roles.get(status.node);
      if (previousRole !== undefined && previousRole !== status.role) removeRoleSeries(status.node, previousRole);
      roles.set(status.node, status.role);
      for (const value of NODE_STATUSES) nodeStatus.set({ node: status.node, role: status.role, status: value }, value === status.status ? 1 : 0);
      const at = status.last_sync === undefined ? NaN : Date.parse(status.last_sync);
      if (Number.isFinite(at)) lastSync.set({ node: status.node, role: status.role }, at / 1000);
      else lastSync.remove({ node: status.node, role: status.role });
    },

    forgetNode(name) {
      const role = roles.get(name);
      if (role !== undefined) removeRoleSeries(name, role);
      roles.delete(name);
      for (const mode of modes.get(name) ?? []) {
        for (const result of SYNC_RESULTS) syncs.remove({ node: name, mode, result });
      }
      modes.delete(name);
      bytesSent.remove({ node: name });
      driftEvents.remove({ node: name });
    },

    setRegistryValid(valid) {
      registryValid.set(valid ? 1 : 0);
    },

    setRevision(revision) {
      // an info metric: the old revision's series must go, or a query would see two "current" ones
      revisionInfo.reset();
      revisionInfo.set({ revision }, 1);
    },

    recordWatchEvent(source) {
      watchEvents.inc({ source });
    },

    recordReconcile(trigger) {
      reconciles.inc({ trigger });
    },

    setLeader(isLeader) {
      leader.set(isLeader ? 1 : 0);
    },

    setSessionsOpen(count) {
      sessionsOpen.set(count);
    },
    setSessionsInFlight(count) {
      inFlight.set(count);
    },

    setSuspended(value) {
      suspended.set(value ? 1 : 0);
    },

    render() {
      return registry.metrics();
    },
  };
}
