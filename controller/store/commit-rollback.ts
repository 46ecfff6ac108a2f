/**
 * Rolling back: a new revision on main whose node trees are those of an older revision (every
 * node, or only the named ones; the others keep main's). History is never rewritten: the rollback
 * is one more commit, so `git log` shows it like any other. The registry/ folder keeps main's
 * documents (the registry at the time of the rollback), so the nodes to contact stay known: a node
 * that did not exist yet in the old revision has no subtree and gets its artifacts removed.
 */
import git from 'isomorphic-git';
import { CourierError } from '../errors.js';
import { readMain, MAIN_REF } from './commit-revision.js';
import { compareNodes } from './compare-snapshots.js';
import { encodeTree, type EncodedObject, type TreeEntryInput } from './encode-object.js';
import { formatCommitMessage, normalizeTrigger } from './format-commit-message.js';
import { loadNodeManifest, loadSnapshot } from './load-snapshot.js';
import type { CommitResult, NodeSnapshot, RevisionSnapshot, Store } from './model.js';
import { resolveRevision } from './resolve-revision.js';
import { runSerialized } from './run-serialized.js';
import { revisionNotFound, wrapStoreError } from './store-error.js';
import { NODES_DIR, REGISTRY_DIR } from './store-layout.js';
import { storeFs } from './store-fs.js';
import { writeObjects } from './write-objects.js';

/** What `commitRollback` is asked for. */
export interface RollbackInput {
  /** The revision to roll back to (any spec resolveRevision takes). */
  target: string;
  /** Only these nodes (default: every node). */
  nodes?: string[];
  /** Why, in the operator's words; kept in the commit message. */
  reason?: string;
  now?: Date;
}

/** The rollback's outcome: a commit result plus the full id of the revision rolled back to. */
export interface RollbackResult extends CommitResult {
  target: string;
  /** The trigger written in the `Courier-Trigger` trailer. */
  trigger: string;
}

const IDENTITY = { name: 'courier', email: 'courier@localhost' };

/** The trigger of a rollback commit: `rollback to <short rev>`, with the nodes when not all. */
export function rollbackTrigger(target: string, nodes?: readonly string[]): string {
  return `rollback to ${target.slice(0, 12)}${nodes && nodes.length > 0 ? ` (nodes ${[...nodes].sort().join(', ')})` : ''}`;
}

/** Commits main's tree with the node subtrees of `input.target`; REVISION_NOT_FOUND / NODE_NOT_FOUND change nothing. */
export async function commitRollback(store: Store, input: RollbackInput): Promise<RollbackResult> {
  const target = await resolveRevision(store, input.target);
  try {
    return await runSerialized(store.dir, async () => {
      const parent = await readMain(store);
      if (parent === undefined) throw revisionNotFound(store.dir, 'main', 'the store has no revisions yet');
      const [base, old] = await Promise.all([loadSnapshot(store, parent), loadSnapshot(store, target)]);
      const nodes = pickNodes(store, base, old, input.nodes);
      const trigger = rollbackTrigger(target, input.nodes);

      const nodesTree = encodeTree([...nodes].map(([name, node]): TreeEntryInput => ({ name, type: 'tree', oid: node.tree })));
      const rootEntries: TreeEntryInput[] = [];
      const trees: EncodedObject[] = [];
      if (base.registry.size > 0) {
        const registryTree = encodeTree([...base.registry].map(([name, oid]): TreeEntryInput => ({ name, type: 'blob', oid })));
        trees.push(registryTree);
        rootEntries.push({ name: REGISTRY_DIR, type: 'tree', oid: registryTree.oid });
      }
      if (nodes.size > 0) {
        trees.push(nodesTree);
        rootEntries.push({ name: NODES_DIR, type: 'tree', oid: nodesTree.oid });
      }
      const root = encodeTree(rootEntries);
      trees.push(root);
      if (root.oid === base.rootTree) return { revision: parent, parent, committed: false, changes: [], registry: [], target, trigger };

      const next: RevisionSnapshot = { revision: undefined, rootTree: root.oid, registry: base.registry, nodes };
      // compareNodes reads the new side's manifests from the snapshot: load those of the changed nodes
      for (const [name, node] of nodes) if (base.nodes.get(name)?.tree !== node.tree) await loadNodeManifest(store, node, name);
      const changes = await compareNodes(store, base, next);
      // every subtree already exists (it is the old revision's): only the trees above it are new
      await writeObjects(store, trees);

      const now = input.now ?? new Date();
      const signature = { ...IDENTITY, timestamp: Math.floor(now.getTime() / 1000), timezoneOffset: 0 };
      const revision = await git.writeCommit({
        fs: storeFs,
        dir: store.dir,
        gitdir: store.dir,
        commit: { message: rollbackMessage(trigger, input.reason, target, formatCommitMessage(trigger, changes, [])), tree: root.oid, parent: [parent], author: signature, committer: signature },
      });
      const current = await readMain(store);
      if (current !== parent) {
        throw new CourierError('STORE_ERROR', `store ${store.dir}: ${MAIN_REF} moved while rolling back; another process writes this store`, { dir: store.dir, expected: parent, actual: current }, { retryable: true });
      }
      await git.writeRef({ fs: storeFs, dir: store.dir, gitdir: store.dir, ref: MAIN_REF, value: revision, force: true });
      store.snapshot = undefined;
      return { revision, parent, committed: true, changes, registry: [], target, trigger };
    });
  } catch (err) {
    throw wrapStoreError(err, 'rollback', store.dir, { target });
  }
}

/** The node subtrees of the rollback revision: the old revision's (all, or the named ones over main's). */
function pickNodes(store: Store, base: RevisionSnapshot, old: RevisionSnapshot, only: string[] | undefined): Map<string, NodeSnapshot> {
  if (only === undefined || only.length === 0) return new Map([...old.nodes].map(([name, node]) => [name, { tree: node.tree }]));
  const nodes = new Map([...base.nodes].map(([name, node]) => [name, { tree: node.tree }]));
  for (const name of only) {
    if (!base.nodes.has(name) && !old.nodes.has(name)) {
      throw new CourierError('NODE_NOT_FOUND', `store ${store.dir}: node "${name}" is neither in main nor in ${old.revision?.slice(0, 12)}; name a node that \`courier log --node\` knows`, { node: name });
    }
    const node = old.nodes.get(name);
    if (node) nodes.set(name, { tree: node.tree });
    else nodes.delete(name);
  }
  return nodes;
}

/** The commit message: the usual subject/body/trailers, the reason and the full target id after the subject. */
function rollbackMessage(trigger: string, reason: string | undefined, target: string, formatted: string): string {
  const [subject, ...rest] = formatted.split('\n');
  const why = reason === undefined || reason.trim() === '' ? [] : [`Reason: ${normalizeTrigger(reason)}`];
  return [subject, '', `Rolled back to ${target}.`, ...why, ...rest].join('\n');
}
