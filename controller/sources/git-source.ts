/**
 * The `git` source: a repository (URL, ref, sub-path) laid out like the files source, fetched over
 * HTTP(S) with isomorphic-git into a cache repository under the state directory. Documents are read
 * straight from the fetched commit's tree (no checkout), so what is read is exactly one commit.
 * Watching is polling: every interval a shallow fetch of the one ref, and a notification when its
 * commit moved. Fetch failures are SOURCE_UNAVAILABLE (retryable) and polling goes on.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { mkdir, readdir, rm } from 'node:fs/promises';
import nodePath from 'node:path';
import git from 'isomorphic-git';
import http from 'isomorphic-git/http/node';
import { CourierError } from '../errors.js';
import { createRegistryError } from '../registry/create-registry-error.js';
import type { RawDocument, RegistryProblem, RegistrySnapshot } from '../registry/model.js';
import { decodeRegistryText, pickDocuments, REGISTRY_FILES, type SourceWatcher } from './source-watcher.js';

/** Options for createGitSource (the config's `source` of type git, plus where to cache). */
export interface GitSourceOptions {
  /** http(s) URL of the repository; credentials in the URL are used but never shown. */
  url: string;
  /** Branch or tag whose commit is read. */
  ref: string;
  /** Directory inside the repository holding the registry documents (`.` for the root). */
  path: string;
  /** The cache repository (under the state directory); created when missing, wiped when it serves another URL. */
  cacheDir: string;
  /** Poll interval while watching. */
  intervalMs: number;
  /** Bound on one fetch (all its HTTP requests); default 60 s. */
  fetchTimeoutMs?: number;
}

/** Commit ids in triggers and origins are abbreviated to this many hex digits. */
const SHORT_OID_LENGTH = 12;
const DEFAULT_FETCH_TIMEOUT_MS = 60_000;
// Only the tip commit is needed: the tree is read, never the history.
const FETCH_DEPTH = 1;
// Every fetch that brings new objects adds a packfile and shallow fetches never share history, so
// the cache only grows; past this many packs it is wiped and fetched afresh (one small download).
const MAX_CACHED_PACKS = 32;
// Symbolic links in a tree are mode 120000 blobs holding the target path, not the file.
const SYMLINK_MODE = '120000';

