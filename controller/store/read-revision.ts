/** Reading one revision's content: a node's manifest and artifacts, the registry documents, the node list. */
import type { Registry } from '../registry/model.js';
import type { Manifest } from '../render/model.js';
import type { Store } from './model.js';
import { readTextFile, readTreeEntries } from './read-text-file.js';
import { resolveRevision } from './resolve-revision.js';
import { wrapStoreError } from './store-error.js';
import { MANIFEST_FILE, NODES_DIR, REGISTRY_DIR, documentNameOf, isArtifactName, nodeFolder, parseManifest } from './store-layout.js';

/** `nodes/<node>/manifest.json` at `revision` (any spec resolveRevision takes), or undefined when the node is not in it. */
export async function readManifest(store: Store, revision: string, node: string): Promise<Manifest | undefined> {
  const oid = await resolveRevision(store, revision);
  const folder = nodeFolder(node);
  if (folder === undefined) return undefined;
  const filepath = `${NODES_DIR}/${folder}/${MANIFEST_FILE}`;
  try {
    const text = await readTextFile(store, oid, filepath);
    if (text === undefined) return undefined;
    // each artifact's oid is its entry in the node's tree
    const entries = await readTreeEntries(store, oid, `${NODES_DIR}/${folder}`);
    return parseManifest(text, node, new Map(entries.filter((e) => e.type === 'blob').map((e) => [e.path, e.oid])));
  } catch (err) {
    throw wrapStoreError(err, `read ${filepath} at ${oid}`, store.dir, { revision: oid, node });
  }
}

/** The content of `nodes/<node>/<name>` at `revision` (any spec resolveRevision takes), or undefined when absent. */
export async function readArtifact(store: Store, revision: string, node: string, name: string): Promise<string | undefined> {
  const oid = await resolveRevision(store, revision);
  const folder = nodeFolder(node);
  if (folder === undefined || !isArtifactName(name)) return undefined;
  const filepath = `${NODES_DIR}/${folder}/${name}`;
  try {
    return await readTextFile(store, oid, filepath);
  } catch (err) {
    throw wrapStoreError(err, `read ${filepath} at ${oid}`, store.dir, { revision: oid, node, artifact: name });
  }
}

/** The documents under `registry/` at `revision`, parsed, keyed by document name (absent documents are absent keys). */
export async function readRegistryDocuments(store: Store, revision: string): Promise<Registry['documents']> {
  const oid = await resolveRevision(store, revision);
  try {
    const documents: Registry['documents'] = {};
    for (const entry of await readTreeEntries(store, oid, REGISTRY_DIR)) {
      const document = documentNameOf(entry.path);
      if (document === undefined || entry.type !== 'blob') continue;
      const text = await readTextFile(store, oid, `${REGISTRY_DIR}/${entry.path}`);
      if (text !== undefined) documents[document] = JSON.parse(text) as unknown;
    }
    return documents;
  } catch (err) {
    throw wrapStoreError(err, `read ${REGISTRY_DIR}/ at ${oid}`, store.dir, { revision: oid });
  }
}

/** The node folders (store keys) under `nodes/` at `revision` (any spec resolveRevision takes), sorted. */
export async function listNodes(store: Store, revision: string): Promise<string[]> {
  const oid = await resolveRevision(store, revision);
  try {
    const entries = await readTreeEntries(store, oid, NODES_DIR);
    return entries
      .filter((entry) => entry.type === 'tree')
      .map((entry) => entry.path)
      .sort();
  } catch (err) {
    throw wrapStoreError(err, `list ${NODES_DIR}/ at ${oid}`, store.dir, { revision: oid });
  }
}
