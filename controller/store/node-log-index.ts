/**
 * The per-node log index, so `courier log --node N` reads a handful of commits instead of walking
 * the whole history: `<store>/courier-index/node-log.json` lists main's first-parent chain (oldest
 * first) and, per node, the positions of the revisions whose `Courier-Nodes` trailer names it.
 *
 * It is a cache, never the source of truth: it records the main it was built at and is extended
 * when main moved ahead of it (only the new commits are read), rebuilt when it is missing,
 * unreadable or main no longer descends from it, and every revision it points at is read back from
 * the store and checked against its trailer (a mismatch rebuilds it). Writing it is best-effort
 * (temp file + rename); a store one cannot write still gets the right answer, only slower.
 */
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { inflateSync } from 'node:zlib';
import { parseCommitMessage } from './format-commit-message.js';
import type { RevisionInfo, Store } from './model.js';
import { wrapStoreError } from './store-error.js';
import { nodeKey } from '../registry/node-key.js';

/** The index file, inside the bare repository (git ignores unknown files there). */
export function nodeLogIndexPath(store: Store): string {
  return path.join(store.dir, 'courier-index', 'node-log.json');
}

interface NodeLogIndex {
  version: 2;
  /** The main the index was built at. */
  tip: string;
  /** main's first-parent chain, oldest first. */
  commits: string[];
  /** Node name → ascending positions in `commits`. */
  nodes: Record<string, number[]>;
}

/** What the log needs of a commit. */
interface CommitObject {
  parent: string[];
  committer: { timestamp: number };
  message: string;
}

// `courier log --node` must start fast: courier's commits are loose objects, read here with
// node:zlib; isomorphic-git (a large import) is loaded only for a packed object (after `git gc`).

function toInfo(oid: string, commit: CommitObject): RevisionInfo {
  const { trigger, nodes } = parseCommitMessage(commit.message);
  return { revision: oid, parent: commit.parent[0], time: new Date(commit.committer.timestamp * 1000).toISOString(), trigger, nodes, message: commit.message };
}

async function readCommit(store: Store, oid: string): Promise<CommitObject> {
  let raw: Buffer;
  try {
    raw = inflateSync(await readFile(path.join(store.dir, 'objects', oid.slice(0, 2), oid.slice(2))));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    const [{ default: git }, { storeFs }] = await Promise.all([import('isomorphic-git'), import('./store-fs.js')]);
    return (await git.readCommit({ fs: storeFs, dir: store.dir, gitdir: store.dir, oid, cache: store.cache })).commit;
  }
  return parseCommitObject(oid, raw);
}

/** A loose commit object (`commit <size>\0` + headers + blank line + message), as isomorphic-git reads it. */
function parseCommitObject(oid: string, raw: Buffer): CommitObject {
  const nul = raw.indexOf(0);
  if (nul === -1 || raw.subarray(0, 7).toString('latin1') !== 'commit ') throw new Error(`object ${oid} is not a commit`);
  const text = raw.subarray(nul + 1).toString('utf8');
  const split = text.indexOf('\n\n');
  const headers = (split === -1 ? text : text.slice(0, split)).split('\n');
  const parent: string[] = [];
  let timestamp = 0;
  for (const line of headers) {
    if (line.startsWith('parent ')) parent.push(line.slice(7).trim());
    else if (line.startsWith('committer ')) timestamp = Number(/ (\d+) [+-]\d{4}$/.exec(line)?.[1] ?? 0);
  }
  return { parent, committer: { timestamp }, message: split === -1 ? '' : text.slice(split + 2) };
}

/** main's commit from the refs files (loose, else packed-refs), without isomorphic-git; undefined for an empty store. */
async function readMainRef(store: Store): Promise<string | undefined> {
  const read = (file: string) => readFile(path.join(store.dir, file), 'utf8').catch((err: NodeJS.ErrnoException) => (err.code === 'ENOENT' ? undefined : Promise.reject(err)));
  const loose = (await read('refs/heads/main'))?.trim();
  if (loose) return loose;
  const packed = await read('packed-refs');
  return packed === undefined ? undefined : /^([0-9a-f]{40}) refs\/heads\/main$/m.exec(packed)?.[1];
}

