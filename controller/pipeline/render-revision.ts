/**
 * Orchestration: source → registry → render → store. Each step is one stage call; the logic lives
 * in the stages. An invalid registry throws before anything is committed, so the last good
 * revision stays in force.
 */
import { readSource } from '../sources/read-source.js';
import { parseRegistry } from '../registry/parse-registry.js';
import { loadTemplates } from '../render/load-templates.js';
import { renderRegistry } from '../render/render-registry.js';
import { commitRevision, type CommitResult } from '../store/commit-revision.js';
import { describeSourceChanges } from '../sources/describe-source-changes.js';
import { readSuspension } from '../store/suspension.js';
import { CourierError } from '../errors.js';
import type { Registry, RegistrySnapshot } from '../registry/model.js';
import type { RenderResult } from '../render/model.js';
import type { Site } from './open-site.js';

/** What one render produced. */
export interface RenderOutcome {
  registry: Registry;
  rendered: RenderResult;
  commit: CommitResult;
}

/** Options of renderRevision. */
export interface RenderRevisionOptions {
  /** Why this render runs (`manual push`, `startup`); default the snapshot's own trigger. */
  trigger?: string;
  /**
   * `always` (default): the trigger is `<reason>: <source changes>` when registry documents changed;
   * `fallback` (the daemon): the source changes alone, the reason only when no document changed.
   */
  nameReason?: 'always' | 'fallback';
  snapshot?: RegistrySnapshot;
  now?: Date;
  /** Render even though the site is suspended (only `courier resume` does). */
  resuming?: boolean;
}

/** Read the source (or use the given snapshot), validate, render and commit a revision; SUSPENDED while the site is. */
export async function renderRevision(site: Site, options: RenderRevisionOptions = {}): Promise<RenderOutcome> {
  // suspended: nothing is rendered or committed from the sources until `courier resume`
  const suspension = options.resuming ? undefined : await readSuspension(site.store);
  if (suspension) throw suspendedError(suspension);
  // source: the registry documents as they are now
  const snapshot = options.snapshot ?? (await readSource(site.config));
  // registry: strict, total validation (throws REGISTRY_INVALID listing every problem)
  const registry = parseRegistry(snapshot, { publicDomain: site.config.traefik.publicDomain });
  // render: per-node artifacts, Traefik files schema-checked
  const rendered = renderRegistry(registry, site.settings, await loadTemplates());
  // store: commit only when the tree changed
  const commit = await commitRevision(site.store, {
    documents: registry.documents,
    nodes: rendered.nodes,
    // the trigger names exactly the source changes behind the documents that changed
    trigger: (changed) => {
      const reason = options.trigger ?? snapshot.trigger;
      const sources = describeSourceChanges(snapshot, changed);
      if (sources.length === 0) return reason;
      return options.nameReason === 'fallback' || options.trigger === undefined ? sources.join(', ') : `${reason}: ${sources.join(', ')}`;
    },
    now: options.now,
  });
  site.logger.info({ stage: 'store', revision: commit.revision, committed: commit.committed, changedNodes: commit.changes.length }, 'render finished');
  return { registry, rendered, commit };
}

/** The SUSPENDED error for a command that would render while the site is suspended. */
export function suspendedError(suspension: { since: string; reason: string; revision: string }): CourierError {
  const why = suspension.reason ? ` (${suspension.reason})` : '';
  return new CourierError(
    'SUSPENDED',
    `the site is suspended since ${suspension.since}${why}, pinned at ${suspension.revision.slice(0, 12)}: nothing is rendered or committed from the registry; \`courier resume\` applies it`,
    { ...suspension },
  );
}
