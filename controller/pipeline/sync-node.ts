/**
 * Orchestration for one node: plan → transport → verify. One exchange (cold or warm); only the
 * artifacts whose oid differs travel; the node counts as converged only when the oids it reports
 * (haves, then the agent's re-hash after each write) equal the wants.
 */
import { CourierError, isCourierError } from '../errors.js';
import { findDrift, findHandEdits, planOps, planWants, wantKey, type Drift, type Have, type SyncOp } from '../plan/plan-sync.js';
import type { Node, NodeRole } from '../registry/model.js';
import type { Artifact } from '../render/model.js';
import { readArtifact, readManifest } from '../store/read-revision.js';
import { readNodeRef, setNodeRef } from '../store/node-refs.js';
import type { ExchangeResult } from '../transport/agent-session.js';
import type { NodeExchange } from '../transport/node-exchange.js';
import type { Site } from './open-site.js';
import type { SyncOutcome } from '../status/next-node-status.js';

/** What an exchange is for: `push` sends what is missing, `verify` and `dry-run` only read. */
export type SyncMode = 'push' | 'verify' | 'dry-run';

/** The result for one node, as printed by push/verify (`--json` gives exactly this). */
export interface NodeSyncReport {
  node: string;
  role: NodeRole;
  /** `pending`: a dry run found changes to make (nothing was written). */
  status: 'converged' | 'pending' | 'drifted' | 'unreachable' | 'failed';
  revision: string;
  /** Artifacts sent or removed (push), or that would be (dry-run, verify). */
  changed: string[];
  bytesSent: number;
  durationMs: number;
  attempts: number;
  drift?: Drift[];
  /** Artifacts changed on the node since it was last verified (hand edits), healed or not. */
  handEdits?: Drift[];
  oids?: Record<string, string>;
  agent?: { version: string; hostname: string };
  error?: { code: string; message: string; retryable: boolean };
}

/** What a node should hold: the manifest at a revision, with content when it is to be sent. */
export interface DesiredState {
  /** The revision the manifest comes from (undefined for a plan rendered but not committed). */
  revision?: string;
  artifacts: Artifact[];
  /** The node has no subtree at the revision (rolled back to before it existed): its artifacts are removed and its verified ref stays. */
  absent?: boolean;
}

/** The desired state of a node from the store (content read only for a push). */
export async function readDesiredState(site: Site, revision: string, node: string, withContent: boolean): Promise<DesiredState> {
  const manifest = await readManifest(site.store, revision, node);
  if (!manifest) throw new CourierError('NODE_NOT_FOUND', `node ${node} has no artifacts at revision ${revision.slice(0, 12)}`, { node, revision });
  const artifacts = await Promise.all(
    manifest.artifacts.map(async (entry) => ({ ...entry, content: withContent ? ((await readArtifact(site.store, revision, node, entry.name)) ?? '') : '' })),
  );
  return { revision, artifacts };
}

/** Like readDesiredState, but a node the revision does not render (a rollback to before it existed) wants nothing at all. */
export async function readNodeState(site: Site, revision: string, node: string, withContent: boolean): Promise<DesiredState> {
  const manifest = await readManifest(site.store, revision, node);
  if (!manifest) return { revision, artifacts: [], absent: true };
  return readDesiredState(site, revision, node, withContent);
}

/** Drift policy: `heal` overwrites hand edits, `warn` leaves a drifted node untouched and reports it. */
export type DriftPolicy = 'heal' | 'warn';

