/**
 * The kubernetes source as a RegistryDocumentStore: MyNodeOne's ConfigMaps in one namespace,
 * listed once per attempt (one consistent view of every document), the edited key written back with
 * optimistic concurrency: a replace carrying the resourceVersion that was read, so a concurrent
 * writer makes it fail with 409 and the edit starts over. Other keys, labels, annotations and
 * binaryData of the ConfigMap are sent back as they were read. A missing ConfigMap is created with
 * the one document, as MyNodeOne's `init` creates it.
 */
import { CoreV1Api, KubeConfig, type V1ConfigMap } from '@kubernetes/client-node';
import { DOCUMENT_CONFIGMAPS, DOCUMENT_NAMES, type DocumentName, type RawDocument, type RegistrySnapshot } from '../registry/model.js';
import { kubernetesStatusCode, wrapKubernetesError } from '../sources/kubernetes-error.js';
import type { DocumentRead, RegistryDocumentStore } from './edit-registry.js';

/** What a read remembers for the write. */
interface ConfigMapVersion {
  document: DocumentName;
  /** The ConfigMap as listed, or undefined when it does not exist. */
  configMap: V1ConfigMap | undefined;
}

/** A document store over the registry ConfigMaps in `namespace`. */
export function createKubernetesDocumentStore(client: KubeConfig | CoreV1Api, namespace: string): RegistryDocumentStore {
  const api = client instanceof KubeConfig ? client.makeApiClient(CoreV1Api) : client;

  return {
    async read(document: DocumentName): Promise<DocumentRead> {
      let items: V1ConfigMap[];
      let resourceVersion: string | undefined;
      try {
        const list = await api.listNamespacedConfigMap({ namespace });
        items = list.items;
        resourceVersion = list.metadata?.resourceVersion;
      } catch (err) {
        throw wrapKubernetesError(err, `listing ConfigMaps in namespace ${namespace}`, { namespace });
      }
      const documents: RegistrySnapshot['documents'] = {};
      for (const name of DOCUMENT_NAMES) {
        const { configMap, key } = DOCUMENT_CONFIGMAPS[name];
        const text = items.find((cm) => cm.metadata?.name === configMap)?.data?.[key];
        if (text !== undefined) documents[name] = { name, origin: `configmap/${configMap}/${key}`, format: name.endsWith('.json') ? 'json' : 'text', text };
      }
      const { configMap, key } = DOCUMENT_CONFIGMAPS[document];
      const target: RawDocument = documents[document] ?? { name: document, origin: `configmap/${configMap}/${key}`, format: 'json', text: '' };
      const version: ConfigMapVersion = { document, configMap: items.find((cm) => cm.metadata?.name === configMap) };
      return { snapshot: { documents, trigger: `configmaps in ${namespace} at resourceVersion ${resourceVersion ?? '?'}` }, target, version };
    },

    async write(text: string, read: DocumentRead): Promise<'written' | 'conflict'> {
      const { document, configMap: current } = read.version as ConfigMapVersion;
      const { configMap: name, key } = DOCUMENT_CONFIGMAPS[document];
      try {
        if (current === undefined) {
          await api.createNamespacedConfigMap({ namespace, body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace }, data: { [key]: text } } });
        } else {
          // The listed object carries its resourceVersion: the replace fails with 409 if anyone wrote since.
          await api.replaceNamespacedConfigMap({ name, namespace, body: { ...current, apiVersion: 'v1', kind: 'ConfigMap', data: { ...current.data, [key]: text } } });
        }
        return 'written';
      } catch (err) {
        // 409: Conflict on replace (stale resourceVersion) or AlreadyExists on create; both mean "read again".
        if (kubernetesStatusCode(err) === 409) return 'conflict';
        throw wrapKubernetesError(err, `writing configmap/${name}/${key} in namespace ${namespace}`, { namespace, configMap: name });
      }
    },
  };
}
