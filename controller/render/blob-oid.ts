/** Content identity: the Git blob id, shared by the store, the plan and the node agent. */
import { createHash } from 'node:crypto';

/** SHA-1 of `blob <size>\0<content>`, 40 hex digits: what `git hash-object` prints. */
export function blobOid(content: string | Uint8Array): string {
  const bytes = typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
  return createHash('sha1').update(`blob ${bytes.length}\0`).update(bytes).digest('hex');
}

/** The blob id of empty content (an absent block body is never reported as this; see the agent). */
export const EMPTY_BLOB_OID = 'e69de29bb2d1d6434b8b29ae775ad8c2e48c5391';
