/**
 * The daemon's side of `POST /api/suspend`, `/api/resume` and `/api/rollback`: check the request,
 * run the action serialized with the daemon's renders, then let the scheduler bring every node to
 * the new desired revision and answer with where they ended up.
 */
import { CourierError } from '../errors.js';
import type { SuspensionAction } from '../http/start-http-server.js';
import type { Site } from '../pipeline/open-site.js';
import { resumeSite, rollbackSite, suspendSite, type Requester } from '../pipeline/suspend-site.js';
import type { RegistrySnapshot } from '../registry/model.js';
import type { NodeStatusView } from '../status/build-status-view.js';

/** What the API needs from the daemon. */
export interface SuspensionApiDeps {
  site: Site;
  leading: () => boolean;
  /** Run `task` after every render queued before it, and before any queued after it. */
  exclusive: <T>(task: () => Promise<T>) => Promise<T>;
  /** One render (or, while suspended, re-pin) inside the exclusive section. */
  rerender: (reason: string) => Promise<unknown>;
  readSnapshot: () => Promise<RegistrySnapshot>;
  /** Verify every node and push what it misses; resolves when the sessions finished. */
  syncAll: (reason: string) => Promise<void>;
  /** The nodes' status rows now. */
  nodes: () => Promise<NodeStatusView[]>;
}

function requester(body: Record<string, unknown>, client: string): Requester {
  // the CLI says so; anything else (a browser on the page) is the dashboard
  if (body.by === 'command') return { by: 'command', actor: typeof body.actor === 'string' ? body.actor.slice(0, 200) : `command via ${client}` };
  return { by: 'dashboard', actor: `dashboard ${client}` };
}

function optionalString(body: Record<string, unknown>, key: string): string | undefined {
  const value = body[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw new CourierError('USAGE', `"${key}" must be a string`, { key });
  return value;
}

function nodeList(body: Record<string, unknown>): string[] | undefined {
  const value = body.nodes;
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value) || !value.every((n) => typeof n === 'string')) throw new CourierError('USAGE', '"nodes" must be an array of node names', {});
  return value as string[];
}

/** The handler for the server's `onSuspension`. */
export function createSuspensionApi(deps: SuspensionApiDeps) {
  const short = (nodes: NodeStatusView[]) => nodes.map((n) => ({ node: n.node, role: n.role, status: n.status, revision: n.revision, current: n.current, last_error: n.last_error }));
  return async (action: SuspensionAction, body: Record<string, unknown>, client: string): Promise<{ status: number; body: unknown }> => {
    if (!deps.leading()) throw new CourierError('LOCKED', 'this replica is not the leader; ask the one holding the Lease', {});
    const who = requester(body, client);
    if (action === 'suspend') {
      const reason = optionalString(body, 'reason');
      const result = await deps.exclusive(async () => {
        const done = await suspendSite(deps.site, { ...who, reason });
        await deps.rerender('suspend');
        return done;
      });
      return { status: 200, body: result };
    }
    if (action === 'rollback') {
      const target = optionalString(body, 'revision');
      if (target === undefined || target.trim() === '') throw new CourierError('USAGE', '"revision" is required: the revision to roll back to', {});
      const nodes = nodeList(body);
      const reason = optionalString(body, 'reason');
      const { rollback, suspension } = await deps.exclusive(async () => {
        const done = await rollbackSite(deps.site, { ...who, target, nodes, reason });
        await deps.rerender('rollback');
        return done;
      });
      await deps.syncAll('rollback');
      const { revision, committed, changes, trigger } = rollback;
      return { status: 200, body: { revision, target: rollback.target, committed, trigger, changes, suspension, nodes: short(await deps.nodes()) } };
    }
    const { outcome, was } = await deps.exclusive(async () => {
      const done = await resumeSite(deps.site, { ...who, snapshot: await deps.readSnapshot() });
      await deps.rerender('resume');
      return done;
    });
    await deps.syncAll('resume');
    const { revision, committed, changes } = outcome.commit;
    return { status: 200, body: { revision, committed, changes, resumed: was ?? null, nodes: short(await deps.nodes()) } };
  };
}
