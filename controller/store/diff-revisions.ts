/**
 * Unified diffs between two revisions, like `git diff A B -- nodes/ registry/`: only subtrees whose
 * oids differ are opened, so a one-node change reads a handful of objects.
 */
import { FILE_HEADERS_ONLY, createTwoFilesPatch } from 'diff';
import git from 'isomorphic-git';
import { mapLimited } from './map-limited.js';
import type { FileDiff, Store } from './model.js';
import { readTreeEntries } from './read-text-file.js';
import { resolveRevision } from './resolve-revision.js';
import { wrapStoreError } from './store-error.js';
import { NODES_DIR, REGISTRY_DIR, nodeFolder } from './store-layout.js';
import { storeFs } from './store-fs.js';

/** The diff entry shape, re-exported beside the function that produces it. */
export type { FileDiff } from './model.js';

/** Options of diffRevisions. */
export interface DiffRevisionsOptions {
  /** Only `nodes/<node>/` (the registry is left out). */
  node?: string;
}

interface ChangedFile {
  path: string;
  before?: string;
  after?: string;
}

type Entry = { oid: string; type: string };

async function readEntries(store: Store, tree: string | undefined): Promise<Map<string, Entry>> {
  if (tree === undefined) return new Map();
  const { tree: entries } = await git.readTree({ fs: storeFs, dir: store.dir, gitdir: store.dir, oid: tree, cache: store.cache });
  return new Map(entries.map((entry) => [entry.path, { oid: entry.oid, type: entry.type }]));
}

/** Changed blobs between two trees (either may be absent), recursing only into subtrees that differ. */
async function diffTrees(store: Store, before: string | undefined, after: string | undefined, prefix: string, out: ChangedFile[]): Promise<void> {
  if (before === after) return;
  const [old, next] = await Promise.all([readEntries(store, before), readEntries(store, after)]);
  for (const name of new Set([...old.keys(), ...next.keys()])) {
    const a = old.get(name);
    const b = next.get(name);
    if (a?.oid === b?.oid) continue;
    const path = `${prefix}${name}`;
    const aTree = a?.type === 'tree' ? a.oid : undefined;
    const bTree = b?.type === 'tree' ? b.oid : undefined;
    if (aTree !== undefined || bTree !== undefined) await diffTrees(store, aTree, bTree, `${path}/`, out);
    const aBlob = a?.type === 'blob' ? a.oid : undefined;
    const bBlob = b?.type === 'blob' ? b.oid : undefined;
    if (aBlob !== undefined || bBlob !== undefined) out.push({ path, before: aBlob, after: bBlob });
  }
}

async function subtreeOid(store: Store, commit: string | undefined, filepath: string): Promise<string | undefined> {
  if (commit === undefined) return undefined;
  const slash = filepath.lastIndexOf('/');
  const parent = slash === -1 ? '' : filepath.slice(0, slash);
  const name = filepath.slice(slash + 1);
  const entries = await readTreeEntries(store, commit, parent);
  const entry = entries.find((candidate) => candidate.path === name);
  return entry?.type === 'tree' ? entry.oid : undefined;
}

async function readText(store: Store, oid: string | undefined): Promise<string> {
  if (oid === undefined) return '';
  const { blob } = await git.readBlob({ fs: storeFs, dir: store.dir, gitdir: store.dir, oid, cache: store.cache });
  return Buffer.from(blob).toString('utf8');
}

/** Every changed file under `nodes/` (and `registry/` unless a node is given) from `from` (undefined = empty tree) to `to`, sorted by path. */
export async function diffRevisions(store: Store, from: string | undefined, to: string, options: DiffRevisionsOptions = {}): Promise<FileDiff[]> {
  const [fromOid, toOid] = await Promise.all([from === undefined ? undefined : resolveRevision(store, from), resolveRevision(store, to)]);
  try {
    const nodeDir = options.node === undefined ? undefined : nodeFolder(options.node);
    const folders = options.node === undefined ? [REGISTRY_DIR, NODES_DIR] : nodeDir !== undefined ? [`${NODES_DIR}/${nodeDir}`] : [];
    const changed: ChangedFile[] = [];
    for (const folder of folders) {
      const [before, after] = await Promise.all([subtreeOid(store, fromOid, folder), subtreeOid(store, toOid, folder)]);
      await diffTrees(store, before, after, `${folder}/`, changed);
    }
    changed.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    return await mapLimited(changed, 16, async (file): Promise<FileDiff> => {
      const [oldText, newText] = await Promise.all([readText(store, file.before), readText(store, file.after)]);
      const status = file.before === undefined ? 'added' : file.after === undefined ? 'removed' : 'modified';
      const patch = createTwoFilesPatch(
        status === 'added' ? '/dev/null' : `a/${file.path}`,
        status === 'removed' ? '/dev/null' : `b/${file.path}`,
        oldText,
        newText,
        undefined,
        undefined,
        { headerOptions: FILE_HEADERS_ONLY },
      );
      return { path: file.path, status, patch };
    });
  } catch (err) {
    throw wrapStoreError(err, 'diff revisions', store.dir, { from: fromOid, to: toOid });
  }
}
