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
import type { Registry, RegistrySnapshot } from '../registry/model.js';
import type { RenderResult } from '../render/model.js';
import type { Site } from './open-site.js';

/** What one render produced. */
export interface RenderOutcome {
  registry: Registry;
  rendered: RenderResult;
  commit: CommitResult;
}

/** Read the source (or use the given snapshot), validate, render and commit a revision. */
export async function renderRevision(site: Site, options: { trigger?: string; snapshot?: RegistrySnapshot; now?: Date } = {}): Promise<RenderOutcome> {
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
    trigger: options.trigger ?? snapshot.trigger,
    now: options.now,
  });
  site.logger.info({ stage: 'store', revision: commit.revision, committed: commit.committed, changedNodes: commit.changes.length }, 'render finished');
  return { registry, rendered, commit };
}
