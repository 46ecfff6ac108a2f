/**
 * One revision as `courier show` and `GET /api/revisions/<rev>` present it: trigger, time, message,
 * the changed nodes and artifacts and registry documents, and the unified diff of every changed
 * file against its first parent (against the empty tree for the first revision).
 */
import git from 'isomorphic-git';
import { diffRevisions } from './diff-revisions.js';
import { parseCommitMessage } from './format-commit-message.js';
import type { ChangeKind, FileDiff, Store } from './model.js';
import { resolveRevision } from './resolve-revision.js';
import { wrapStoreError } from './store-error.js';
import { MANIFEST_FILE, NODES_DIR, REGISTRY_DIR } from './store-layout.js';
import { storeFs } from './store-fs.js';

/** A revision with its changes and diffs. */
export interface RevisionDetail {
  revision: string;
  parent: string | null;
  time: string;
  trigger: string;
  message: string;
  /** Changed nodes, sorted by name, each with its changed artifacts (manifest.json left out). */
  nodes: { node: string; change: ChangeKind; artifacts: { name: string; change: ChangeKind }[] }[];
  /** Changed registry documents (store file names under registry/). */
  registry: { document: string; change: ChangeKind }[];
  /** Every changed file with its unified diff, sorted by path. */
  files: FileDiff[];
}

/** The revision `spec` names (any spec resolveRevision takes), with its diff against its parent. */
export async function showRevision(store: Store, spec: string): Promise<RevisionDetail> {
  const revision = await resolveRevision(store, spec);
  try {
    const { commit } = await git.readCommit({ fs: storeFs, dir: store.dir, gitdir: store.dir, oid: revision, cache: store.cache });
    const parent = commit.parent[0];
    const files = await diffRevisions(store, parent, revision);
    const nodes = new Map<string, RevisionDetail['nodes'][number]>();
    const registry: RevisionDetail['registry'] = [];
    for (const file of files) {
      const [top, node, name] = file.path.split('/');
      if (top === REGISTRY_DIR && node !== undefined) registry.push({ document: node, change: file.status });
      if (top !== NODES_DIR || node === undefined || name === undefined) continue;
      const entry = nodes.get(node) ?? { node, change: 'modified' as ChangeKind, artifacts: [] };
      nodes.set(node, entry);
      // a node appears or disappears with its manifest
      if (name === MANIFEST_FILE) {
        if (file.status !== 'modified') entry.change = file.status;
      } else {
        entry.artifacts.push({ name, change: file.status });
      }
    }
    const { trigger } = parseCommitMessage(commit.message);
    return {
      revision,
      parent: parent ?? null,
      time: new Date(commit.committer.timestamp * 1000).toISOString(),
      trigger,
      message: commit.message,
      nodes: [...nodes.values()].sort((a, b) => (a.node < b.node ? -1 : 1)),
      registry,
      files,
    };
  } catch (err) {
    throw wrapStoreError(err, `show ${revision}`, store.dir, { revision });
  }
}
