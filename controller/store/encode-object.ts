/**
 * Git objects built in memory: the commit path computes every blob and tree oid before touching the
 * disk, so an unchanged render is recognised by comparing one root tree oid with the parent's.
 */
import { createHash } from 'node:crypto';

/** A blob or tree ready to be written: its type, oid and body (without the `type size\0` header). */
export interface EncodedObject {
  type: 'blob' | 'tree';
  oid: string;
  body: Buffer;
}

/** One entry of a tree to encode. */
export interface TreeEntryInput {
  name: string;
  type: 'blob' | 'tree';
  oid: string;
}

/** The object header plus body, as Git hashes and stores it. */
export function wrapObject(object: EncodedObject): Buffer {
  return Buffer.concat([Buffer.from(`${object.type} ${object.body.length}\0`), object.body]);
}

function hashObject(type: EncodedObject['type'], body: Buffer): string {
  return createHash('sha1').update(`${type} ${body.length}\0`).update(body).digest('hex');
}

/** A blob of UTF-8 text; its oid is what `git hash-object` prints. */
export function encodeBlob(content: string): EncodedObject {
  const body = Buffer.from(content, 'utf8');
  return { type: 'blob', oid: hashObject('blob', body), body };
}

/** Git's tree order: byte order of the names, a tree's name compared as if it ended in `/`. */
function sortKey(entry: TreeEntryInput): Buffer {
  return Buffer.from(entry.type === 'tree' ? `${entry.name}/` : entry.name, 'utf8');
}

/** A tree in Git's canonical form (`100644` files, `40000` trees, sorted), so its oid equals what git computes. */
export function encodeTree(entries: TreeEntryInput[]): EncodedObject {
  const sorted = entries.map((entry) => ({ entry, key: sortKey(entry) })).sort((a, b) => Buffer.compare(a.key, b.key));
  const body = Buffer.concat(
    sorted.map(({ entry }) =>
      Buffer.concat([Buffer.from(`${entry.type === 'tree' ? '40000' : '100644'} ${entry.name}\0`, 'utf8'), Buffer.from(entry.oid, 'hex')]),
    ),
  );
  return { type: 'tree', oid: hashObject('tree', body), body };
}
