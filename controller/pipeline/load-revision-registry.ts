/**
 * The registry a revision was committed with, read back from its `registry/` folder and validated
 * again: while the site is suspended this, not the live source, says which nodes there are and how
 * to reach them, so the pinned revision is self-contained.
 */
import { DOCUMENT_NAMES, type RawDocument, type Registry, type RegistrySnapshot } from '../registry/model.js';
import { parseRegistry } from '../registry/parse-registry.js';
import { readRegistryDocuments } from '../store/read-revision.js';
import type { Site } from './open-site.js';

/** The documents stored at `revision` as a snapshot the registry stage can parse. */
export async function readRevisionSnapshot(site: Site, revision: string): Promise<RegistrySnapshot> {
  const stored = await readRegistryDocuments(site.store, revision);
  const documents: RegistrySnapshot['documents'] = {};
  for (const name of DOCUMENT_NAMES) {
    const value = stored[name];
    if (value === undefined) continue;
    const text = name === 'cluster-domain' && typeof value === 'string' ? value : JSON.stringify(value);
    const raw: RawDocument = { name, origin: `${revision.slice(0, 12)}:registry/${name}`, format: name === 'cluster-domain' && typeof value === 'string' ? 'text' : 'json', text };
    documents[name] = raw;
  }
  return { documents, trigger: `revision ${revision.slice(0, 12)}` };
}

/** The validated registry stored at `revision`. */
export async function loadRevisionRegistry(site: Site, revision: string): Promise<Registry> {
  return parseRegistry(await readRevisionSnapshot(site, revision), { publicDomain: site.config.traefik.publicDomain });
}
