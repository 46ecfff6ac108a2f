/**
 * A stand-in for the daemon's side of the HTTP server in tests: plain, mutable status and revision
 * data, a readiness flag, a reconcile answer and a listener set the test fires by hand, with a real
 * CourierMetrics. Nothing is mocked; the server reads these exactly as it reads the daemon.
 */
import { createMetrics, type CourierMetrics } from '../../controller/http/create-metrics.js';
import type { HttpServerOptions, RevisionView } from '../../controller/http/start-http-server.js';
import type { NodeStatusView, StatusView } from '../../controller/status/build-status-view.js';

/** The fake daemon's state and the server options that read it. */
export interface FakeDaemon {
  status: StatusView;
  revisions: RevisionView[];
  ready: { ready: boolean; reason?: string };
  reconcileAnswer: { accepted: boolean; reason?: string };
  /** How many times the server asked for a reconcile. */
  reconcileCalls: number;
  /** The `limit` of every getRevisions call. */
  revisionLimits: number[];
  metrics: CourierMetrics;
  /** The listeners the server registered through `subscribe`. */
  listeners: Set<() => void>;
  /** Set one node's fields and signal a status change. */
  updateNode(name: string, fields: Partial<NodeStatusView>): void;
  /** Signal a status change to every listener. */
  notify(): void;
  /** Server options reading this state (add `listen` and overrides). */
  options(overrides?: Partial<HttpServerOptions>): HttpServerOptions;
}

/** The desired revision of the sample site. */
export const DESIRED_REVISION = '4f2a9c1e8b7d6a5f4e3d2c1b0a9f8e7d6c5b4a39';
const PREVIOUS_REVISION = '9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a291807';

/** A node row with defaults for everything the test does not care about. */
export function createNodeView(fields: Partial<NodeStatusView> & Pick<NodeStatusView, 'node' | 'role'>): NodeStatusView {
  const lastSync = fields.last_sync === undefined ? new Date(Date.now() - 90_000).toISOString() : fields.last_sync;
  return {
    address: '100.64.0.1',
    status: 'active',
    last_sync: lastSync,
    // a converged node's last attempt is its last sync
    last_attempt: lastSync,
    revision: DESIRED_REVISION,
    current: true,
    failures: 0,
    last_error: null,
    oids: {},
    drift: [],
    ...fields,
  };
}

/** A sample cluster: two laptops, three VPS edge nodes (edge-1 pending), three workers, five revisions. */
export function createFakeDaemon(): FakeDaemon {
  const minutesAgo = (m: number): string => new Date(Date.now() - m * 60_000).toISOString();
  const daemon: FakeDaemon = {
    status: {
      revision: DESIRED_REVISION,
      updated: minutesAgo(1),
      registryValid: true,
      nodes: [
        createNodeView({ node: 'laptop-anna', role: 'laptop', address: '100.64.0.10', last_sync: minutesAgo(3) }),
        createNodeView({ node: 'laptop-ben', role: 'laptop', address: '100.64.0.11', status: 'error', failures: 6, revision: PREVIOUS_REVISION, current: false, last_sync: minutesAgo(2 * 24 * 60), last_attempt: minutesAgo(4), last_error: { code: 'NODE_UNREACHABLE', message: 'laptop-ben (100.64.0.11:22): connect ETIMEDOUT' } }),
        createNodeView({ node: 'edge-1', role: 'vps', address: '100.64.1.1', status: 'pending_sync', failures: 1, revision: PREVIOUS_REVISION, current: false, last_sync: minutesAgo(42), last_attempt: minutesAgo(1), last_error: { code: 'CONNECTION_LOST', message: 'edge-1 (100.64.1.1:22): session closed before the exchange finished' } }),
        createNodeView({ node: 'edge-2', role: 'vps', address: '100.64.1.2', last_sync: minutesAgo(1) }),
        createNodeView({ node: 'edge-3', role: 'vps', address: '100.64.1.3', last_sync: minutesAgo(7) }),
        createNodeView({ node: 'worker-a', role: 'worker', address: '100.64.2.1', last_sync: minutesAgo(5) }),
        createNodeView({ node: 'worker-b', role: 'worker', address: '100.64.2.2', last_sync: minutesAgo(5), drift: [] }),
        createNodeView({ node: 'worker-c', role: 'worker', address: '100.64.2.3', status: 'pending_sync', last_sync: null, last_attempt: minutesAgo(1), revision: null, current: false, failures: 2, last_error: { code: 'HOST_KEY_UNKNOWN', message: 'worker-c: host key SHA256:3q2+7w… is not in known_hosts; run courier nodes trust worker-c' } }),
      ],
    },
    revisions: [
      { revision: DESIRED_REVISION, time: minutesAgo(12), trigger: 'watch', nodes: ['edge-1', 'edge-2', 'edge-3'] },
      { revision: PREVIOUS_REVISION, time: minutesAgo(180), trigger: 'cli', nodes: ['laptop-anna', 'laptop-ben', 'worker-a', 'worker-b', 'worker-c'] },
      { revision: '1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d', time: minutesAgo(60 * 26), trigger: 'watch', nodes: ['edge-2'] },
      { revision: '0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c', time: minutesAgo(60 * 24 * 4), trigger: 'rollback', nodes: [] },
    ],
    ready: { ready: true },
    reconcileAnswer: { accepted: true },
    reconcileCalls: 0,
    revisionLimits: [],
    metrics: createMetrics(),
    listeners: new Set(),
    updateNode(name, fields) {
      daemon.status = { ...daemon.status, nodes: daemon.status.nodes.map((n) => (n.node === name ? { ...n, ...fields } : n)) };
      daemon.notify();
    },
    notify() {
      for (const listener of daemon.listeners) listener();
    },
    options(overrides = {}) {
      return {
        listen: '127.0.0.1:0',
        metrics: daemon.metrics,
        getStatus: async () => daemon.status,
        getRevisions: async (limit) => {
          daemon.revisionLimits.push(limit);
          return daemon.revisions.slice(0, limit);
        },
        isReady: () => daemon.ready,
        onReconcile: async () => {
          daemon.reconcileCalls += 1;
          return daemon.reconcileAnswer;
        },
        subscribe: (listener) => {
          daemon.listeners.add(listener);
          return () => daemon.listeners.delete(listener);
        },
        ...overrides,
      };
    },
  };
  return daemon;
}
