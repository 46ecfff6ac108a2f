/** Reading one revision's content: a node's manifest and artifacts, the registry documents, the node list. */
import git from 'isomorphic-git';
import { storeFs } from './store-fs.js';
import type { Registry } from '../registry/model.js';
import type { Manifest } from '../render/model.js';
import type { Store } from './model.js';
import { readTextFile, readTreeEntries } from './read-text-file.js';
import { resolveRevision } from './resolve-revision.js';
import { wrapStoreError } from './store-error.js';
import { MANIFEST_FILE, NODES_DIR, REGISTRY_DIR, documentNameOf, isArtifactName, nodeFolder, parseManifest } from './store-layout.js';

const FULL_OID = /^[0-9a-f]{40}$/;
const NODE_TREES_KEPT = 8;
const MANIFESTS_KEPT = 8192;

/**
 * `nodes/<node>/manifest.json` at `revision` (any spec resolveRevision takes), or undefined when the
 * node is not in it. Cached on the store handle (commits never change), so syncing every node of a
 * large fleet reads the `nodes/` tree once per revision, not once per node.
 */
export async function readManifest(store: Store, revision: string, node: string): Promise<Manifest | undefined> {
  const cached = FULL_OID.test(revision) ? store.manifests?.get(`${revision}\0${node}`) : undefined;
  if (cached !== undefined) return cached ?? undefined;
  const oid = await resolveRevision(store, revision);
  const folder = nodeFolder(node);
  if (folder === undefined) return undefined;
  const filepath = `${NODES_DIR}/${folder}/${MANIFEST_FILE}`;
  try {
    const tree = (await nodeTreesAt(store, oid)).get(folder);
    let manifest: Manifest | undefined;
    if (tree) {
      const shared = (store.treeManifests ??= new Map());
      let artifacts: Manifest['artifacts'] | null | undefined = shared.get(tree);
      if (artifacts === undefined) {
        // each artifact's oid is its entry in the node's tree
        const { tree: entries } = await git.readTree({ fs: storeFs, dir: store.dir, gitdir: store.dir, oid: tree, cache: store.cache });
        const file = entries.find((e) => e.path === MANIFEST_FILE && e.type === 'blob');
        if (file) {
          const { blob } = await git.readBlob({ fs: storeFs, dir: store.dir, gitdir: store.dir, oid: file.oid, cache: store.cache });
          artifacts = parseManifest(Buffer.from(blob).toString('utf8'), node, new Map(entries.filter((e) => e.type === 'blob').map((e) => [e.path, e.oid])))?.artifacts ?? null;
        } else {
          artifacts = null;
        }
        if (shared.size >= MANIFESTS_KEPT) shared.clear();
        shared.set(tree, artifacts);
      }
      if (artifacts) manifest = { node, artifacts: artifacts.map((a: Manifest['artifacts'][number]) => ({ ...a })) };
    }
    const manifests = (store.manifests ??= new Map());
    if (manifests.size >= MANIFESTS_KEPT) manifests.clear();
    manifests.set(`${oid}\0${node}`, manifest ?? null);
    return manifest;
  } catch (err) {
    throw wrapStoreError(err, `read ${filepath} at ${oid}`, store.dir, { revision: oid, node });
  }
}

/** The `nodes/` entries of commit `oid` (node → subtree oid), cached for the last few commits. */
export async function nodeTreesAt(store: Store, oid: string): Promise<Map<string, string>> {
  const kept = (store.nodeTrees ??= new Map());
  let trees = kept.get(oid);
  if (!trees) {
    trees = new Map((await readTreeEntries(store, oid, NODES_DIR)).filter((e) => e.type === 'tree').map((e) => [e.path, e.oid]));
    if (kept.size >= NODE_TREES_KEPT) kept.delete(kept.keys().next().value!);
    kept.set(oid, trees);
  }
  return trees;
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
