/**
 * Suspending, resuming and rolling back a site, shared by the CLI (holding the state lock) and the
 * daemon (its HTTP API). Each is a short list of stage calls; delivery to the nodes is the
 * caller's (a CLI push, or the daemon's scheduler).
 */
import os from 'node:os';
import { CourierError } from '../errors.js';
import { readMain } from '../store/commit-revision.js';
import { commitRollback, type RollbackResult } from '../store/commit-rollback.js';
import { clearSuspension, readSuspension, writeSuspension, type SuspendedBy, type Suspension } from '../store/suspension.js';
import { renderRevision, type RenderOutcome } from './render-revision.js';
import type { Site } from './open-site.js';
import type { RegistrySnapshot } from '../registry/model.js';

/** Who asks: the command or the dashboard, and a `user@host` or client address. */
export interface Requester {
  by: SuspendedBy;
  actor: string;
}

/** The requester for a command run on this machine. */
export function commandRequester(): Requester {
  let user = process.env.USER ?? 'unknown';
  try {
    user = os.userInfo().username;
  } catch {
    // no passwd entry (containers): keep $USER
  }
  return { by: 'command', actor: `${user}@${os.hostname()}` };
}

/** Suspend at the current main; `already` when a suspension was in force (it is left as it is). */
export async function suspendSite(site: Site, request: Requester & { reason?: string; now?: Date }): Promise<{ suspension: Suspension; already: boolean }> {
  const current = await readSuspension(site.store);
  if (current) return { suspension: current, already: true };
  const main = await readMain(site.store);
  if (main === undefined) throw new CourierError('REVISION_NOT_FOUND', 'the store has no revision to pin yet: run `courier render` or `courier push` first', {});
  const suspension: Suspension = { since: (request.now ?? new Date()).toISOString(), reason: (request.reason ?? '').trim(), revision: main, by: request.by, actor: request.actor };
  await writeSuspension(site.store, suspension);
  site.logger.info({ stage: 'suspension', revision: main.slice(0, 12), by: request.by }, 'site suspended');
  return { suspension, already: false };
}

/** Roll back to `target` (a new revision on main) and suspend pinned at it. */
export async function rollbackSite(site: Site, request: Requester & { target: string; nodes?: string[]; reason?: string; now?: Date }): Promise<{ rollback: RollbackResult; suspension: Suspension }> {
  // store: the rollback commit (REVISION_NOT_FOUND / NODE_NOT_FOUND before anything is written)
  const rollback = await commitRollback(site.store, { target: request.target, nodes: request.nodes, reason: request.reason, now: request.now });
  // suspension: pinned at the rollback revision, so no registry edit undoes it behind the operator's back
  const suspension: Suspension = {
    since: (request.now ?? new Date()).toISOString(),
    reason: (request.reason ?? '').trim() || rollback.trigger,
    revision: rollback.revision,
    by: request.by,
    actor: request.actor,
  };
  await writeSuspension(site.store, suspension);
  site.logger.info({ stage: 'suspension', revision: rollback.revision.slice(0, 12), target: rollback.target.slice(0, 12), committed: rollback.committed }, 'rolled back; site suspended');
  return { rollback, suspension };
}

/** Render the current registry (committing when it differs), then clear the suspension; an invalid registry keeps it. */
export async function resumeSite(site: Site, request: Requester & { snapshot?: RegistrySnapshot }): Promise<{ outcome: RenderOutcome; was: Suspension | undefined }> {
  const was = await readSuspension(site.store);
  // render + commit first: REGISTRY_INVALID leaves the site suspended on its pinned revision
  const outcome = await renderRevision(site, { trigger: 'resume', resuming: true, snapshot: request.snapshot });
  await clearSuspension(site.store, request.by, request.actor);
  site.logger.info({ stage: 'suspension', revision: outcome.commit.revision.slice(0, 12), committed: outcome.commit.committed }, 'site resumed');
  return { outcome, was };
}
