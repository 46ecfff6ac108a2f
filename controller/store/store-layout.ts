/**
 * Where things live in the store tree and how they are encoded: `registry/<document>.json`,
 * `nodes/<node>/manifest.json`, `nodes/<node>/<artifact>`. JSON files are 2-space indented with a
 * trailing LF so stock `git diff` reads well.
 */
import { DOCUMENT_NAMES, type DocumentName } from '../registry/model.js';
import { isNodeKey, nodeKey } from '../registry/node-key.js';
import type { Manifest, NodeRender } from '../render/model.js';

/** Top-level folder of the registry documents. */
export const REGISTRY_DIR = 'registry';
/** Top-level folder of the rendered nodes. */
export const NODES_DIR = 'nodes';
/** The per-node manifest's file name (never an artifact name). */
export const MANIFEST_FILE = 'manifest.json';

/** Artifact names are single path components of safe characters. */
const ARTIFACT_NAME = /^[A-Za-z0-9_][A-Za-z0-9._-]*$/;

/** The folder `nodes/<key>/` (and ref `refs/nodes/<key>`) of a node name: its store key; undefined for a name that can never be in the store. */
export function nodeFolder(name: string): string | undefined {
  const key = nodeKey(name);
  return isNodeKey(key) ? key : undefined;
}

/** True when `name` can be an artifact file in a node folder. */
export function isArtifactName(name: string): boolean {
  return ARTIFACT_NAME.test(name) && name !== MANIFEST_FILE;
}

/** `services.json` → `services.json`, `cluster-domain` → `cluster-domain.json`. */
export function registryFileName(document: DocumentName): string {
  return document.endsWith('.json') ? document : `${document}.json`;
}

/** The document a `registry/` file holds, or undefined for a file courier does not know. */
export function documentNameOf(fileName: string): DocumentName | undefined {
  return DOCUMENT_NAMES.find((document) => registryFileName(document) === fileName);
}

/** JSON as the store writes it: 2-space indent, trailing LF. */
export function formatJson(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

/** The manifest of one rendered node, keys in a fixed order so equal renders give equal bytes. */
export function buildManifest(render: NodeRender): Manifest {
  return {
    node: render.node.name,
    role: render.node.role,
    artifacts: render.artifacts.map(({ name, path, kind, mode, oid }) => ({ name, path, kind, mode, oid })),
  };
}

/**
 * `manifest.json` as stored: each artifact's name, target path, kind and mode, nothing else. The
 * node name is the directory and each oid is the tree entry beside it, so nodes with the same
 * artifacts share one manifest blob and one subtree (1,000 laptops cost a handful of objects).
 */
export function formatManifest(manifest: Manifest): string {
  return formatJson({ artifacts: manifest.artifacts.map(({ name, path, kind, mode }) => ({ name, path, kind, mode })) });
}

/** A stored manifest read back, with the node name and each artifact's oid from its tree; undefined when unusable. */
export function parseManifest(text: string, node: string, entries: ReadonlyMap<string, string>): Manifest | undefined {
  const stored = JSON.parse(text) as { role?: Manifest['role']; artifacts?: Omit<Manifest['artifacts'][number], 'oid'>[] };
  if (!Array.isArray(stored.artifacts)) return undefined;
  return {
    node,
    // revisions written before manifests lost the role still carry it
    role: stored.role as Manifest['role'],
    artifacts: stored.artifacts.map(({ name, path, kind, mode }) => ({ name, path, kind, mode, oid: entries.get(name) ?? '' })),
  };
}
