/**
 * The store's shapes: the handle, what a commit reports, what the log and diff return. The store is
 * a bare Git repository: `registry/<document>.json`, `nodes/<node>/manifest.json` and
 * `nodes/<node>/<artifact>`; `refs/heads/main` is the desired state, `refs/nodes/<node>` the last
 * revision each node was verified at.
 */
import type { DocumentName, Registry } from '../registry/model.js';
import type { Manifest, NodeRender } from '../render/model.js';

/** What the store remembers about one node of a revision it wrote itself. */
export interface NodeSnapshot {
  /** Oid of the `nodes/<node>` tree. */
  tree: string;
  /** Parsed `manifest.json`; absent until read for a revision the store did not just write. */
  manifest?: Manifest;
  /** Every blob of the node subtree (manifest and artifacts): present only when built in memory, so they are known to exist. */
  blobs?: string[];
}

/** The root tree of one revision as the commit path needs it: which oids each node and document had. */
export interface RevisionSnapshot {
  /** The commit, or undefined for the empty store. */
  revision: string | undefined;
  /** Oid of the commit's root tree, or undefined for the empty store. */
  rootTree: string | undefined;
  /** `registry/` file name → blob oid. */
  registry: Map<string, string>;
  /** Node name → its subtree. */
  nodes: Map<string, NodeSnapshot>;
}

/** An open store: its directory plus in-process caches (safe to drop; they are keyed by revision). */
export interface Store {
  /** Absolute path of the bare repository (what `git --git-dir=` takes). */
  readonly dir: string;
  /** isomorphic-git's object cache (packfile indexes), shared by every read on this handle. */
  readonly cache: object;
  /** The last revision this handle committed or found unchanged; lets the next commit skip reading the parent. */
  snapshot?: RevisionSnapshot;
  /** Commit → its `nodes/` entries (node → subtree oid), for the few revisions read last. */
  nodeTrees?: Map<string, Map<string, string>>;
  /** `<commit>\0<node>` → that node's manifest (null: not in the revision), bounded. */
  manifests?: Map<string, Manifest | null>;
  /** Node subtree oid → its parsed manifest entries: nodes with the same artifacts share one. */
  treeManifests?: Map<string, Manifest['artifacts'] | null>;
  /** `refs/nodes/<node>` as this handle last read or wrote it (the state lock makes it the one writer). */
  nodeRefs?: Map<string, string | undefined>;
  /** Full ids this handle already read as commits (objects never change: no second read), bounded. */
  knownCommits?: Set<string>;
  /** Ref directories this handle created or found (a ref write skips the mkdir). */
  refDirs?: Set<string>;
}

/** What `commitRevision` stores: the normalized registry documents and every node's rendered artifacts. */
export interface CommitInput {
  documents: Registry['documents'];
  nodes: NodeRender[];
  /**
   * What caused this revision (file change, ConfigMap resourceVersion, source commit, manual push,
   * rollback); a function is called with the registry documents that changed, once they are known.
   */
  trigger: string | ((registry: RegistryChange[]) => string);
  /** Commit time; defaults to the current time. */
  now?: Date;
}

/** How one file changed between two revisions. */
export type ChangeKind = 'added' | 'modified' | 'removed';

/** One node's change in a commit: the node itself and each artifact (by store name) that changed. */
export interface NodeChange {
  node: string;
  status: ChangeKind;
  /** Sorted by name; a change to the manifest alone (role, artifact order) shows as `manifest.json`. */
  artifacts: { name: string; change: ChangeKind }[];
}

/** One registry document's change in a commit. */
export interface RegistryChange {
  document: DocumentName;
  change: ChangeKind;
}

/** The outcome of `commitRevision`: the revision now at main and whether this call made it. */
export interface CommitResult {
  /** The commit main points at after the call (the new commit, or the unchanged parent). */
  revision: string;
  /** What main pointed at before the call; undefined for the first commit of a store. */
  parent?: string;
  /** False when the rendered tree equals the parent's (nothing written). */
  committed: boolean;
  /** Changed nodes, sorted by name; empty when nothing was committed. */
  changes: NodeChange[];
  /** Changed registry documents, sorted by name; empty when nothing was committed. */
  registry: RegistryChange[];
}

/** One revision as `courier log` shows it. */
export interface RevisionInfo {
  revision: string;
  /** First parent; undefined for the first revision. */
  parent?: string;
  /** Committer time, ISO 8601 UTC. */
  time: string;
  /** The `Courier-Trigger` trailer (the subject line for a commit courier did not write). */
  trigger: string;
  /** The `Courier-Nodes` trailer: nodes whose artifacts changed in this revision. */
  nodes: string[];
  /** The full commit message. */
  message: string;
}

/** One changed file between two revisions, as a unified diff. */
export interface FileDiff {
  /** Path in the store tree, e.g. `nodes/worker-1/hosts` or `registry/services.json`. */
  path: string;
  status: ChangeKind;
  /** Unified diff with `a/<path>` / `b/<path>` labels (`/dev/null` for the missing side). */
  patch: string;
}
