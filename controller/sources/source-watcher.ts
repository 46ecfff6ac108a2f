/**
 * The contract between a watchable registry source (files directory, git repository) and the
 * daemon loop, and the file layout that the files and git sources share.
 */
import type { CourierError } from '../errors.js';
import { DOCUMENT_NAMES, type DocumentName, type RawDocument, type RegistryProblem, type RegistrySnapshot } from '../registry/model.js';

/** A source that can be read and watched. */
export interface SourceWatcher {
  /** Read the current documents. */
  read(): Promise<RegistrySnapshot>;
  /**
   * Start watching; `onChange(trigger)` is called (debounced) after the documents may have changed.
   * trigger describes the change, e.g. "file change: services.json" or "git commit 1a2b3c4d5e6f of <url>".
   * Resolves once watching is in effect, so a change made after it resolves is seen. Failures while
   * watching go to `onError` and watching goes on; `onChange` must not throw.
   */
  start(onChange: (trigger: string) => void, onError?: (err: CourierError) => void): Promise<void>;
  /** Stop watching and cancel pending notifications; safe to call more than once. */
  close(): Promise<void>;
}

/** One file name a registry document may be stored under, and how its text is parsed. */
export interface RegistryFile {
  file: string;
  document: DocumentName;
  format: RawDocument['format'];
}

/** Every file name a registry document may have: `<name>.json` with its `.yaml`/`.yml` twins, and the bare `cluster-domain`. */
export const REGISTRY_FILES: readonly RegistryFile[] = DOCUMENT_NAMES.flatMap((document): RegistryFile[] => {
  if (!document.endsWith('.json')) return [{ file: document, document, format: 'text' }];
  const base = document.slice(0, -'.json'.length);
  return [
    { file: document, document, format: 'json' },
    { file: `${base}.yaml`, document, format: 'yaml' },
    { file: `${base}.yml`, document, format: 'yaml' },
  ];
});

/** The registry file entry for a base file name, or undefined for any other file (temp files, notes, editor backups). */
export function findRegistryFile(fileName: string): RegistryFile | undefined {
  return REGISTRY_FILES.find((entry) => entry.file === fileName);
}

/** Decode a registry file as UTF-8; invalid bytes are a problem (with `fix` saying how to save it) and give undefined. */
export function decodeRegistryText(bytes: Uint8Array, file: RegistryFile, origin: string, problems: RegistryProblem[], fix: string): RawDocument | undefined {
  try {
    return { name: file.document, origin, format: file.format, text: new TextDecoder('utf-8', { fatal: true }).decode(bytes) };
  } catch {
    problems.push({ document: file.document, origin, path: '$', message: `is not valid UTF-8; ${fix}` });
    return undefined;
  }
}

/** One document per name from the files a source found; two files for one document (a JSON and a YAML twin) are a problem. */
export function pickDocuments(found: readonly RawDocument[], problems: RegistryProblem[]): RegistrySnapshot['documents'] {
  const documents: RegistrySnapshot['documents'] = {};
  for (const name of DOCUMENT_NAMES) {
    const [first, ...others] = found.filter((doc) => doc.name === name);
    if (first === undefined) continue;
    if (others.length > 0) {
      const names = others.map((doc) => doc.origin).join(', ');
      problems.push({ document: name, origin: first.origin, path: '$', message: `is ambiguous: ${names} hold the same document; keep only one of them` });
      continue;
    }
    documents[name] = first;
  }
  return documents;
}
