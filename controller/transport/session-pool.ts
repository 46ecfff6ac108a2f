/**
 * The daemon's warm sessions: one per node, opened at start (at most `concurrency` dials at once),
 * re-dialed with exponential backoff and jitter when one drops or a dial fails, and replaced when a
 * node's connection settings change. The daemon asks for a round on a node and learns when a node
 * goes down or comes back; it never sees ssh2, keepalives or re-dials. The host key is checked on
 * every dial (known_hosts is read again when it changed).
 */
import pLimit from 'p-limit';
import { CourierError, isCourierError } from '../errors.js';
import { computeBackoff } from '../daemon/compute-backoff.js';
import type { Want } from '../plan/plan-sync.js';
import type { Node } from '../registry/model.js';
import type { DecideOps } from './agent-round.js';
import type { ExchangeResult } from './agent-session.js';
import type { RoundOptions, WarmSession } from './warm-session.js';

/** What the pool tells its owner. */
export interface SessionPoolEvents {
  /** A session to `node` opened; `redial` is false for the first successful dial of this node. */
  onUp(node: Node, info: { redial: boolean }): void;
  /** A session dropped outside a round, or a dial failed; the pool dials again after `retryInMs`. */
  onDown(node: Node, error: CourierError, info: { retryInMs: number }): void;
}

/** Pool tuning: dial concurrency and the re-dial backoff. */
export interface SessionPoolOptions {
  concurrency: number;
  /** First re-dial delay (doubling per failed attempt, ±50% jitter). */
  redialMinMs: number;
  /** Longest re-dial delay for nodes that may come back by themselves (unreachable, dropped). */
  redialMaxMs: number;
  /** Re-dial delay after a refusal a retry cannot fix (host key, authentication): until the operator acts or a reconcile asks. */
  refusedRedialMs: number;
  random?: () => number;
}

interface Entry {
  node: Node;
  key: string;
  session?: WarmSession;
  dialing?: Promise<WarmSession | undefined>;
  timer?: NodeJS.Timeout;
  failures: number;
  everOpened: boolean;
  lastError?: CourierError;
  removed: boolean;
}

/** One warm session per node, kept open. */
export class SessionPool {
  private readonly entries = new Map<string, Entry>();
  private readonly limit: ReturnType<typeof pLimit>;
  private closed = false;

  constructor(
    private readonly open: (node: Node) => Promise<WarmSession>,
    private readonly options: SessionPoolOptions,
    private readonly events: SessionPoolEvents,
  ) {
    this.limit = pLimit(options.concurrency);
  }

  /** Make the pool hold sessions to exactly these nodes: dial new ones, replace changed ones, close removed ones. */
  setNodes(nodes: readonly Node[]): void {
    if (this.closed) return;
    const wanted = new Map(nodes.map((n) => [n.name, n]));
    for (const [name, entry] of this.entries) {
      const node = wanted.get(name);
      if (!node || connectionKey(node) !== entry.key) this.drop(entry);
    }
    for (const node of nodes) {
      const entry = this.entries.get(node.name);
      if (entry) {
        entry.node = node;
        continue;
      }
      const fresh: Entry = { node, key: connectionKey(node), failures: 0, everOpened: false, removed: false };
      this.entries.set(node.name, fresh);
      this.dial(fresh);
    }
  }

  /** Run one round on the node's session, waiting for a dial in flight. Rejects retryable when there is no session. */
  async round(name: string, wants: readonly Want[], decide: DecideOps, options: RoundOptions = {}): Promise<ExchangeResult> {
    const entry = this.entries.get(name);
    if (!entry) throw new CourierError('CONNECTION_LOST', `${name}: no session (the node is not in the pool)`, { node: name }, { retryable: true });
    const session = entry.session?.isOpen() ? entry.session : await entry.dialing;
    if (!session?.isOpen()) {
      throw entry.lastError ?? new CourierError('CONNECTION_LOST', `${name}: no open session to the node; it is dialed again`, { node: name }, { retryable: true });
    }
    return session.round(wants, decide, options);
  }

