/**
 * The `files` source: a directory holding the registry documents as files named like their
 * ConfigMap keys (`services.json`, `domains.json`, `routing.json`, `registry.json`,
 * `cluster-domain`). A JSON document may instead be a `.yaml` or `.yml` twin (`services.yaml`);
 * two files for one document are ambiguous and rejected. Every document is optional.
 */
import { readFile, stat } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { CourierError } from '../errors.js';
import { createRegistryError } from '../registry/create-registry-error.js';
import { documentTooLarge, MAX_DOCUMENT_BYTES } from '../registry/parse-document.js';
import type { RegistryProblem, RegistrySnapshot } from '../registry/model.js';
import { decodeRegistryText, pickDocuments, REGISTRY_FILES } from './source-watcher.js';

/** How the files source shows paths. */
export interface FilesSourceOptions {
  /** Origins are shown relative to this directory when inside it (default: the working directory). */
  displayBase?: string;
}

/** Read the registry documents from `dir`; missing directory → SOURCE_UNAVAILABLE, ambiguous twins → REGISTRY_INVALID. */
export async function readFilesSource(dir: string, options: FilesSourceOptions = {}): Promise<RegistrySnapshot> {
  const base = resolve(options.displayBase ?? process.cwd());
  const directory = resolve(dir);
  const show = (path: string): string => displayPath(path, base);
  await assertDirectory(directory, show(directory));

  const problems: RegistryProblem[] = [];
  const found = await Promise.all(
    REGISTRY_FILES.map(async (file) => {
      const path = join(directory, file.file);
      // an oversized document is refused without reading it into memory (parseDocument checks again)
      const size = await stat(path).then((s) => s.size, () => undefined);
      if (size !== undefined && size > MAX_DOCUMENT_BYTES) {
        problems.push({ document: file.document, origin: show(path), path: '$', message: documentTooLarge(size) });
        return undefined;
      }
      const bytes = await readOptionalFile(path, show(path));
      return bytes === undefined ? undefined : decodeRegistryText(bytes, file, show(path), problems, 'save it as UTF-8 text');
    }),
  );
  const documents = pickDocuments(found.filter((doc) => doc !== undefined), problems);
  if (problems.length > 0) throw createRegistryError(problems);
  return { documents, trigger: `files: ${show(directory)}` };
}

/** `path` relative to `base` when inside it, else absolute. */
function displayPath(path: string, base: string): string {
  const rel = relative(base, path);
  if (rel === '') return '.';
  return rel.startsWith('..') || isAbsolute(rel) ? path : rel;
}

/** Throw SOURCE_UNAVAILABLE unless `directory` exists and is a directory. */
async function assertDirectory(directory: string, shown: string): Promise<void> {
  let isDirectory: boolean;
  try {
    isDirectory = (await stat(directory)).isDirectory();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const message =
      code === 'ENOENT'
        ? `registry directory ${shown} does not exist; create it with the registry documents (services.json, domains.json, routing.json, registry.json, cluster-domain) or set source.path in courier.yaml`
        : `registry directory ${shown} cannot be read (${code ?? 'error'}); check its permissions`;
    throw new CourierError('SOURCE_UNAVAILABLE', message, { source: 'files', path: directory }, { cause: err });
  }
  if (!isDirectory) {
    throw new CourierError('SOURCE_UNAVAILABLE', `registry directory ${shown} is not a directory; point source.path in courier.yaml at the directory holding the registry documents`, {
      source: 'files',
      path: directory,
    });
  }
}

/** A file's bytes, or undefined when it does not exist; any other failure is SOURCE_UNAVAILABLE. */
async function readOptionalFile(path: string, shown: string): Promise<Buffer | undefined> {
  try {
    return await readFile(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    const hint = code === 'EISDIR' ? 'it is a directory, not a file' : 'check its permissions';
    throw new CourierError('SOURCE_UNAVAILABLE', `${shown} cannot be read (${code ?? 'error'}): ${hint}`, { source: 'files', path }, { cause: err });
  }
}
