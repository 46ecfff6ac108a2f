/**
 * The document store for the site's configured source. A git source is refused: its documents
 * live in a repository courier only reads, so they are edited there (commit and push).
 */
import type { Config } from '../config/load-config.js';
import { CourierError } from '../errors.js';
import type { RegistryDocumentStore } from './edit-registry.js';
import { createFilesDocumentStore } from './files-document-store.js';

/** The RegistryDocumentStore for `config.source`; USAGE for a git source. */
export async function openDocumentStore(config: Config): Promise<RegistryDocumentStore> {
  const source = config.source;
  switch (source.type) {
    case 'files':
      return createFilesDocumentStore(source.path, { displayBase: config.dir });
    case 'kubernetes': {
      // Loaded on use, like the source itself: the files source never pays for the Kubernetes client.
      const [{ loadKubernetesConfig }, { createKubernetesDocumentStore }] = await Promise.all([import('../sources/kubernetes-config.js'), import('./kubernetes-document-store.js')]);
      return createKubernetesDocumentStore(loadKubernetesConfig(source.kubeconfig), source.namespace);
    }
    case 'git':
      throw new CourierError(
        'USAGE',
        `the registry source is the git repository ${source.url} (ref ${source.ref}, path ${source.path}), which courier only reads: edit the documents in that repository and push; the daemon picks the change up`,
        { source: 'git', url: source.url },
      );
  }
}
