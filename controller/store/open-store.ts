/** Opening the store: a bare Git repository, created on first use. */
import path from 'node:path';
import git from 'isomorphic-git';
import type { Store } from './model.js';
import { wrapStoreError } from './store-error.js';
import { storeFs } from './store-fs.js';

/** The store handle, re-exported for callers that only open a store. */
export type { Store } from './model.js';

/** Opens the bare repository at `dir`, creating it (branch `main`, no working tree) when absent. */
export async function openStore(dir: string): Promise<Store> {
  const absolute = path.resolve(dir);
  try {
    // init returns early when `config` already exists, so this is also the "open" path.
    await git.init({ fs: storeFs, dir: absolute, gitdir: absolute, bare: true, defaultBranch: 'main' });
  } catch (err) {
    throw wrapStoreError(err, 'open', absolute);
  }
  return { dir: absolute, cache: {} };
}
