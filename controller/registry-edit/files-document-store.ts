/**
 * The files source as a RegistryDocumentStore: documents are read with readFilesSource (so the
 * edit sees exactly what the daemon would), edited in place in whichever file holds them (JSON or
 * a `.yaml`/`.yml` twin), created as JSON when absent, and written atomically. A file that changed
 * between the read and the write is a conflict, and the edit starts over.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { CourierError } from '../errors.js';
import type { DocumentName, RawDocument } from '../registry/model.js';
import { readFilesSource } from '../sources/files-source.js';
import type { DocumentRead, RegistryDocumentStore } from './edit-registry.js';
import { writeFileAtomic } from './write-file-atomic.js';

/** Options for createFilesDocumentStore. */
export interface FilesDocumentStoreOptions {
  /** Origins are shown relative to this directory (the site's directory), as the source shows them. */
  displayBase: string;
}

/** A document store over the registry directory `dir`. */
export function createFilesDocumentStore(dir: string, options: FilesDocumentStoreOptions): RegistryDocumentStore {
  const base = path.resolve(options.displayBase);
  const directory = path.resolve(dir);
  const show = (file: string): string => {
    const rel = path.relative(base, file);
    return rel.startsWith('..') || path.isAbsolute(rel) ? file : rel;
  };

  return {
    async read(document: DocumentName): Promise<DocumentRead> {
      if (document === 'cluster-domain') throw new CourierError('USAGE', 'cluster-domain is edited by hand: it is one line of text', { document });
      const snapshot = await readFilesSource(directory, { displayBase: base });
      const found = snapshot.documents[document];
      // The source shows origins relative to the site directory: resolving against it gives the file back.
      const file = found === undefined ? path.join(directory, document) : path.resolve(base, found.origin);
      const target: RawDocument = found ?? { name: document, origin: show(file), format: 'json', text: '' };
      return { snapshot, target, version: { file, text: found?.text } };
    },

    async write(text: string, read: DocumentRead): Promise<'written' | 'conflict'> {
      const { file, text: before } = read.version as { file: string; text: string | undefined };
      const now = await readFile(file, 'utf8').catch((err: NodeJS.ErrnoException) => {
        if (err.code === 'ENOENT') return undefined;
        throw sourceError(err, show(file), 'read');
      });
      if (now !== before) return 'conflict';
      try {
        await writeFileAtomic(file, text);
      } catch (err) {
        throw sourceError(err as NodeJS.ErrnoException, show(file), 'written');
      }
      return 'written';
    },
  };
}

function sourceError(err: NodeJS.ErrnoException, shown: string, verb: string): CourierError {
  const hint = err.code === 'EACCES' || err.code === 'EPERM' || err.code === 'EROFS' ? 'check the permissions of the file and its directory' : 'check the registry directory';
  return new CourierError('SOURCE_UNAVAILABLE', `${shown} cannot be ${verb} (${err.code ?? 'error'}): ${hint}`, { source: 'files', path: shown }, { cause: err });
}
