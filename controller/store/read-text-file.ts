/** Reading one file of a revision's tree. */
import git from 'isomorphic-git';
import type { Store } from './model.js';
import { isNotFound } from './store-error.js';
import { storeFs } from './store-fs.js';

/** The UTF-8 text at `filepath` in the tree of commit `oid`, or undefined when there is no such file. */
export async function readTextFile(store: Store, oid: string, filepath: string): Promise<string | undefined> {
  try {
    const { blob } = await git.readBlob({ fs: storeFs, dir: store.dir, gitdir: store.dir, oid, filepath, cache: store.cache });
    return Buffer.from(blob).toString('utf8');
  } catch (err) {
    // A path through a blob (nodes/x/hosts/y) is as absent as a missing path.
    const code = (err as { code?: unknown }).code;
    if (isNotFound(err) || code === 'ObjectTypeError') return undefined;
    throw err;
  }
}

/** The entries of the tree at `filepath` in commit `oid` (empty when there is no such tree). */
export async function readTreeEntries(store: Store, oid: string, filepath: string): Promise<{ path: string; oid: string; type: string }[]> {
  try {
    const { tree } = await git.readTree({ fs: storeFs, dir: store.dir, gitdir: store.dir, oid, filepath, cache: store.cache });
    return tree;
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (isNotFound(err) || code === 'ObjectTypeError') return [];
    throw err;
  }
}
