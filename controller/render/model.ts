/**
 * What rendering produces: per node, a list of artifacts (rendered content plus where and how it
 * goes on the node). The store writes them, the plan compares their oids with what the node
 * reports, the transport delivers them.
 */
import type { Node } from '../registry/model.js';

/** How an artifact is written on the node: a whole file, or the `# BEGIN courier` block inside one. */
export type ArtifactKind = 'file' | 'block';

/** One rendered artifact for one node. */
export interface Artifact {
  /** Store name under `nodes/<node>/`: `hosts` or `traefik.yml`. */
  name: string;
  /** Target path on the node (absolute, or `~/…` for the login user's home). */
  path: string;
  kind: ArtifactKind;
  /** Octal mode for a new file, e.g. `0644`; an existing file keeps its mode. */
  mode: string;
  /** The rendered bytes (for a block: the body between the markers, each line ending in LF). */
  content: string;
  /** Git blob id of `content`. */
  oid: string;
}

/** One artifact's entry in `nodes/<node>/manifest.json` (everything but the content). */
export type ManifestEntry = Omit<Artifact, 'content'>;

/** `nodes/<node>/manifest.json`. */
export interface Manifest {
  node: string;
  /** Set when built from a render; not stored (the registry holds it), so absent when read back. */
  role?: Node['role'];
  artifacts: ManifestEntry[];
}

/** Everything rendered for one node. */
export interface NodeRender {
  node: Node;
  artifacts: Artifact[];
}

/** The settings rendering needs from courier.yaml (the `traefik` and `hosts` sections). */
export interface RenderSettings {
  traefik: {
    path: string;
    publicDomain?: string;
    entryPoints: { web: string; websecure: string };
    certResolver: string;
  };
  hosts: { path: string };
}

/** The result of rendering a registry: every node's artifacts, nodes sorted by name. */
export interface RenderResult {
  nodes: NodeRender[];
}
