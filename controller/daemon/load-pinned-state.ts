/**
 * What a suspended daemon holds the nodes on: main (the pinned revision) with the nodes its own
 * registry/ folder lists, and the registry changes waiting in the source since, validated but not
 * applied.
 */
import type { Node, RegistrySnapshot } from '../registry/model.js';
import { findWaitingChanges, type WaitingChanges } from '../registry/find-waiting-changes.js';
import { loadRevisionRegistry } from '../pipeline/load-revision-registry.js';
import type { Site } from '../pipeline/open-site.js';
import { readMain } from '../store/commit-revision.js';
import { readRegistryDocuments } from '../store/read-revision.js';
import { CourierError, isCourierError } from '../errors.js';

/** The pinned desired state and the waiting changes. */
export interface PinnedState {
  revision: string;
  nodes: Map<string, Node>;
  waiting: WaitingChanges;
}

/** Read main, its registry, and compare the live source (through `readSnapshot`) with it. */
export async function loadPinnedState(site: Site, readSnapshot: () => Promise<RegistrySnapshot>): Promise<PinnedState> {
  const revision = await readMain(site.store);
  if (revision === undefined) throw new CourierError('REVISION_NOT_FOUND', 'the site is suspended but the store has no revision', {});
  const registry = await loadRevisionRegistry(site, revision);
  const pinned = await readRegistryDocuments(site.store, revision);
  let waiting: WaitingChanges;
  try {
    waiting = findWaitingChanges(await readSnapshot(), pinned, { publicDomain: site.config.traefik.publicDomain });
  } catch (err) {
    // an unreadable source (or twin files the source itself rejects) is reported, not fatal: main stays pinned
    waiting = { valid: false, error: isCourierError(err) ? err.message : String(err), documents: [] };
  }
  return { revision, nodes: new Map(registry.nodes.map((n) => [n.name, n])), waiting };
}
