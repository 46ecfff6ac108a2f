/**
 * The daemon: watch the source, render and commit on every change, push to the nodes whose
 * artifacts changed, reconcile every node on an interval, and serve health, metrics and the
 * dashboard. One writer at a time: the state-directory lock, or a Kubernetes Lease when leader
 * election is on (only the leader watches and pushes).
 */
import os from 'node:os';
import { CourierError, isCourierError } from '../errors.js';
import type { Node } from '../registry/model.js';
import type { Artifact } from '../render/model.js';
import { renderRevision } from '../pipeline/render-revision.js';
import { readNodeState, reportToOutcome, syncNode, type NodeSyncReport } from '../pipeline/sync-node.js';
import type { Site } from '../pipeline/open-site.js';
import { SessionPool } from '../transport/session-pool.js';
import { openWarmSession } from '../transport/warm-session.js';
import { createSourceWatcher, readSourceNow } from '../sources/create-source-watcher.js';
import type { SourceWatcher } from '../sources/source-watcher.js';
import { StatusRecorder } from '../status/status-recorder.js';
import { buildStatusView } from '../status/build-status-view.js';
import { acquireStateLock, type StateLock } from '../status/state-lock.js';
import { listRevisions } from '../store/list-revisions.js';
import { resolveRevision } from '../store/resolve-revision.js';
import { createMetrics, type CourierMetrics } from '../http/create-metrics.js';
import { startHttpServer, type HttpServer } from '../http/start-http-server.js';
import { readHttpToken } from '../http/read-http-token.js';
import { warnIfUnguarded } from '../http/warn-if-unguarded.js';
import { NodeScheduler } from './node-scheduler.js';
import { createRenderQueue } from './render-queue.js';
import type { Leadership } from './start-leadership.js';
import { createStatusWriteBack } from './status-write-back.js';
import { runDelegatedSync } from './delegated-sync.js';
import type { SyncRequest } from '../http/start-http-server.js';
import { readSuspension, type Suspension } from '../store/suspension.js';
import type { WaitingChanges } from '../registry/find-waiting-changes.js';
import { showRevision } from '../store/show-revision.js';
import { loadPinnedState } from './load-pinned-state.js';
import { createSuspensionApi } from './suspension-api.js';
import { writeDaemonEndpoint } from './daemon-endpoint.js';
import { logSyncReport, readNodePage } from './daemon-views.js';
import { daemonExchange, daemonTransport } from './daemon-transport.js';

/** A running daemon. */
export interface Daemon {
  /** Resolves after the first reconcile (the daemon is ready). */
  ready: Promise<void>;
  /** The dashboard / API base URL when HTTP is enabled. */
  url?: string;
  metrics: CourierMetrics;
  /** Reconcile every node now. */
  reconcile(trigger: string): Promise<void>;
  /** Graceful stop: watchers, in-flight sessions (bounded), status, lock. Resolves true if every session finished in time. */
  stop(): Promise<boolean>;
}

/** Sync reasons whose rounds hash every target on the node (never the serve cache). */
const HASHING_REASONS = ['drift check', 'reconcile', 'startup'];

/** What the daemon currently pushes. */
interface Desired {
  revision: string;
  nodes: Map<string, Node>;
  artifacts: Map<string, Artifact[]>;
}

