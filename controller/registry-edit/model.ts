/**
 * The registry-edit model: an edit command's change to one registry document, expressed as path
 * operations so it can be applied to JSON and to a YAML twin alike (keeping the YAML's comments).
 */
import type { DocumentName } from '../registry/model.js';

/** A path into a document: object keys and array indexes. */
export type EditPath = readonly (string | number)[];

/** One step of an edit: set a value at a path (creating it, or appending at index = length), or delete it. */
export type EditOperation = { op: 'set'; path: EditPath; value: unknown } | { op: 'delete'; path: EditPath };

/** What an edit did, in words a person and a script can use. */
export type EditAction = 'added' | 'updated' | 'removed' | 'unchanged';

/** The outcome of planning an edit on the current document: what it does and the operations that do it. */
export interface DocumentChange {
  document: DocumentName;
  action: EditAction;
  /** What was edited: `node`, `domain`, `vps`, `routing`, `service`. */
  kind: string;
  /** The entry's identity: node name, domain, tailscale IP, service name. */
  key: string;
  /** A short detail for the human line, such as `(vps 100.64.1.3)`; may be empty. */
  detail: string;
  /** Empty when nothing changes (then nothing is written). */
  operations: EditOperation[];
}

/** Inputs every planner gets: the clock and who edits, passed in so planning stays pure. */
export interface EditContext {
  now: Date;
  /** `user@host`, MyNodeOne's `metadata.updated_by`. */
  actor: string;
  /** Where the document lives (`registry/registry.json`, `configmap/...`), for error messages. */
  origin: string;
}

/** An edit bound to its arguments: the document it changes and how to plan it on that document's current value. */
export interface RegistryEdit {
  document: DocumentName;
  /** `current` is the parsed document (undefined when absent or empty); throws REGISTRY_INVALID or USAGE. */
  plan(current: unknown, origin: string): DocumentChange;
}