  /** Dial now every node without an open session (a reconcile, or the operator after fixing a host key). */
  redialDown(): void {
    for (const entry of this.entries.values()) {
      if (entry.session?.isOpen() || entry.dialing) continue;
      clearTimeout(entry.timer);
      this.dial(entry);
    }
  }

  /** Whether the node has an open session now. */
  isOpen(name: string): boolean {
    return this.entries.get(name)?.session?.isOpen() === true;
  }

  /** Sessions open now. */
  openCount(): number {
    let n = 0;
    for (const entry of this.entries.values()) if (entry.session?.isOpen()) n++;
    return n;
  }

  /** Close every session (goodbye to each agent) and dial no more. */
  async close(graceMs = 2000): Promise<void> {
    this.closed = true;
    const closing: Promise<void>[] = [];
    for (const entry of this.entries.values()) {
      entry.removed = true;
      clearTimeout(entry.timer);
      if (entry.session) closing.push(entry.session.close(graceMs));
      else if (entry.dialing) closing.push(entry.dialing.then((s) => s?.close(graceMs)));
    }
    this.entries.clear();
    await Promise.all(closing);
  }

  private drop(entry: Entry): void {
    entry.removed = true;
    clearTimeout(entry.timer);
    this.entries.delete(entry.node.name);
    void entry.session?.close();
    void entry.dialing?.then((s) => s?.close());
  }

  private dial(entry: Entry): void {
    entry.timer = undefined;
    entry.dialing = this.limit(async () => {
      if (entry.removed || this.closed) return undefined;
      try {
        return await this.open(entry.node);
      } catch (err) {
        entry.lastError = isCourierError(err) ? err : new CourierError('CONNECTION_LOST', `${entry.node.name}: ${(err as Error).message}`, { node: entry.node.name }, { cause: err, retryable: true });
        return undefined;
      }
    }).then((session) => {
      entry.dialing = undefined;
      if (entry.removed || this.closed) {
        void session?.close();
        return undefined;
      }
      if (!session) {
        entry.failures++;
        this.events.onDown(entry.node, entry.lastError!, { retryInMs: this.scheduleRedial(entry) });
        return undefined;
      }
      // a node that was down (or dropped) before is coming back: the owner catches it up
      const redial = entry.everOpened || entry.failures > 0;
      entry.session = session;
      entry.failures = 0;
      entry.lastError = undefined;
      entry.everOpened = true;
      void session.ended.then((why) => this.onEnded(entry, session, why));
      this.events.onUp(entry.node, { redial });
      return session;
    });
  }

  private onEnded(entry: Entry, session: WarmSession, why: CourierError | undefined): void {
    if (entry.session !== session) return;
    entry.session = undefined;
    if (entry.removed || this.closed || !why) return;
    entry.lastError = why;
    entry.failures++;
    entry.everOpened = true;
    // a round in flight reports the drop itself; only a silent drop is news
    const retryInMs = this.scheduleRedial(entry);
    if (!session.endedDuringRound()) this.events.onDown(entry.node, why, { retryInMs });
  }

  private scheduleRedial(entry: Entry): number {
    const refused = entry.lastError !== undefined && !entry.lastError.retryable;
    const delay = refused
      ? this.options.refusedRedialMs
      : computeBackoff(entry.failures, { baseMs: this.options.redialMinMs, capMs: this.options.redialMaxMs, random: (this.options.random ?? Math.random)() });
    entry.timer = setTimeout(() => this.dial(entry), delay);
    entry.timer.unref?.();
    return delay;
  }
}

/** What identifies a node's connection: a change to any of these needs a new session. */
function connectionKey(node: Node): string {
  return JSON.stringify([node.transport, node.ip, node.sshPort, node.sshUser, node.sudo, node.root ?? '']);
}
