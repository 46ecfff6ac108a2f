/**
 * Per-node verified refs: `refs/nodes/<node>` points at the last revision the node was verified at,
 * so `git log refs/nodes/<node>` is the audit of what the node really held.
 */
import git from 'isomorphic-git';
import { CourierError } from '../errors.js';
import type { Store } from './model.js';
import { readTreeEntries } from './read-text-file.js';
import { resolveRevision } from './resolve-revision.js';
import { isNotFound, wrapStoreError } from './store-error.js';
import { NODES_DIR, nodeFolder } from './store-layout.js';
import { storeFs } from './store-fs.js';

/** The ref holding a node's verified revision: `refs/nodes/<store key>` (the name in lowercase). */
export function nodeRefName(node: string): string {
  return `refs/nodes/${nodeFolder(node) ?? node}`;
}

/** Points `refs/nodes/<node>` at `revision` (force); NODE_NOT_FOUND when the revision holds no such node. Returns the full commit id. */
export async function setNodeRef(store: Store, node: string, revision: string): Promise<string> {
  const oid = await resolveRevision(store, revision);
  try {
    const folder = nodeFolder(node);
    const inRevision = folder !== undefined && (await readTreeEntries(store, oid, NODES_DIR)).some((entry) => entry.path === folder && entry.type === 'tree');
    if (!inRevision) {
      throw new CourierError('NODE_NOT_FOUND', `store ${store.dir}: revision ${oid} has no node "${node}"; a node can only be verified at a revision that renders it`, {
        dir: store.dir,
        node,
        revision: oid,
      });
    }
    await git.writeRef({ fs: storeFs, dir: store.dir, gitdir: store.dir, ref: nodeRefName(node), value: oid, force: true });
    return oid;
  } catch (err) {
    throw wrapStoreError(err, `set ${nodeRefName(node)}`, store.dir, { node, revision: oid });
  }
}

/** The revision `refs/nodes/<node>` points at, or undefined when the node was never verified. */
export async function readNodeRef(store: Store, node: string): Promise<string | undefined> {
  if (nodeFolder(node) === undefined) return undefined;
  try {
    return await git.resolveRef({ fs: storeFs, dir: store.dir, gitdir: store.dir, ref: nodeRefName(node) });
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw wrapStoreError(err, `read ${nodeRefName(node)}`, store.dir, { node });
  }
}
