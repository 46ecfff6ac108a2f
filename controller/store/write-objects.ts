/** Writes blobs and trees into the store as loose objects through isomorphic-git. */
import { deflateSync } from 'node:zlib';
import git from 'isomorphic-git';
import { wrapObject, type EncodedObject } from './encode-object.js';
import type { Store } from './model.js';
import { storeFs } from './store-fs.js';

/**
 * Writes every object (skipping duplicate oids). The objects are deflated here with node:zlib and
 * handed to `git.writeObject` as `format: 'deflated'`: isomorphic-git's own deflate goes through
 * CompressionStream at about 1 ms per object, ten times slower. isomorphic-git still does the write
 * (and skips an object that already exists).
 */
export async function writeObjects(store: Store, objects: EncodedObject[]): Promise<void> {
  const unique = new Map(objects.map((object) => [object.oid, object]));
  for (const object of unique.values()) {
    await git.writeObject({
      fs: storeFs,
      dir: store.dir,
      gitdir: store.dir,
      type: object.type,
      object: deflateSync(wrapObject(object)),
      format: 'deflated',
      oid: object.oid,
    });
  }
}
