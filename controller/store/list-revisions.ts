/**
 * The audit log: revisions newest first, walked lazily along first parents so `-n 20` reads twenty
 * commits (or, with a node filter, only as many as it takes to find twenty that name the node).
 */
import { nodeKey } from '../registry/node-key.js';
import git from 'isomorphic-git';
import { readMain } from './commit-revision.js';
import { parseCommitMessage } from './format-commit-message.js';
import type { RevisionInfo, Store } from './model.js';
import { listNodeRevisions } from './node-log-index.js';
import { resolveRevision } from './resolve-revision.js';
import { wrapStoreError } from './store-error.js';
import { storeFs } from './store-fs.js';

/** The log entry shape, re-exported beside the function that produces it. */
export type { RevisionInfo } from './model.js';

/** Options of listRevisions. */
export interface ListRevisionsOptions {
  /** Only revisions whose `Courier-Nodes` trailer names this node. */
  node?: string;
  /** At most this many revisions. */
  limit?: number;
  /** Where to start (any spec resolveRevision takes, e.g. `refs/nodes/<node>`); default main. */
  ref?: string;
}

/** Revisions reachable from `ref` (default main) by first parents, newest first; [] for an empty store. */
export async function listRevisions(store: Store, options: ListRevisionsOptions = {}): Promise<RevisionInfo[]> {
  const limit = options.limit ?? Number.POSITIVE_INFINITY;
  if (limit <= 0) return [];
  // a removed node is named by its store key in the trailer, so names are compared by key
  const wanted = options.node === undefined ? undefined : nodeKey(options.node);
  // main filtered by node: through the per-node index instead of a walk of the whole history
  if (options.node !== undefined && options.ref === undefined && Number.isFinite(limit)) return listNodeRevisions(store, options.node, limit);
  const start = options.ref === undefined ? await readMainOrFail(store) : await resolveRevision(store, options.ref);
  // from a ref on main's chain (a node's verified ref, usually): the index too, cut at that commit
  if (options.node !== undefined && start !== undefined && Number.isFinite(limit)) {
    const indexed = await listNodeRevisions(store, options.node, limit, start);
    if (indexed !== undefined) return indexed;
  }
  try {
    const revisions: RevisionInfo[] = [];
    let oid = start;
    while (oid !== undefined && revisions.length < limit) {
      const { commit } = await git.readCommit({ fs: storeFs, dir: store.dir, gitdir: store.dir, oid, cache: store.cache });
      const { trigger, nodes } = parseCommitMessage(commit.message);
      if (wanted === undefined || nodes.some((name) => nodeKey(name) === wanted)) {
        revisions.push({
          revision: oid,
          parent: commit.parent[0],
          time: new Date(commit.committer.timestamp * 1000).toISOString(),
          trigger,
          nodes,
          message: commit.message,
        });
      }
      oid = commit.parent[0];
    }
    return revisions;
  } catch (err) {
    throw wrapStoreError(err, 'list revisions', store.dir, { ref: options.ref ?? 'main' });
  }
}

async function readMainOrFail(store: Store): Promise<string | undefined> {
  try {
    return await readMain(store);
  } catch (err) {
    throw wrapStoreError(err, 'read main', store.dir);
  }
}
