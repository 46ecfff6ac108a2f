/**
 * Committing a render: build the revision's tree in memory, compare its root oid with the parent's,
 * and only when it differs write the objects the parent lacks, a commit, and refs/heads/main.
 * Commits on one store are serialized in-process; main is re-checked before it moves, so a writer in
 * another process is detected rather than overwritten.
 */
import git from 'isomorphic-git';
import { CourierError } from '../errors.js';
import { buildRevisionTree } from './build-revision-tree.js';
import { compareNodes, compareRegistry } from './compare-snapshots.js';
import type { EncodedObject } from './encode-object.js';
import { formatCommitMessage } from './format-commit-message.js';
import { loadSnapshot } from './load-snapshot.js';
import type { CommitInput, CommitResult, RevisionSnapshot, Store } from './model.js';
import { runSerialized } from './run-serialized.js';
import { isNotFound, wrapStoreError } from './store-error.js';
import { nodeFolder } from './store-layout.js';
import { writeObjects } from './write-objects.js';
import { storeFs } from './store-fs.js';

/** The commit shapes, re-exported beside the function that produces them. */
export type { CommitInput, CommitResult, NodeChange, RegistryChange } from './model.js';

/** The branch holding the desired state. */
export const MAIN_REF = 'refs/heads/main';

const IDENTITY = { name: 'courier', email: 'courier@localhost' };

/** The commit main points at, or undefined for an empty store. */
export async function readMain(store: Store): Promise<string | undefined> {
  try {
    return await git.resolveRef({ fs: storeFs, dir: store.dir, gitdir: store.dir, ref: MAIN_REF });
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

/** Oids the parent revision is known to hold because this handle wrote it (empty for a snapshot read from disk). */
function knownOids(base: RevisionSnapshot): Set<string> {
  const known = new Set<string>();
  for (const node of base.nodes.values()) {
    if (node.blobs === undefined) continue;
    known.add(node.tree);
    for (const blob of node.blobs) known.add(blob);
  }
  return known;
}

/** Commits the rendered nodes and registry documents to main when the tree changed; see CommitResult. */
export async function commitRevision(store: Store, input: CommitInput): Promise<CommitResult> {
  try {
    // Encoding (hashing) happens outside the queue: it needs no parent.
    const next = buildRevisionTree(store.dir, input.documents, input.nodes);
    return await runSerialized(store.dir, async () => {
      const parent = await readMain(store);
      const base = store.snapshot !== undefined && store.snapshot.revision === parent ? store.snapshot : await loadSnapshot(store, parent);

      if (parent !== undefined && base.rootTree === next.rootTree) {
        store.snapshot = { ...next.snapshot, revision: parent };
        return { revision: parent, parent, committed: false, changes: [], registry: [] };
      }

      const changes = await compareNodes(store, base, next.snapshot);
      const registry = compareRegistry(base, next.snapshot);

      // Only what the parent lacks: changed registry files, changed nodes' blobs and subtrees, the new trees above them.
      const known = knownOids(base);
      const parentRegistry = new Set(base.registry.values());
      const objects: EncodedObject[] = [...next.registryBlobs.values()].filter((blob) => !parentRegistry.has(blob.oid));
      for (const change of changes) objects.push(...(next.nodeObjects.get(nodeFolder(change.node) ?? change.node) ?? []));
      objects.push(...next.trees);
      await writeObjects(
        store,
        objects.filter((object) => !known.has(object.oid)),
      );

      const now = input.now ?? new Date();
      const signature = { ...IDENTITY, timestamp: Math.floor(now.getTime() / 1000), timezoneOffset: 0 };
      const revision = await git.writeCommit({
        fs: storeFs,
        dir: store.dir,
        gitdir: store.dir,
        commit: {
          message: formatCommitMessage(typeof input.trigger === 'function' ? input.trigger(registry) : input.trigger, changes, registry),
          tree: next.rootTree,
          parent: parent === undefined ? [] : [parent],
          author: signature,
          committer: signature,
        },
      });

      const current = await readMain(store);
      if (current !== parent) {
        throw new CourierError(
          'STORE_ERROR',
          `store ${store.dir}: ${MAIN_REF} moved from ${parent ?? '(none)'} to ${current ?? '(none)'} while committing; another process writes this store`,
          { dir: store.dir, expected: parent, actual: current, revision },
          { retryable: true },
        );
      }
      await git.writeRef({ fs: storeFs, dir: store.dir, gitdir: store.dir, ref: MAIN_REF, value: revision, force: true });
      store.snapshot = { ...next.snapshot, revision };
      return { revision, parent, committed: true, changes, registry };
    });
  } catch (err) {
    throw wrapStoreError(err, 'commit', store.dir, typeof input.trigger === 'string' ? { trigger: input.trigger } : {});
  }
}
