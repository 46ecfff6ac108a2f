/**
 * Per-node verified refs: `refs/nodes/<node>` points at the last revision the node was verified at,
 * so `git log refs/nodes/<node>` is the audit of what the node really held.
 */
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import git from 'isomorphic-git';
import { CourierError } from '../errors.js';
import type { Store } from './model.js';
import { nodeTreesAt } from './read-revision.js';
import { resolveRevision } from './resolve-revision.js';
import { isNotFound, wrapStoreError } from './store-error.js';
import { nodeKey } from '../registry/node-key.js';
import { nodeFolder } from './store-layout.js';
import { storeFs } from './store-fs.js';

/** The ref holding a node's verified revision: `refs/nodes/<store key>` (the name in lowercase). */
export function nodeRefName(node: string): string {
  return `refs/nodes/${nodeFolder(node) ?? node}`;
}

/**
 * Points `refs/nodes/<node>` at `revision` (force); NODE_NOT_FOUND when the revision holds no such
 * node. Returns the full commit id. The ref is written as a loose ref file (temp file + rename, as
 * git does), which stock git reads; the revision's node list is cached on the store handle, so a
 * fleet's refs cost one tree read, not one per node.
 */
export async function setNodeRef(store: Store, node: string, revision: string): Promise<string> {
  const oid = await resolveRevision(store, revision);
  try {
    const folder = nodeFolder(node);
    const inRevision = folder !== undefined && (await nodeTreesAt(store, oid)).has(folder);
    if (!inRevision) {
      throw new CourierError('NODE_NOT_FOUND', `store ${store.dir}: revision ${oid} has no node "${node}"; a node can only be verified at a revision that renders it`, {
        dir: store.dir,
        node,
        revision: oid,
      });
    }
    await writeLooseRef(store, nodeRefName(node), oid);
    (store.nodeRefs ??= new Map()).set(nodeKey(node), oid);
    return oid;
  } catch (err) {
    throw wrapStoreError(err, `set ${nodeRefName(node)}`, store.dir, { node, revision: oid });
  }
}

/** Write `<store>/<ref>` holding `oid`: a temp file beside it, renamed over it (atomic within the store's filesystem). */
async function writeLooseRef(store: Store, ref: string, oid: string): Promise<void> {
  const file = path.join(store.dir, ref);
  const dir = path.dirname(file);
  if (!store.refDirs?.has(dir)) {
    await mkdir(dir, { recursive: true });
    (store.refDirs ??= new Set()).add(dir);
  }
  const tmp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  try {
    try {
      await writeFile(tmp, `${oid}\n`);
    } catch (err) {
      // the directory went away since this handle saw it (removed by hand): make it again, once
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      await mkdir(dir, { recursive: true });
      await writeFile(tmp, `${oid}\n`);
    }
    await rename(tmp, file);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

/** The revision `refs/nodes/<node>` points at, or undefined when the node was never verified. */
export async function readNodeRef(store: Store, node: string): Promise<string | undefined> {
  const folder = nodeFolder(node);
  if (folder === undefined) return undefined;
  const known = store.nodeRefs?.get(nodeKey(node));
  if (known !== undefined) return known;
  try {
    const oid = await git.resolveRef({ fs: storeFs, dir: store.dir, gitdir: store.dir, ref: nodeRefName(node) });
    (store.nodeRefs ??= new Map()).set(nodeKey(node), oid);
    return oid;
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw wrapStoreError(err, `read ${nodeRefName(node)}`, store.dir, { node });
  }
}