/** A SourceWatcher over a git repository: `read()` fetches and reads the ref's commit, `start()` polls. */
export function createGitSource(options: GitSourceOptions): SourceWatcher {
  const shownUrl = redactUrl(options.url);
  const protocol = parseProtocol(options.url);
  if (protocol !== 'http:' && protocol !== 'https:') {
    throw new CourierError(
      'CONFIG_INVALID',
      `source.url: ${shownUrl} is not an http(s) URL; the git source fetches over HTTP(S) only (serve the repository with git http-backend or a forge)`,
      { url: shownUrl },
    );
  }
  const ref = options.ref;
  const gitdir = nodePath.resolve(options.cacheDir);
  const subPath = normalizeSubPath(options.path);
  const sourceId = createHash('sha256').update(options.url).digest('hex').slice(0, 16);
  const fetchTimeoutMs = options.fetchTimeoutMs ?? DEFAULT_FETCH_TIMEOUT_MS;
  const closing = new AbortController();
  // isomorphic-git's object cache (parsed packfile indexes); reset whenever the cache repo is wiped.
  let objectCache: object = {};
  let cacheChecked = false;
  // Fetches share one cache repository: run them (and reads from it) one at a time.
  let queue: Promise<unknown> = Promise.resolve();
  // The commit last handed out by read() or seen by a poll: a poll notifies when the ref moved past it.
  let lastCommit: string | undefined;
  let started = false;
  let timer: NodeJS.Timeout | undefined;
  let polling: Promise<void> | undefined;

  /** Run `task` after every earlier task on the cache repository. */
  function runExclusive<T>(task: () => Promise<T>): Promise<T> {
    const run = queue.then(task, task);
    queue = run.catch(() => undefined);
    return run;
  }

  /** A SOURCE_UNAVAILABLE error for this source: what failed, the wrapped cause's reason, how to fix it. */
  function unavailable(what: string, details: { cause?: unknown; retryable?: boolean; fix?: string } = {}): CourierError {
    const reason = details.cause === undefined ? '' : `: ${describeCause(details.cause)}`;
    const fix = details.fix ?? 'check that the URL is reachable and the ref exists';
    return new CourierError(
      'SOURCE_UNAVAILABLE',
      `git source ${shownUrl} (ref ${ref}): ${what}${reason}; ${fix}`,
      { source: 'git', url: shownUrl, ref },
      { cause: details.cause, retryable: details.retryable ?? true },
    );
  }

  /** Create the cache repository, or wipe and re-create it when it belongs to another URL or has grown too large. */
  async function prepareCache(): Promise<void> {
    const owner = cacheChecked ? sourceId : await git.getConfig({ fs, gitdir, path: 'courier.source' }).catch(() => undefined);
    const packs: string[] = owner === sourceId ? await readdir(nodePath.join(gitdir, 'objects', 'pack')).catch(() => []) : [];
    const wipe = owner !== sourceId || packs.filter((name) => name.endsWith('.pack')).length > MAX_CACHED_PACKS;
    if (!wipe) {
      cacheChecked = true;
      return;
    }
    // Never wipe a directory that is not a git repository: a mistyped cache path must not cost data.
    const existing: string[] = await readdir(gitdir).catch(() => []);
    if (existing.length > 0 && !(existing.includes('HEAD') && existing.includes('objects'))) {
      throw new Error(`${gitdir} exists and is not a git repository; remove it or move it away, courier creates its cache there`);
    }
    await rm(gitdir, { recursive: true, force: true });
    await mkdir(gitdir, { recursive: true });
    await git.init({ fs, dir: gitdir, bare: true });
    // fetch stores what it fetched under the remote's refspec; the URL itself is passed on every fetch
    // and not written to disk (it may carry credentials).
    await git.setConfig({ fs, gitdir, path: 'remote.origin.fetch', value: '+refs/heads/*:refs/remotes/origin/*' });
    await git.setConfig({ fs, gitdir, path: 'courier.source', value: sourceId });
    objectCache = {};
    cacheChecked = true;
  }

  /** Fetch the ref (shallow, that branch or tag only) and return the commit it points at. */
  async function fetchCommit(): Promise<string> {
    if (closing.signal.aborted) throw unavailable('the source is closed', { retryable: false, fix: 'create a new source' });
    try {
      await prepareCache();
    } catch (err) {
      throw unavailable(`cannot prepare the cache repository ${gitdir}`, { cause: err, fix: 'check the state directory (permissions, disk space)' });
    }
    const signal = AbortSignal.any([closing.signal, AbortSignal.timeout(fetchTimeoutMs)]);
    const client = { request: (request: Parameters<typeof http.request>[0]) => http.request({ ...request, signal }) };
    let fetchHead: string | null;
    try {
      ({ fetchHead } = await git.fetch({
        fs,
        http: client,
        gitdir,
        url: options.url,
        ref: options.ref,
        singleBranch: true,
        depth: FETCH_DEPTH,
        tags: false,
        cache: objectCache,
      }));
    } catch (err) {
      throw unavailable('fetch failed', { cause: err });
    }
    if (fetchHead === null) throw unavailable('the repository is empty');
    try {
      return await peelToCommit(fetchHead);
    } catch (err) {
      throw unavailable(`${fetchHead.slice(0, SHORT_OID_LENGTH)} does not lead to a commit`, { cause: err, retryable: false, fix: 'set source.ref to a branch or a tag of a commit' });
    }
  }

  /** Follow annotated tags down to the commit they name. */
  async function peelToCommit(oid: string): Promise<string> {
    for (let depth = 0; depth < 10; depth++) {
      const object = await git.readObject({ fs, gitdir, oid, cache: objectCache });
      if (object.type === 'commit') return oid;
      if (object.type !== 'tag') throw new Error(`${options.ref} names a ${object.type}, not a commit`);
      oid = (await git.readTag({ fs, gitdir, oid, cache: objectCache })).tag.object;
    }
    throw new Error(`${options.ref} is a chain of more than 10 tags`);
  }

  /** The registry documents in `commit`'s tree at the sub-path; ambiguous twins are REGISTRY_INVALID. */
  async function readDocuments(commit: string): Promise<RegistrySnapshot['documents']> {
    const short = commit.slice(0, SHORT_OID_LENGTH);
    const originOf = (file: string) => `${short}:${subPath === '' ? '' : `${subPath}/`}${file}`;
    let entries: Awaited<ReturnType<typeof git.readTree>>['tree'];
    try {
      ({ tree: entries } = await git.readTree({ fs, gitdir, oid: commit, filepath: subPath === '' ? undefined : subPath, cache: objectCache }));
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      if (code === 'NotFoundError' || code === 'ObjectTypeError') {
        throw unavailable(`${short}:${subPath} is not a directory of the commit`, { cause: err, fix: 'set source.path to the directory holding the registry documents' });
      }
      throw unavailable(`cannot read the tree of commit ${short}`, { cause: err, fix: `delete the cache repository ${gitdir}; it is fetched afresh` });
    }
    const problems: RegistryProblem[] = [];
    const found: RawDocument[] = [];
    for (const file of REGISTRY_FILES) {
      const entry = entries.find((candidate) => candidate.path === file.file);
      if (entry === undefined) continue;
      const origin = originOf(file.file);
      if (entry.type !== 'blob' || entry.mode === SYMLINK_MODE) {
        const what = entry.mode === SYMLINK_MODE ? 'a symbolic link' : `a ${entry.type === 'tree' ? 'directory' : 'submodule'}`;
        problems.push({ document: file.document, origin, path: '$', message: `is ${what}; the git source reads regular files only, commit the file itself` });
        continue;
      }
      const { blob } = await git.readBlob({ fs, gitdir, oid: entry.oid, cache: objectCache });
      const doc = decodeRegistryText(blob, file, origin, problems, 'commit it as UTF-8 text');
      if (doc) found.push(doc);
    }
    const documents = pickDocuments(found, problems);
    if (problems.length > 0) throw createRegistryError(problems);
    return documents;
  }

  /** The trigger naming a commit of this source. */
  const triggerFor = (commit: string) => `git commit ${commit.slice(0, SHORT_OID_LENGTH)} of ${shownUrl}`;

  /** One poll: fetch, and notify when the commit differs from the last one read or seen. */
  async function poll(onChange: (trigger: string) => void, onError: ((err: CourierError) => void) | undefined, initial: boolean): Promise<void> {
    try {
      const commit = await runExclusive(fetchCommit);
      if (closing.signal.aborted) return;
      const previous = lastCommit;
      lastCommit = commit;
      // The first poll only sets the baseline; after a failed first poll, the first success notifies.
      if (commit !== previous && !(initial && previous === undefined)) onChange(triggerFor(commit));
    } catch (err) {
      if (closing.signal.aborted) return;
      onError?.(err instanceof CourierError ? err : unavailable('poll failed', { cause: err }));
    }
  }

  /** Poll now, then again `intervalMs` after each poll ends (polls never overlap). */
  function schedule(onChange: (trigger: string) => void, onError: ((err: CourierError) => void) | undefined, initial: boolean): Promise<void> {
    polling = poll(onChange, onError, initial).then(() => {
      polling = undefined;
      if (closing.signal.aborted) return;
      timer = setTimeout(() => void schedule(onChange, onError, false), options.intervalMs);
    });
    return polling;
  }

  return {
    read: () =>
      runExclusive(async () => {
        const commit = await fetchCommit();
        // Seen even if its documents turn out invalid: a poll must not report it again.
        lastCommit = commit;
        const documents = await readDocuments(commit);
        for (const doc of Object.values(documents)) doc.version = triggerFor(commit);
        return { documents, trigger: triggerFor(commit) };
      }),

    async start(onChange, onError) {
      if (closing.signal.aborted) throw new Error('createGitSource: start() after close()');
      if (started) throw new Error('createGitSource: start() called twice');
      started = true;
      await schedule(onChange, onError, true);
    },

    async close() {
      closing.abort();
      clearTimeout(timer);
      timer = undefined;
      await polling;
      await queue;
    },
  };
}

/** The URL with any user name and password replaced by `***`, for messages and triggers. */
function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.username === '' && parsed.password === '') return url;
    parsed.username = '***';
    parsed.password = '';
    return parsed.toString();
  } catch {
    return url;
  }
}

/** The URL's scheme (`https:`), or undefined when it does not parse. */
function parseProtocol(url: string): string | undefined {
  try {
    return new URL(url).protocol;
  } catch {
    return undefined;
  }
}

/** The sub-path as git tree paths are written: no `./`, no leading or trailing `/`; '' for the root. */
function normalizeSubPath(subPath: string): string {
  const normalized = nodePath.posix.normalize(subPath.replaceAll('\\', '/')).replace(/^\/+|\/+$/g, '');
  return normalized === '.' ? '' : normalized;
}

/** A short reason for a wrapped error: its code when it has one, and its message. */
function describeCause(cause: unknown): string {
  if (!(cause instanceof Error)) return String(cause);
  const code = (cause as { code?: unknown }).code;
  const cause2 = cause.cause instanceof Error ? ` (${cause.cause.message})` : '';
  return `${typeof code === 'string' && !cause.message.includes(code) ? `${code}: ` : ''}${cause.message}${cause2}`;
}
