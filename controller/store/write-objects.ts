/** Writes blobs and trees into the store as loose objects through isomorphic-git. */
import fs from 'node:fs';
import { deflateSync } from 'node:zlib';
import git from 'isomorphic-git';
import { wrapObject, type EncodedObject } from './encode-object.js';
import { mapLimited } from './map-limited.js';
import type { Store } from './model.js';

/** Objects in flight at once: enough to hide file-system latency, few enough to stay under fd limits. */
const CONCURRENCY = 32;

/**
 * Writes every object (skipping duplicate oids). The objects are deflated here with node:zlib and
 * handed to `git.writeObject` as `format: 'deflated'`: isomorphic-git's own deflate goes through
 * CompressionStream at about 1 ms per object, ten times slower, and a 1,000-node commit writes
 * thousands of objects. isomorphic-git still does the write (and skips an object that exists).
 */
export async function writeObjects(store: Store, objects: EncodedObject[]): Promise<void> {
  const unique = [...new Map(objects.map((object) => [object.oid, object])).values()];
  await mapLimited(unique, CONCURRENCY, (object) =>
    git.writeObject({
      fs,
      dir: store.dir,
      gitdir: store.dir,
      type: object.type,
      object: deflateSync(wrapObject(object)),
      format: 'deflated',
      oid: object.oid,
    }),
  );
}