/** Start the daemon on an opened site. */
export async function startDaemon(site: Site, options: { listen?: string } = {}): Promise<Daemon> {
  const { config, logger } = site;
  const log = logger.child({ stage: 'daemon' });
  // the HTTP token first: a bad token file is a config error before anything is locked
  const token = config.http.enabled ? await readHttpToken(config.http) : undefined;
  if (config.http.enabled) warnIfUnguarded(options.listen ?? config.http.listen, token, log);
  // single writer: the file lock unless a Lease elects the writer
  const lock: StateLock | undefined = config.leaderElection.enabled ? undefined : await acquireStateLock(config.state.lockFile, 'courier daemon');
  if (lock?.tookOverFrom) log.warn({ holder: lock.tookOverFrom }, 'took over a stale lock left by a dead process');

  const metrics = createMetrics();
  const status = await StatusRecorder.open(config.state.statusFile, { errorAfter: config.reconcile.errorAfter });
  const listeners = new Set<() => void>();
  const notify = () => listeners.forEach((l) => l());
  const writeBack = await createStatusWriteBack(config, logger);
  let desired: Desired | undefined;
  // while suspended: what holds the nodes, and the registry changes waiting in the source
  let hold: { suspension: Suspension; waiting: WaitingChanges } | undefined;
  let registry = { valid: true as boolean, error: undefined as string | undefined };
  let firstReconcile = false;
  let leading = !config.leaderElection.enabled;
  let watcher: SourceWatcher | undefined;
  let timer: NodeJS.Timeout | undefined;
  let stopping = false;
  let endpoint: { remove(): Promise<void> } | undefined;
  let sessions = 0;

  const transport = daemonTransport(site);
  // warm: one open agent session per node (the pool exists while this process leads); cold: an exec per sync
  const warm = config.ssh.sessions === 'warm';
  let pool: SessionPool | undefined;
  const exchange = daemonExchange(site, transport, () => pool);

  const scheduler = new NodeScheduler(
    {
      current: () => desired,
      sync: async (node, revision, reason) => {
        const cached = desired?.revision === revision ? desired.artifacts.get(node.name) : undefined;
        // a node the revision does not render (rolled back to before it existed) gets its artifacts removed
        const state = cached ? { revision, artifacts: cached } : () => readNodeState(site, revision, node.name, true);
        metrics.setSessionsInFlight(++sessions);
        try {
          // drift checks and reconciles hash every target; a registry change may trust the agent's cache
          const cached = !HASHING_REASONS.some((r) => reason.includes(r));
          return await syncNode(site, node, state, 'push', exchange, { retries: 0, retryDelay: config.reconcile.retryDelay, drift: config.reconcile.drift, cached });
        } finally {
          metrics.setSessionsInFlight(--sessions);
        }
      },
      onReport: async (report, reason) => {
        metrics.recordSync(report, 'push');
        const next = await status.record({ name: report.node, role: report.role }, reportToOutcome(report));
        metrics.setNodeStatus(next);
        logReport(report, reason);
        writeBack.schedule(status.doc);
        notify();
      },
    },
    // warm: an unreachable node is caught up by its session's re-dial, not by scheduler retries;
    // its rounds run on every open session at once (the pool bounds dials by ssh.concurrency)
    { concurrency: warm ? Number.POSITIVE_INFINITY : config.ssh.concurrency, retryDelayMs: config.reconcile.retryDelay, intervalMs: config.reconcile.interval, retryUnreachable: !warm },
  );

  /** The warm session pool: a drop marks the node pending at once; a return catches it up. */
  function openPool(): SessionPool {
    const warmOptions = { transport, removeLegacy: config.hosts.removeLegacy, roundTimeout: config.ssh.sessionTimeout };
    const opened: SessionPool = new SessionPool(
      (node) => openWarmSession(node, site.agentScript, { ...warmOptions, transport: { ...transport, knownHosts: undefined } }),
      { concurrency: config.ssh.concurrency, redialMinMs: 250, redialMaxMs: config.ssh.redialMax, refusedRedialMs: config.reconcile.interval },
      {
        onUp: (node, { redial }) => {
          metrics.setSessionsOpen(opened.openCount());
          log.child({ node: node.name, stage: 'transport' }).info({ redial }, 'agent session open');
          if (redial) void scheduler.request([node.name], 'session re-opened');
        },
        onDown: (node, error, { retryInMs }) => void onSessionDown(opened, node, error, retryInMs),
      },
    );
    return opened;
  }

  async function onSessionDown(from: SessionPool, node: Node, error: CourierError, retryInMs: number): Promise<void> {
    metrics.setSessionsOpen(from.openCount());
    log.child({ node: node.name, stage: 'transport' }).warn({ code: error.code, error: error.message, retryInMs }, 'agent session down; dialing again');
    if (stopping || !leading) return;
    const next = await status.record({ name: node.name, role: node.role }, { ok: false, error: { code: error.code, message: error.message } });
    metrics.setNodeStatus(next);
    writeBack.schedule(status.doc);
    notify();
  }

  const logReport = (report: NodeSyncReport, reason: string) => logSyncReport(log, report, reason, config.reconcile.drift);

  // Renders run one at a time; changes that arrive while one runs share the next one.
  const { refresh, exclusive } = createRenderQueue((trigger) => renderOnce(trigger));

  /** Suspended: hold the nodes on main with its own node list; validate the source and list what waits. Returns the nodes to push. */
  async function holdPinned(suspension: Suspension): Promise<string[]> {
    const pinned = await loadPinnedState(site, readSnapshot);
    const moved = desired?.revision !== pinned.revision;
    desired = { revision: pinned.revision, nodes: pinned.nodes, artifacts: new Map() };
    hold = { suspension, waiting: pinned.waiting };
    registry = { valid: pinned.waiting.valid, error: pinned.waiting.error };
    metrics.setSuspended(true);
    metrics.setRegistryValid(pinned.waiting.valid);
    metrics.setRevision(pinned.revision);
    status.prune(new Set(pinned.nodes.keys()));
    scheduler.prune(new Set(pinned.nodes.keys()));
    pool?.setNodes([...pinned.nodes.values()]);
    notify();
    return moved ? [...pinned.nodes.keys()] : [];
  }

  /** The source's documents now, through the running watcher (or a one-off reader before it starts). */
  const readSnapshot = () => readSourceNow(config, watcher);

  /** source → registry → render → store; returns the nodes whose artifacts changed. */
  async function renderOnce(trigger: string): Promise<string[]> {
    try {
      // suspended (rollback or suspend, by any replica or command): nothing is rendered from the source
      const suspension = await readSuspension(site.store);
      if (suspension) return await holdPinned(suspension);
      if (hold) metrics.setSuspended(false);
      hold = undefined;
      const snapshot = await readSnapshot();
      // the trigger names the source changes behind the documents that changed, not every event of the window
      const outcome = await renderRevision(site, { snapshot, trigger, nameReason: 'fallback' });
      const nodes = new Map(outcome.registry.nodes.map((n) => [n.name, n]));
      desired = { revision: outcome.commit.revision, nodes, artifacts: new Map(outcome.rendered.nodes.map((r) => [r.node.name, r.artifacts])) };
      registry = { valid: true, error: undefined };
      metrics.setRegistryValid(true);
      metrics.setRevision(outcome.commit.revision);
      status.prune(new Set(nodes.keys()));
      scheduler.prune(new Set(nodes.keys()));
      pool?.setNodes([...nodes.values()]);
      for (const c of outcome.commit.changes) if (c.status === 'removed') metrics.forgetNode(c.node);
      notify();
      return outcome.commit.committed ? outcome.commit.changes.filter((c) => c.status !== 'removed').map((c) => c.node) : [];
    } catch (err) {
      // invalid registry or unreadable source: the last good revision stays in force, nothing is pushed
      registry = { valid: false, error: isCourierError(err) ? err.message : String(err) };
      metrics.setRegistryValid(false);
      log.error({ stage: 'registry', trigger, err: isCourierError(err) ? { code: err.code, message: err.message } : err }, 'registry not applied; keeping the last good revision');
      notify();
      return [];
    }
  }

  async function onChange(trigger: string): Promise<void> {
    if (stopping || !leading) return;
    metrics.recordWatchEvent(config.source.type);
    const changed = await refresh(trigger);
    // push only to the nodes whose artifacts changed
    if (changed.length) await scheduler.request(changed, trigger);
  }

  async function reconcile(trigger: string): Promise<void> {
    if (stopping || !leading) return;
    metrics.recordReconcile(trigger);
    await refresh(trigger);
    pool?.redialDown();
    // verify every node; the exchange pushes what any node is missing (or only reports drift under `warn`)
    await scheduler.request(undefined, trigger);
    firstReconcile = true;
    notify();
  }

  // drift checks: one round per open session on their own short interval (warm only)
  let driftTimer: NodeJS.Timeout | undefined;
  function scheduleDriftChecks(): void {
    clearInterval(driftTimer);
    if (!warm) return;
    driftTimer = setInterval(() => {
      if (stopping || !leading || !pool || !desired) return;
      const open = [...desired.nodes.keys()].filter((name) => pool!.isOpen(name));
      void scheduler.request(open, 'drift check');
    }, config.reconcile.driftInterval);
    driftTimer.unref?.();
  }

  function scheduleReconcile(): void {
    clearTimeout(timer);
    timer = setTimeout(() => {
      void reconcile('periodic reconcile').finally(() => !stopping && leading && scheduleReconcile());
    }, config.reconcile.interval);
    timer.unref?.();
  }

  let readyResolve: () => void = () => undefined;
  const ready = new Promise<void>((r) => (readyResolve = r));

  async function lead(): Promise<void> {
    leading = true;
    metrics.setLeader(true);
    scheduler.resume();
    if (warm) pool = openPool();
    // where commands on this host find the writer's API (its port may have been picked by the system)
    if (http && !endpoint) endpoint = await writeDaemonEndpoint(config.state.dir, http.url);
    watcher = await createSourceWatcher(config);
    await reconcile('startup');
    readyResolve();
    await watcher.start(
      (trigger) => void onChange(trigger),
      (err) => log.warn({ stage: 'source', err: { code: err.code, message: err.message } }, 'source watch error; retrying'),
    );
    scheduleReconcile();
    scheduleDriftChecks();
  }

  async function follow(): Promise<void> {
    leading = false;
    metrics.setLeader(false);
    // stop pushing before the lease can expire; in-flight sessions finish
    scheduler.pause();
    clearTimeout(timer);
    clearInterval(driftTimer);
    await watcher?.close();
    watcher = undefined;
    const closing = pool;
    pool = undefined;
    await closing?.close();
    metrics.setSessionsOpen(0);
  }

  const http: HttpServer | undefined = config.http.enabled
    ? await startHttpServer({
        listen: options.listen ?? config.http.listen,
        token,
        protectMetrics: config.http.protectMetrics,
        metrics,
        getStatus: async () => ({
          ...buildStatusView([...(desired?.nodes.values() ?? [])], status.doc, desired?.revision, registry),
          suspension: hold?.suspension ?? null,
          waiting: hold?.waiting ?? null,
        }),
        getRevision: (spec) => showRevision(site.store, spec),
        getNode: async (name) => {
          const node = desired?.nodes.get(name);
          return node && desired ? readNodePage(site.store, node, desired.revision, status.doc.nodes[name]) : undefined;
        },
        onSuspension: createSuspensionApi({
          site,
          leading: () => leading && !stopping,
          exclusive,
          rerender: renderOnce,
          readSnapshot,
          syncAll: (reason) => scheduler.request(undefined, reason),
          nodes: async () => buildStatusView([...(desired?.nodes.values() ?? [])], status.doc, desired?.revision, registry).nodes,
        }),
        getRevisions: async (limit) => (await listRevisions(site.store, { limit }).catch(() => [])).map((r) => ({ revision: r.revision, time: r.time, trigger: r.trigger, nodes: r.nodes })),
        isReady: () =>
          !leading ? { ready: false, reason: 'not the leader' } : !firstReconcile ? { ready: false, reason: 'first reconcile not finished' } : !registry.valid ? { ready: false, reason: 'registry invalid' } : { ready: true },
        onSync: (request) => delegatedSync(request),
        onReconcile: async () => {
          if (!leading) return { accepted: false, reason: 'not the leader' };
          void reconcile('manual reconcile');
          return { accepted: true };
        },
        subscribe: (listener) => {
          listeners.add(listener);
          return () => listeners.delete(listener);
        },
      })
    : undefined;
  if (http) {
    log.info({ url: http.url }, 'http listening');
  }

  /** `courier push` / `verify` / `plan --live` asked over the API: the same exchange, over our sessions. */
  function delegatedSync(request: SyncRequest): Promise<{ status: number; body: unknown }> {
    return runDelegatedSync(
      {
        site,
        exchange,
        canAct: () => leading && !stopping,
        refresh,
        desired: () => desired,
        registryError: () => (registry.valid ? undefined : (registry.error ?? 'registry invalid')),
        record: async (report, mode) => {
          metrics.recordSync(report, mode);
          metrics.setNodeStatus(await status.record({ name: report.node, role: report.role }, reportToOutcome(report)));
          logReport(report, `${mode} (via the daemon)`);
        },
        recorded: () => {
          writeBack.schedule(status.doc);
          notify();
        },
      },
      request,
    );
  }

  let leadership: Leadership | undefined;
  if (config.leaderElection.enabled) {
    metrics.setLeader(false);
    const { startLeadership } = await import('./start-leadership.js');
    leadership = await startLeadership(config, `${os.hostname()}-${process.pid}`, {
      onStartedLeading: () => void lead().catch((err) => log.error({ err }, 'cannot start leading')),
      onStoppedLeading: () => void follow(),
      onError: (err) => log.warn({ stage: 'leader', err: { message: err.message } }, 'lease request failed; retrying'),
    });
    readyResolve();
  } else {
    // desired revision known from the store before the first render finishes (for /api/status)
    const main = await resolveRevision(site.store, 'main').catch(() => undefined);
    if (main) metrics.setRevision(main);
    await lead();
  }

  return {
    ready,
    url: http?.url,
    metrics,
    reconcile,
    async stop() {
      stopping = true;
      clearTimeout(timer);
      clearInterval(driftTimer);
      await watcher?.close();
      await leadership?.stop();
      const finished = await scheduler.stop(config.reconcile.shutdownGrace);
      // goodbye to every agent session
      await pool?.close();
      pool = undefined;
      await status.flush(desired?.revision);
      await writeBack.flush();
      await http?.close();
      await endpoint?.remove();
      await lock?.release();
      log.info({ finished }, 'daemon stopped');
      return finished;
    },
  };
}
