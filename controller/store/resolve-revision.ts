/**
 * Turning what a user types into a commit id: a full or abbreviated (≥4 hex) id, `main`, `HEAD`,
 * `refs/nodes/<node>` (or `nodes/<node>`), each optionally followed by `~N` / `^` steps back along
 * first parents.
 */
import git from 'isomorphic-git';
import { nodeKey } from '../registry/node-key.js';
import type { Store } from './model.js';
import { isNotFound, revisionNotFound, wrapStoreError } from './store-error.js';
import { storeFs } from './store-fs.js';

const FULL_OID = /^[0-9a-f]{40}$/;
/** Commit ids remembered per store handle (a daemon names the same few revisions for every node). */
const KNOWN_COMMITS_MAX = 256;
const SHORT_OID = /^[0-9a-f]{4,39}$/;
/** A conservative subset of git-check-ref-format: no `..`, no empty component, no leading dot, safe characters only. */
const REF_NAME = /^(?!.*\.\.)(?!.*\/\/)(?!\/)(?!.*\/$)(?!.*\.lock$)(?!\.)(?!.*\/\.)[A-Za-z0-9._/-]+$/;

async function readCommitParent(store: Store, oid: string): Promise<string | undefined> {
  const { commit } = await git.readCommit({ fs: storeFs, dir: store.dir, gitdir: store.dir, oid, cache: store.cache });
  return commit.parent[0];
}

/** The commit `base` (no `~`/`^`) names; REVISION_NOT_FOUND when it names nothing or not a commit. */
async function resolveBase(store: Store, spec: string, base: string): Promise<string> {
  let oid: string | undefined;
  if (FULL_OID.test(base)) {
    oid = base;
  } else if (SHORT_OID.test(base)) {
    try {
      oid = await git.expandOid({ fs: storeFs, dir: store.dir, gitdir: store.dir, oid: base, cache: store.cache });
    } catch (err) {
      if ((err as { code?: unknown }).code === 'AmbiguousError') {
        throw revisionNotFound(store.dir, spec, `the abbreviation ${base} is ambiguous; give more hex digits`, err);
      }
      if (!isNotFound(err)) throw err;
    }
  }
  if (oid === undefined) {
    if (!REF_NAME.test(base)) throw revisionNotFound(store.dir, spec, 'not a commit id or ref name');
    // refs/nodes/<Name> is stored under the name's key (lowercase), so any spelling of the name finds it
    const nodeRef = /^(?:refs\/)?nodes\/([^/]+)$/.exec(base);
    const ref = nodeRef === null ? base : `refs/nodes/${nodeKey(nodeRef[1]!)}`;
    try {
      oid = await git.resolveRef({ fs: storeFs, dir: store.dir, gitdir: store.dir, ref });
    } catch (err) {
      if (!isNotFound(err)) throw err;
      const empty = (base === 'main' || base === 'HEAD') && !(await hasAnyCommit(store));
      throw revisionNotFound(store.dir, spec, empty ? 'the store has no revisions yet' : 'no such commit or ref', err);
    }
  }
  if (store.knownCommits?.has(oid)) return oid;
  try {
    await git.readCommit({ fs: storeFs, dir: store.dir, gitdir: store.dir, oid, cache: store.cache });
    const known = (store.knownCommits ??= new Set());
    if (known.size >= KNOWN_COMMITS_MAX) known.clear();
    known.add(oid);
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (isNotFound(err)) throw revisionNotFound(store.dir, spec, `no object ${oid}`, err);
    if (code === 'ObjectTypeError') throw revisionNotFound(store.dir, spec, `${oid} is not a commit`, err);
    throw err;
  }
  return oid;
}

async function hasAnyCommit(store: Store): Promise<boolean> {
  try {
    await git.resolveRef({ fs: storeFs, dir: store.dir, gitdir: store.dir, ref: 'refs/heads/main' });
    return true;
  } catch {
    return false;
  }
}

/** Resolves `spec` to a full commit id; REVISION_NOT_FOUND (with `data.spec`) when it names no commit. */
export async function resolveRevision(store: Store, spec: string): Promise<string> {
  try {
    const trimmed = spec.trim();
    const match = /^(.+?)((?:~\d*|\^1?)*)$/.exec(trimmed);
    if (trimmed === '' || match === null) throw revisionNotFound(store.dir, spec, 'not a commit id or ref name');
    const base = match[1]!;
    let steps = 0;
    for (const step of match[2]!.match(/~\d*|\^1?/g) ?? []) {
      steps += step.startsWith('~') ? (step.length > 1 ? Number(step.slice(1)) : 1) : 1;
    }
    let oid = await resolveBase(store, spec, base);
    for (let back = 0; back < steps; back++) {
      const parent = await readCommitParent(store, oid);
      if (parent === undefined) throw revisionNotFound(store.dir, spec, `history has only ${back} revision(s) before ${base}`);
      oid = parent;
    }
    return oid;
  } catch (err) {
    throw wrapStoreError(err, 'resolve revision', store.dir, { spec });
  }
}
