/**
 * `<state>/status.json`: every node's status. Written atomically (temp file in the same directory,
 * fsync, rename: rename is atomic only within one filesystem), so a kill at any moment leaves the
 * old or the new file, never a torn one.
 */
import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { CourierError } from '../errors.js';
import type { NodeStatus } from './next-node-status.js';

/** The whole status document. */
export interface StatusDocument {
  version: 1;
  /** Revision of `main` when the document was written. */
  revision?: string;
  updated?: string;
  nodes: Record<string, NodeStatus>;
}

/** Read the status file; a missing file is an empty document. */
export async function readStatusFile(file: string): Promise<StatusDocument> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { version: 1, nodes: {} };
    throw new CourierError('STORE_ERROR', `${file}: cannot read status: ${(err as Error).message}`, { file }, { cause: err });
  }
  try {
    const doc = JSON.parse(text) as StatusDocument;
    if (doc.version !== 1 || typeof doc.nodes !== 'object' || doc.nodes === null) throw new Error('not a courier status document (version 1)');
    return doc;
  } catch (err) {
    throw new CourierError('STORE_ERROR', `${file}: ${(err as Error).message}; delete it to start with empty status`, { file }, { cause: err });
  }
}

/** Write the status file atomically. */
export async function writeStatusFile(file: string, doc: StatusDocument): Promise<void> {
  await writeFileAtomic(file, JSON.stringify(doc, sortedNodes, 2) + '\n');
}

/** Write a file by temp + fsync + rename in its own directory. */
export async function writeFileAtomic(file: string, content: string, mode = 0o644): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`);
  try {
    const handle = await open(tmp, 'w', mode);
    try {
      await handle.writeFile(content, 'utf8');
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(tmp, file);
  } catch (err) {
    await rm(tmp, { force: true });
    throw new CourierError('STORE_ERROR', `${file}: cannot write: ${(err as Error).message}`, { file }, { cause: err });
  }
}

/** JSON replacer keeping the nodes map in name order so diffs of the file stay readable. */
function sortedNodes(this: unknown, key: string, value: unknown): unknown {
  if (key === 'nodes' && value && typeof value === 'object' && !Array.isArray(value)) {
    return Object.fromEntries(Object.entries(value as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b)));
  }
  return value;
}
