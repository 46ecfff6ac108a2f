/**
 * The site's suspension, kept in the store as the ref `refs/courier/suspension`: each suspend and
 * resume is a commit on that ref (tree: `suspension.json` while suspended, empty once resumed), so
 * the state lives with the store in the state directory (surviving restarts, and seen by whichever
 * replica leads: replicas share the state volume, as they share the store), and
 * `git log refs/courier/suspension` is its audit trail. main is not touched.
 */
import git from 'isomorphic-git';
import { CourierError } from '../errors.js';
import { encodeBlob, encodeTree } from './encode-object.js';
import type { Store } from './model.js';
import { runSerialized } from './run-serialized.js';
import { isNotFound, wrapStoreError } from './store-error.js';
import { formatJson } from './store-layout.js';
import { storeFs } from './store-fs.js';
import { writeObjects } from './write-objects.js';

/** The ref holding the suspension history. */
export const SUSPENSION_REF = 'refs/courier/suspension';
const FILE = 'suspension.json';
const IDENTITY = { name: 'courier', email: 'courier@localhost' };

/** Who suspended: a `courier` command (directly or through the daemon) or the dashboard. */
export type SuspendedBy = 'command' | 'dashboard';

/** A suspension in force. */
export interface Suspension {
  /** When it began (ISO 8601 UTC). */
  since: string;
  /** The operator's reason ('' when none was given). */
  reason: string;
  /** The revision main was pinned at. */
  revision: string;
  by: SuspendedBy;
  /** `user@host` of the command, or the dashboard's client address. */
  actor: string;
}

/** The suspension in force, or undefined when the site is not suspended. */
export async function readSuspension(store: Store): Promise<Suspension | undefined> {
  let tip: string;
  try {
    tip = await git.resolveRef({ fs: storeFs, dir: store.dir, gitdir: store.dir, ref: SUSPENSION_REF });
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw wrapStoreError(err, `read ${SUSPENSION_REF}`, store.dir);
  }
  try {
    const { blob } = await git.readBlob({ fs: storeFs, dir: store.dir, gitdir: store.dir, oid: tip, filepath: FILE, cache: store.cache });
    return parseSuspension(store, Buffer.from(blob).toString('utf8'));
  } catch (err) {
    // resumed: the tip's tree has no suspension.json
    if (isNotFound(err)) return undefined;
    throw wrapStoreError(err, `read ${SUSPENSION_REF}`, store.dir);
  }
}

function parseSuspension(store: Store, text: string): Suspension {
  const value = JSON.parse(text) as Partial<Suspension>;
  if (typeof value.since !== 'string' || typeof value.revision !== 'string') {
    throw new CourierError('STORE_ERROR', `store ${store.dir}: ${SUSPENSION_REF}:${FILE} is not a suspension record; run \`courier resume\` to clear it`, { dir: store.dir });
  }
  return { since: value.since, reason: value.reason ?? '', revision: value.revision, by: value.by === 'dashboard' ? 'dashboard' : 'command', actor: value.actor ?? '' };
}

/** Records a suspension (replacing one in force, e.g. after a further rollback). */
export async function writeSuspension(store: Store, suspension: Suspension): Promise<void> {
  const subject = `suspend at ${suspension.revision.slice(0, 12)}${suspension.reason ? `: ${suspension.reason.replace(/\s+/g, ' ')}` : ''}`;
  await record(store, suspension, `${subject}\n\nby ${suspension.by} (${suspension.actor})\n`, new Date(suspension.since));
}

/** Ends the suspension (a commit with an empty tree); a no-op when none is in force. */
export async function clearSuspension(store: Store, by: SuspendedBy, actor: string, now = new Date()): Promise<void> {
  if ((await readSuspension(store)) === undefined) return;
  await record(store, undefined, `resume\n\nby ${by} (${actor})\n`, now);
}

async function record(store: Store, suspension: Suspension | undefined, message: string, now: Date): Promise<void> {
  try {
    await runSerialized(`${store.dir}#suspension`, async () => {
      const blob = suspension === undefined ? undefined : encodeBlob(formatJson(suspension));
      const tree = encodeTree(blob === undefined ? [] : [{ name: FILE, type: 'blob', oid: blob.oid }]);
      await writeObjects(store, blob === undefined ? [tree] : [blob, tree]);
      let parent: string | undefined;
      try {
        parent = await git.resolveRef({ fs: storeFs, dir: store.dir, gitdir: store.dir, ref: SUSPENSION_REF });
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
      const signature = { ...IDENTITY, timestamp: Math.floor(now.getTime() / 1000), timezoneOffset: 0 };
      const commit = await git.writeCommit({
        fs: storeFs,
        dir: store.dir,
        gitdir: store.dir,
        commit: { message, tree: tree.oid, parent: parent === undefined ? [] : [parent], author: signature, committer: signature },
      });
      await git.writeRef({ fs: storeFs, dir: store.dir, gitdir: store.dir, ref: SUSPENSION_REF, value: commit, force: true });
    });
  } catch (err) {
    throw wrapStoreError(err, `write ${SUSPENSION_REF}`, store.dir);
  }
}