/** Sync one node once (no retries). Throws only for errors before the exchange could be judged. */
export async function syncNodeOnce(
  site: Site,
  node: Node,
  desired: DesiredState,
  mode: SyncMode,
  exchangeWith: NodeExchange,
  driftPolicy: DriftPolicy = 'heal',
  cached = false,
): Promise<Omit<NodeSyncReport, 'durationMs' | 'attempts'>> {
  // plan inputs: the desired artifacts, and the last verified manifest for removals
  const revision = desired.revision ?? '';
  const verifiedAt = await readNodeRef(site.store, node.name);
  const previous = verifiedAt && verifiedAt !== revision ? await readManifest(site.store, verifiedAt, node.name) : undefined;
  const wants = planWants(desired.artifacts, previous?.artifacts);
  const artifacts = desired.artifacts;
  // what the node should hold if nobody touched it since it was last verified
  const verifiedOids = verifiedAt ? new Map((verifiedAt === revision ? desired.artifacts : (previous?.artifacts ?? [])).map((a) => [wantKey(a), a.oid])) : undefined;

  // transport: one exchange (a cold exec or a round on a warm session); read-only modes never write
  let planned: SyncOp[] = [];
  let handEdits: Drift[] = [];
  const exchange: ExchangeResult = await exchangeWith(node, mode === 'push' ? 'sync' : 'verify', wants, decideOps, { cached });
  function decideOps(haves: Have[]): SyncOp[] {
    planned = planOps(wants, haves, artifacts);
    handEdits = verifiedOids ? findHandEdits(wants, haves, verifiedOids) : [];
    if (mode !== 'push' || (driftPolicy === 'warn' && handEdits.length > 0)) return [];
    return planned;
  }

  // verify: what the node holds now (haves, overlaid with the re-hash of every write)
  const found = new Map(exchange.haves.map((h) => [wantKey(h), h.oid]));
  exchange.results.forEach((r, i) => {
    const op = exchange.ops[i]!;
    if (r.ok) found.set(wantKey(op.want), r.oid);
  });
  const drift = findDrift(wants, found);
  const oids = Object.fromEntries(found);
  const failed = exchange.results.filter((r) => !r.ok);
  const base = {
    node: node.name,
    role: node.role,
    revision,
    changed: planned.map((op) => op.want.name),
    handEdits,
    bytesSent: exchange.bytesSent,
    oids,
    agent: { version: exchange.agentVersion, hostname: exchange.hostname },
  };
  if (failed.length > 0) {
    const message = failed.map((r) => (r.ok ? '' : `${r.path}: ${r.code} ${r.message}`)).join('; ');
    return { ...base, status: 'failed', drift, error: { code: 'AGENT_FAILED', message, retryable: false } };
  }
  if (drift.length > 0 && mode === 'dry-run') return { ...base, status: 'pending', drift };
  if (drift.length > 0) {
    const message = `${drift.map((d) => `${d.name} (${d.path})`).join(', ')} differ${drift.length === 1 ? 's' : ''} from revision ${revision.slice(0, 12)}`;
    return { ...base, status: 'drifted', drift, error: { code: 'DRIFTED', message, retryable: false } };
  }
  // converged and proven by the node's own hashes: record where it was verified
  if (mode !== 'dry-run' && desired.revision && !desired.absent) await setNodeRef(site.store, node.name, desired.revision);
  return { ...base, status: 'converged', drift: [] };
}

/** Sync one node with retries for retryable failures (unreachable, timeout, connection lost), exponential backoff with jitter. */
export async function syncNode(
  site: Site,
  node: Node,
  desired: DesiredState | (() => Promise<DesiredState>),
  mode: SyncMode,
  exchangeWith: NodeExchange,
  options: {
    retries: number;
    retryDelay: number;
    drift?: DriftPolicy;
    revision?: string;
    random?: () => number;
    sleep?: (ms: number) => Promise<void>;
    /** A registry-change sync: a warm agent may answer haves from its serve cache. */
    cached?: boolean;
  },
): Promise<NodeSyncReport> {
  const started = performance.now();
  const random = options.random ?? Math.random;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  for (let attempt = 1; ; attempt++) {
    try {
      const state = typeof desired === 'function' ? await desired() : desired;
      const report = await syncNodeOnce(site, node, state, mode, exchangeWith, options.drift, options.cached);
      return { ...report, attempts: attempt, durationMs: Math.round(performance.now() - started) };
    } catch (err) {
      const wrapped = isCourierError(err) ? err : new CourierError('AGENT_PROTOCOL', `unexpected failure: ${(err as Error).message}`, {}, { cause: err });
      if (wrapped.retryable && attempt <= options.retries) {
        // doubling delay with ±50% jitter so failing nodes don't retry in lockstep
        await sleep(options.retryDelay * 2 ** (attempt - 1) * (0.5 + random()));
        continue;
      }
      return {
        node: node.name,
        role: node.role,
        revision: typeof desired === 'function' ? (options.revision ?? '') : (desired.revision ?? ''),
        status: wrapped.retryable ? 'unreachable' : 'failed',
        changed: [],
        bytesSent: 0,
        attempts: attempt,
        durationMs: Math.round(performance.now() - started),
        error: { code: wrapped.code, message: wrapped.message, retryable: wrapped.retryable },
      };
    }
  }
}

/** The status outcome a report stands for: converged → success, anything else → a failure with its reason. */
export function reportToOutcome(report: NodeSyncReport): SyncOutcome {
  if (report.status === 'converged') return { ok: true, revision: report.revision, oids: report.oids ?? {}, agent: report.agent };
  return {
    ok: false,
    error: { code: report.error?.code ?? 'AGENT_FAILED', message: report.error?.message ?? report.status },
    oids: report.oids,
    drift: report.drift,
    agent: report.agent,
  };
}
