/**
 * Reading a parent revision the way the commit path needs it: three trees (root, `registry/`,
 * `nodes/`) up front, and a node's manifest only when that node changed.
 */
import git from 'isomorphic-git';
import type { Manifest } from '../render/model.js';
import type { NodeSnapshot, RevisionSnapshot, Store } from './model.js';
import { MANIFEST_FILE, NODES_DIR, REGISTRY_DIR, parseManifest } from './store-layout.js';
import { storeFs } from './store-fs.js';

/** The snapshot of an empty store (no revision yet). */
export function emptySnapshot(): RevisionSnapshot {
  return { revision: undefined, rootTree: undefined, registry: new Map(), nodes: new Map() };
}

async function readEntries(store: Store, oid: string | undefined): Promise<Map<string, { oid: string; type: string }>> {
  if (oid === undefined) return new Map();
  const { tree } = await git.readTree({ fs: storeFs, dir: store.dir, gitdir: store.dir, oid, cache: store.cache });
  return new Map(tree.map((entry) => [entry.path, { oid: entry.oid, type: entry.type }]));
}

/** The registry files and node subtrees of `revision` (undefined = empty store); manifests are read later, on demand. */
export async function loadSnapshot(store: Store, revision: string | undefined): Promise<RevisionSnapshot> {
  if (revision === undefined) return emptySnapshot();
  const { commit } = await git.readCommit({ fs: storeFs, dir: store.dir, gitdir: store.dir, oid: revision, cache: store.cache });
  const root = await readEntries(store, commit.tree);
  const registryTree = root.get(REGISTRY_DIR);
  const nodesTree = root.get(NODES_DIR);
  const [registry, nodes] = await Promise.all([
    readEntries(store, registryTree?.type === 'tree' ? registryTree.oid : undefined),
    readEntries(store, nodesTree?.type === 'tree' ? nodesTree.oid : undefined),
  ]);
  return {
    revision,
    rootTree: commit.tree,
    registry: new Map([...registry].filter(([, entry]) => entry.type === 'blob').map(([name, entry]) => [name, entry.oid])),
    nodes: new Map([...nodes].filter(([, entry]) => entry.type === 'tree').map(([name, entry]) => [name, { tree: entry.oid }])),
  };
}

/** The node's parsed manifest, read from its subtree when the snapshot does not hold it; undefined when absent or unreadable. */
export async function loadNodeManifest(store: Store, node: NodeSnapshot, name: string): Promise<Manifest | undefined> {
  if (node.manifest !== undefined) return node.manifest;
  const entries = await readEntries(store, node.tree);
  const entry = entries.get(MANIFEST_FILE);
  if (entry?.type !== 'blob') return undefined;
  const { blob } = await git.readBlob({ fs: storeFs, dir: store.dir, gitdir: store.dir, oid: entry.oid, cache: store.cache });
  try {
    const blobs = new Map([...entries].filter(([, e]) => e.type === 'blob').map(([file, e]) => [file, e.oid]));
    const manifest = parseManifest(Buffer.from(blob).toString('utf8'), name, blobs);
    if (manifest === undefined) return undefined;
    node.manifest = manifest;
    return manifest;
  } catch {
    // A manifest courier cannot parse (hand-edited store): every artifact then counts as added.
    return undefined;
  }
}