async function loadIndex(store: Store): Promise<NodeLogIndex | undefined> {
  try {
    const index = JSON.parse(await readFile(nodeLogIndexPath(store), 'utf8')) as NodeLogIndex;
    if (index.version !== 2 || typeof index.tip !== 'string' || !Array.isArray(index.commits) || typeof index.nodes !== 'object') return undefined;
    if (index.commits.at(-1) !== index.tip) return undefined;
    return index;
  } catch {
    return undefined;
  }
}

async function saveIndex(store: Store, index: NodeLogIndex): Promise<void> {
  const file = nodeLogIndexPath(store);
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(tmp, JSON.stringify(index));
    await rename(tmp, file);
  } catch {
    // best-effort: the index is a cache
    await rm(tmp, { force: true }).catch(() => undefined);
  }
}

/** Walk main back until `known` (exclusive) or the root; the new commits oldest first, and whether `known` was reached. */
async function walkNew(store: Store, main: string, known: string | undefined): Promise<{ added: { oid: string; nodes: string[] }[]; reached: boolean }> {
  const added: { oid: string; nodes: string[] }[] = [];
  let oid: string | undefined = main;
  while (oid !== undefined) {
    if (oid === known) return { added: added.reverse(), reached: true };
    const commit = await readCommit(store, oid);
    added.push({ oid, nodes: parseCommitMessage(commit.message).nodes });
    oid = commit.parent[0];
  }
  return { added: added.reverse(), reached: known === undefined };
}

/** The index brought up to `main`: extended, or rebuilt when missing or no longer an ancestor chain of main. */
async function currentIndex(store: Store, main: string, fresh: boolean): Promise<NodeLogIndex> {
  const old = fresh ? undefined : await loadIndex(store);
  if (old?.tip === main) return old;
  const { added, reached } = await walkNew(store, main, old?.tip);
  // main no longer descends from the indexed tip (a rewritten store): the walk read everything, start over
  const index: NodeLogIndex = old && reached ? old : { version: 2, tip: main, commits: [], nodes: {} };
  for (const { oid, nodes } of added) {
    const position = index.commits.push(oid) - 1;
    // by store key: a node's spellings (MyNodeOne names as hostname prints them) are one node
    for (const node of nodes) (index.nodes[nodeKey(node)] ??= []).push(position);
  }
  index.tip = main;
  await saveIndex(store, index);
  return index;
}

/**
 * Revisions on main that changed `node`, newest first, at most `limit`, through the index; with
 * `upTo`, only that commit and its first-parent ancestors (undefined when `upTo` is not on main's
 * chain: the caller walks instead).
 */
export async function listNodeRevisions(store: Store, node: string, limit: number, upTo?: string): Promise<RevisionInfo[]>;
export async function listNodeRevisions(store: Store, node: string, limit: number, upTo: string | undefined): Promise<RevisionInfo[] | undefined>;
export async function listNodeRevisions(store: Store, node: string, limit: number, upTo?: string): Promise<RevisionInfo[] | undefined> {
  try {
    const main = await readMainRef(store);
    if (main === undefined || limit <= 0) return [];
    for (const fresh of [false, true]) {
      const index = await currentIndex(store, main, fresh);
      const end = upTo === undefined ? index.commits.length - 1 : index.commits.lastIndexOf(upTo);
      if (end === -1) return undefined;
      const positions = (index.nodes[nodeKey(node)] ?? []).filter((p) => p <= end);
      const picked = positions.slice(Math.max(0, positions.length - limit)).reverse();
      const revisions = await Promise.all(picked.map(async (p) => ({ oid: index.commits[p], commit: index.commits[p] === undefined ? undefined : await readCommit(store, index.commits[p]!) })));
      // the index is only a pointer: every revision must really name the node, or the index is rebuilt
      if (revisions.every((r) => r.commit !== undefined && parseCommitMessage(r.commit.message).nodes.some((n) => nodeKey(n) === nodeKey(node)))) {
        return revisions.map((r) => toInfo(r.oid!, r.commit!));
      }
    }
    return [];
  } catch (err) {
    throw wrapStoreError(err, 'list node revisions', store.dir, { node });
  }
}
