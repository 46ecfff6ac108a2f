/**
 * Schedules node syncs for the daemon: at most `concurrency` sessions at once, at most one per
 * node (a request for a node that is syncing runs once more afterwards, at the then-current
 * revision), and per-node retries with exponential backoff and jitter for nodes that could not be
 * reached, capped at the reconcile interval.
 */
import pLimit from 'p-limit';
import type { Node } from '../registry/model.js';
import type { NodeSyncReport } from '../pipeline/sync-node.js';
import { computeBackoff } from './compute-backoff.js';

/** What the scheduler needs from the daemon. */
export interface SchedulerHooks {
  /** The desired revision and the nodes of the current registry. */
  current: () => { revision: string; nodes: ReadonlyMap<string, Node> } | undefined;
  /** Run one sync session for a node at a revision; `reason` says what asked for it. */
  sync: (node: Node, revision: string, reason: string) => Promise<NodeSyncReport>;
  /** Called with every finished session (status, metrics, logs). */
  onReport: (report: NodeSyncReport, reason: string) => Promise<void> | void;
}

interface NodeState {
  running?: Promise<void>;
  again?: string;
  failures: number;
  timer?: NodeJS.Timeout;
}

/** Per-node sync scheduling with bounded concurrency and backoff. */
export class NodeScheduler {
  private readonly nodes = new Map<string, NodeState>();
  private readonly limit: ReturnType<typeof pLimit>;
  private stopped = false;
  private paused = false;

  constructor(
    private readonly hooks: SchedulerHooks,
    private readonly options: { concurrency: number; retryDelayMs: number; intervalMs: number; random?: () => number; retryUnreachable?: boolean },
  ) {
    this.limit = pLimit(options.concurrency);
  }

  /** Ask for a sync of these nodes (all nodes when `names` is undefined); resolves when the sessions it started finished. */
  request(names: Iterable<string> | undefined, reason: string): Promise<void> {
    const current = this.hooks.current();
    if (!current || this.stopped || this.paused) return Promise.resolve();
    const list = names === undefined ? [...current.nodes.keys()] : [...names].filter((n) => current.nodes.has(n));
    return Promise.all(list.map((name) => this.requestOne(name, reason))).then(() => undefined);
  }

  /** Stop acting (leadership lost): no new sessions; in-flight ones finish. */
  pause(): void {
    this.paused = true;
    for (const state of this.nodes.values()) clearTimeout(state.timer);
  }

  /** Resume after pause. */
  resume(): void {
    this.paused = false;
  }

  /** Sessions in flight. */
  inFlight(): number {
    return [...this.nodes.values()].filter((s) => s.running).length;
  }

  /** Stop scheduling and wait (at most `graceMs`) for in-flight sessions; resolves true when all finished. */
  async stop(graceMs: number): Promise<boolean> {
    this.stopped = true;
    for (const state of this.nodes.values()) clearTimeout(state.timer);
    const running = [...this.nodes.values()].map((s) => s.running).filter(Boolean) as Promise<void>[];
    let timer: NodeJS.Timeout | undefined;
    const finished = await Promise.race([
      Promise.all(running).then(() => true),
      new Promise<boolean>((resolve) => (timer = setTimeout(resolve, graceMs, false))),
    ]);
    clearTimeout(timer);
    return finished;
  }

  /** Forget nodes that left the registry. */
  prune(present: ReadonlySet<string>): void {
    for (const [name, state] of this.nodes) {
      if (!present.has(name) && !state.running) {
        clearTimeout(state.timer);
        this.nodes.delete(name);
      }
    }
  }

  private state(name: string): NodeState {
    let s = this.nodes.get(name);
    if (!s) this.nodes.set(name, (s = { failures: 0 }));
    return s;
  }

  private requestOne(name: string, reason: string): Promise<void> {
    const state = this.state(name);
    clearTimeout(state.timer);
    state.timer = undefined;
    if (state.running) {
      // coalesce: one more session after this one, at whatever revision is current then
      state.again = reason;
      return state.running;
    }
    state.running = this.runOne(name, reason).finally(() => {
      state.running = undefined;
      const again = state.again;
      state.again = undefined;
      if (again && !this.stopped && !this.paused) void this.requestOne(name, again);
    });
    return state.running;
  }

  private async runOne(name: string, reason: string): Promise<void> {
    // the concurrency bound covers the session itself (at the revision current when its slot comes
    // up); recording its report (a status write) does not hold a slot another node could use
    const report = await this.limit(() => {
      const current = this.hooks.current();
      const node = current?.nodes.get(name);
      if (!current || !node || this.stopped || this.paused) return undefined;
      return this.hooks.sync(node, current.revision, reason);
    });
    if (report === undefined) return;
    const state = this.state(name);
    if (report.status === 'converged') state.failures = 0;
    else state.failures++;
    await this.hooks.onReport(report, reason);
    // unreachable or failed nodes retry with backoff; drift under `warn` and refused host keys wait for the next reconcile
    const retry = (report.status === 'unreachable' && this.options.retryUnreachable !== false) || (report.status === 'failed' && report.error?.code === 'AGENT_FAILED');
    if (retry && !this.stopped && !this.paused) {
      const delay = computeBackoff(state.failures, { baseMs: this.options.retryDelayMs, capMs: this.options.intervalMs, random: (this.options.random ?? Math.random)() });
      state.timer = setTimeout(() => void this.requestOne(name, 'retry'), delay);
      state.timer.unref?.();
    }
  }
}
