/**
 * While the site is suspended: the registry documents that changed since the pinned revision
 * (live source vs the pinned revision's `registry/` folder, both in the store's normalized form)
 * and whether each validates. Pure.
 */
import { DocumentChecker } from './document-checker.js';
import { isCourierError } from '../errors.js';
import { DOCUMENT_NAMES, type DocumentName, type Registry, type RegistryProblem, type RegistrySnapshot } from './model.js';
import { normalizeDocument, stripStatusFields } from './normalize-document.js';
import { parseDocument } from './parse-document.js';
import { parseRegistry, type ParseRegistryOptions } from './parse-registry.js';
import { formatProblem } from './create-registry-error.js';

/** One document waiting to be applied. */
export interface WaitingDocument {
  document: DocumentName;
  change: 'added' | 'modified' | 'removed';
  /** False when this document has a validation problem (listed in `problems`). */
  valid: boolean;
  problems: string[];
}

/** The registry changes waiting since a suspension. */
export interface WaitingChanges {
  /** Whether the live registry as a whole validates (what `courier resume` would need). */
  valid: boolean;
  /** The REGISTRY_INVALID message when it does not. */
  error?: string;
  documents: WaitingDocument[];
}

/** Compare the live `snapshot` with the documents stored at the pinned revision. */
export function findWaitingChanges(snapshot: RegistrySnapshot, pinned: Registry['documents'], options: ParseRegistryOptions = {}): WaitingChanges {
  let problems: RegistryProblem[] = [];
  let error: string | undefined;
  try {
    parseRegistry(snapshot, options);
  } catch (err) {
    if (!isCourierError(err, 'REGISTRY_INVALID')) throw err;
    error = err.message;
    problems = (err.data.problems as RegistryProblem[] | undefined) ?? [];
  }
  const documents: WaitingDocument[] = [];
  for (const name of DOCUMENT_NAMES) {
    const raw = snapshot.documents[name];
    let live: string | undefined;
    if (raw !== undefined) {
      const parsed = parseDocument(raw, new DocumentChecker(name, raw.origin, []));
      // a document that does not parse differs from anything stored
      live = !parsed.ok ? '\u0000unparseable' : parsed.empty ? undefined : JSON.stringify(normalizeDocument(name === 'registry.json' ? stripStatusFields(parsed.value) : parsed.value));
    }
    const stored = pinned[name] === undefined ? undefined : JSON.stringify(pinned[name]);
    if (live === stored) continue;
    const own = problems.filter((p) => p.document === name).map(formatProblem);
    documents.push({ document: name, change: stored === undefined ? 'added' : live === undefined ? 'removed' : 'modified', valid: own.length === 0, problems: own });
  }
  return { valid: error === undefined, ...(error === undefined ? {} : { error }), documents };
}
