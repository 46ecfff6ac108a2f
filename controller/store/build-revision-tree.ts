/**
 * The tree of a new revision, built in memory: every blob and tree with its oid, grouped so the
 * commit path can write only what the parent lacks. Nothing here touches the disk.
 */
import { CourierError } from '../errors.js';
import { DOCUMENT_NAMES, type Registry } from '../registry/model.js';
import type { NodeRender } from '../render/model.js';
import { encodeBlob, encodeTree, type EncodedObject, type TreeEntryInput } from './encode-object.js';
import type { NodeSnapshot, RevisionSnapshot } from './model.js';
import { MANIFEST_FILE, NODES_DIR, REGISTRY_DIR, buildManifest, formatJson, formatManifest, isArtifactName, nodeFolder, registryFileName } from './store-layout.js';

/** A revision's tree before it is written. */
export interface RevisionTree {
  /** The new state as the next commit will see it as its parent (revision filled in once committed). */
  snapshot: RevisionSnapshot;
  /** `registry/` file name → blob. */
  registryBlobs: Map<string, EncodedObject>;
  /** Node name → its blobs and its subtree (the subtree last). */
  nodeObjects: Map<string, EncodedObject[]>;
  /** `registry/`, `nodes/` (when not empty) and the root tree. */
  trees: EncodedObject[];
  /** Oid of the root tree. */
  rootTree: string;
}

function invalid(dir: string, message: string, data: Record<string, unknown>): CourierError {
  return new CourierError('STORE_ERROR', `store ${dir}: cannot commit: ${message}`, { dir, ...data });
}

function encodeNode(dir: string, render: NodeRender): { snapshot: NodeSnapshot; objects: EncodedObject[] } {
  const name = render.node.name;
  const node = nodeFolder(name);
  if (node === undefined) throw invalid(dir, `node name ${JSON.stringify(name)} has no safe store key (see the node name rule)`, { node: name });
  const names = new Set<string>();
  const objects: EncodedObject[] = [];
  const entries: TreeEntryInput[] = [];
  for (const artifact of render.artifacts) {
    if (!isArtifactName(artifact.name)) throw invalid(dir, `nodes/${node}: "${artifact.name}" is not a valid artifact name`, { node, artifact: artifact.name });
    if (names.has(artifact.name)) throw invalid(dir, `nodes/${node}: artifact "${artifact.name}" is rendered twice`, { node, artifact: artifact.name });
    names.add(artifact.name);
    const blob = encodeBlob(artifact.content);
    // The plan and the agent compare against the render's oid: a mismatch would make the store lie.
    if (blob.oid !== artifact.oid) {
      throw invalid(dir, `nodes/${node}/${artifact.name}: render says oid ${artifact.oid} but the content hashes to ${blob.oid}`, {
        node,
        artifact: artifact.name,
        oid: artifact.oid,
        actual: blob.oid,
      });
    }
    objects.push(blob);
    entries.push({ name: artifact.name, type: 'blob', oid: blob.oid });
  }
  const manifest = buildManifest(render);
  const manifestBlob = encodeBlob(formatManifest(manifest));
  objects.push(manifestBlob);
  entries.push({ name: MANIFEST_FILE, type: 'blob', oid: manifestBlob.oid });
  const tree = encodeTree(entries);
  return { snapshot: { tree: tree.oid, manifest, blobs: objects.map((object) => object.oid) }, objects: [...objects, tree] };
}

/** Encodes the registry documents and every node's artifacts into the trees of one revision. */
export function buildRevisionTree(dir: string, documents: Registry['documents'], nodes: NodeRender[]): RevisionTree {
  const registryBlobs = new Map<string, EncodedObject>();
  for (const document of DOCUMENT_NAMES) {
    const value = documents[document];
    if (value === undefined) continue;
    const text = JSON.stringify(value, null, 2);
    if (text === undefined) throw invalid(dir, `registry document ${document} is not JSON-serializable`, { document });
    registryBlobs.set(registryFileName(document), encodeBlob(formatJson(value)));
  }

  const snapshotNodes = new Map<string, NodeSnapshot>();
  const nodeObjects = new Map<string, EncodedObject[]>();
  for (const render of nodes) {
    // keyed by store folder: two names equal but for case would be one folder (the registry refuses them)
    const folder = nodeFolder(render.node.name) ?? render.node.name;
    if (snapshotNodes.has(folder)) throw invalid(dir, `node "${render.node.name}" is rendered twice (store folder nodes/${folder})`, { node: render.node.name });
    const encoded = encodeNode(dir, render);
    snapshotNodes.set(folder, encoded.snapshot);
    nodeObjects.set(folder, encoded.objects);
  }

  const trees: EncodedObject[] = [];
  const rootEntries: TreeEntryInput[] = [];
  if (registryBlobs.size > 0) {
    const registryTree = encodeTree([...registryBlobs].map(([name, blob]) => ({ name, type: 'blob', oid: blob.oid })));
    trees.push(registryTree);
    rootEntries.push({ name: REGISTRY_DIR, type: 'tree', oid: registryTree.oid });
  }
  if (snapshotNodes.size > 0) {
    const nodesTree = encodeTree([...snapshotNodes].map(([name, node]) => ({ name, type: 'tree', oid: node.tree })));
    trees.push(nodesTree);
    rootEntries.push({ name: NODES_DIR, type: 'tree', oid: nodesTree.oid });
  }
  const root = encodeTree(rootEntries);
  trees.push(root);

  return {
    snapshot: {
      revision: undefined,
      rootTree: root.oid,
      registry: new Map([...registryBlobs].map(([name, blob]) => [name, blob.oid])),
      nodes: snapshotNodes,
    },
    registryBlobs,
    nodeObjects,
    trees,
    rootTree: root.oid,
  };
}
