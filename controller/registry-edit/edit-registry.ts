/**
 * The registry-edit stage's orchestration, the same for every source: read the document and the
 * rest of the registry, plan the edit on the document's current value, apply it to the text,
 * validate the whole registry with the edited document in place, and only then write. A write that
 * lost a race (a 409 from Kubernetes, a file changed since it was read) starts over from the read.
 */
import { CourierError } from '../errors.js';
import { createRegistryError } from '../registry/create-registry-error.js';
import { DocumentChecker } from '../registry/document-checker.js';
import type { DocumentName, RawDocument, RegistryProblem, RegistrySnapshot } from '../registry/model.js';
import { parseDocument } from '../registry/parse-document.js';
import { parseRegistry, type ParseRegistryOptions } from '../registry/parse-registry.js';
import type { DocumentChange, RegistryEdit } from './model.js';
import { applyEdit } from './apply-edit.js';

/** One read of a source for an edit: the whole snapshot, the document to edit, and what `write` needs to detect a lost race. */
export interface DocumentRead {
  snapshot: RegistrySnapshot;
  /** The document as it is, or (absent) where and in which format it will be created, with text ''. */
  target: RawDocument;
  /** Opaque to the stage: the file text or ConfigMap (with its resourceVersion) that was read. */
  version: unknown;
}

/** Where edits are read from and written to: the files or the Kubernetes source. */
export interface RegistryDocumentStore {
  read(document: DocumentName): Promise<DocumentRead>;
  /** Write the document's new text unless it changed since `read`: 'conflict' then. */
  write(text: string, read: DocumentRead): Promise<'written' | 'conflict'>;
}

/** Options for editRegistry. */
export interface EditRegistryOptions extends ParseRegistryOptions {
  /** Fresh attempts after a lost race before giving up (default 5). */
  maxRetries?: number;
}

/** Apply `edit` to the store's registry if the result validates; REGISTRY_INVALID (nothing written) if it does not. */
export async function editRegistry(store: RegistryDocumentStore, edit: RegistryEdit, options: EditRegistryOptions = {}): Promise<DocumentChange> {
  const maxRetries = options.maxRetries ?? 5;
  for (let attempt = 0; attempt <= maxRetries; attempt++) {
    // Read: the document and the rest of the registry, as they are now.
    const read = await store.read(edit.document);
    // Plan: the change on the document's current value.
    const change = edit.plan(readDocumentValue(read.target), read.target.origin);
    if (change.operations.length === 0) return change;
    // Apply: the new text, formatted like the old.
    const text = applyEdit(read.target.text, read.target.format === 'yaml' ? 'yaml' : 'json', change.operations);
    // Validate: the whole registry with the edited document in its place.
    const edited: RegistrySnapshot = { ...read.snapshot, documents: { ...read.snapshot.documents, [edit.document]: { ...read.target, text } } };
    parseRegistry(edited, { publicDomain: options.publicDomain });
    // Write: unless someone else wrote first.
    if ((await store.write(text, read)) === 'written') return change;
  }
  throw new CourierError(
    'SOURCE_UNAVAILABLE',
    `${edit.document}: still changing under this edit after ${maxRetries} retries (someone else keeps writing it); try again`,
    { document: edit.document, retries: maxRetries },
    { retryable: true },
  );
}

/** The document's current value (undefined when absent or empty); a syntax error is REGISTRY_INVALID, as the registry stage reports it. */
function readDocumentValue(raw: RawDocument): unknown {
  const problems: RegistryProblem[] = [];
  const parsed = parseDocument(raw, new DocumentChecker(raw.name, raw.origin, problems));
  if (!parsed.ok) throw createRegistryError(problems);
  return parsed.empty ? undefined : parsed.value;
}
