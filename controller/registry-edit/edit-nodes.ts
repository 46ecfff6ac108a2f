/**
 * Pure edits of registry.json (the node registry), after node-registry-manager.sh `register`:
 * a new node gets MyNodeOne's bookkeeping (`registered` as `date -Iseconds`, `last_sync: null`,
 * `status: "active"`) and every write stamps `metadata.last_updated` / `metadata.updated_by`.
 *
 * A node is identified by its name (courier's key across all roles), not by its ip as MyNodeOne
 * does: `add` with a known name replaces that node's connection fields in place (`ip`, `ssh_user`,
 * and `ssh_port`, `sudo`, `root`, `transport`, which are removed when not given), re-stamps
 * `registered` as MyNodeOne's re-register does, and keeps every other field (`status`, `last_sync`,
 * `webhook_port`, anything unknown). Given another role, the node moves to that role's list.
 */
import { ROLE_ARRAYS, type NodeRole } from '../registry/model.js';
import type { DocumentChange, EditContext, EditOperation } from './model.js';
import { formatIsoSeconds } from './format-registry-time.js';
import { compactEntry, planFieldUpdates } from './plan-field-updates.js';
import { isPlainObject, requireArray, requireObject } from './require-shape.js';

const DOCUMENT = 'registry.json';

/** What `courier nodes add` says about a node. */
export interface NodeInput {
  role: NodeRole;
  ip: string;
  name: string;
  sshUser: string;
  sshPort?: number;
  sudo?: boolean;
  root?: string;
  transport?: 'ssh' | 'local';
  /** Set by `courier nodes join` / `restrict`; an `add` that does not say leaves it as it is. */
  restricted?: boolean;
}

/** The connection fields courier reads; the optional ones are removed when an `add` does not give them. */
const OPTIONAL_CONNECTION_FIELDS = ['ssh_port', 'sudo', 'root', 'transport'] as const;

/** Add a node, or replace the connection fields of the node with the same name. */
export function addNode(current: unknown, input: NodeInput, context: EditContext): DocumentChange {
  const lists = readNodeLists(current, context);
  const array = ROLE_ARRAYS[input.role];
  const registered = formatIsoSeconds(context.now);
  const connection = {
    name: input.name,
    ip: input.ip,
    ssh_user: input.sshUser,
    ssh_port: input.sshPort,
    sudo: input.sudo === true ? true : undefined,
    root: input.root,
    transport: input.transport,
    // Only when given: a role move or re-add keeps what the entry says.
    ...(input.restricted === undefined ? {} : { restricted: input.restricted }),
  };
  const change = { document: DOCUMENT, kind: 'node', key: input.name, detail: `(${input.role} ${input.ip})` } as const;
  const found = findNode(lists, input.name);
  const operations: EditOperation[] = [];

  if (found !== undefined && found.array === array) {
    operations.push(...planFieldUpdates([array, found.index], found.entry, { ...connection, registered }, OPTIONAL_CONNECTION_FIELDS));
    return { ...change, action: 'updated', operations: [...operations, ...stampMetadata(lists.document, context)] };
  }

  let entry: Record<string, unknown>;
  if (found !== undefined) {
    // Moving to another role: same entry (unknown fields and their order kept), new list.
    operations.push({ op: 'delete', path: [found.array, found.index] });
    const kept: Record<string, unknown> = { ...found.entry };
    for (const field of OPTIONAL_CONNECTION_FIELDS) delete kept[field];
    entry = compactEntry({ ...kept, ...connection, registered });
  } else {
    entry = compactEntry({ ...connection, registered, last_sync: null, status: 'active' });
  }
  if (lists.document === undefined) {
    // MyNodeOne's `init` shape: all three lists, even the empty ones.
    for (const name of Object.values(ROLE_ARRAYS)) operations.push({ op: 'set', path: [name], value: name === array ? [entry] : [] });
  } else if (lists.arrays[array] === undefined) {
    operations.push({ op: 'set', path: [array], value: [entry] });
  } else {
    operations.push({ op: 'set', path: [array, lists.arrays[array].length], value: entry });
  }
  return { ...change, action: found === undefined ? 'added' : 'updated', operations: [...operations, ...stampMetadata(lists.document, context)] };
}

/** Remove the node with this name, whatever its role; an unknown name changes nothing. */
export function removeNode(current: unknown, name: string, context: EditContext): DocumentChange {
  const lists = readNodeLists(current, context);
  const found = findNode(lists, name);
  if (found === undefined) return { document: DOCUMENT, action: 'unchanged', kind: 'node', key: name, detail: '', operations: [] };
  const role = (Object.keys(ROLE_ARRAYS) as NodeRole[]).find((r) => ROLE_ARRAYS[r] === found.array) ?? found.array;
  const ip = typeof found.entry.ip === 'string' ? ` ${found.entry.ip}` : '';
  return {
    document: DOCUMENT,
    action: 'removed',
    kind: 'node',
    key: name,
    detail: `(${role}${ip})`,
    operations: [{ op: 'delete', path: [found.array, found.index] }, ...stampMetadata(lists.document, context)],
  };
}

type RoleArray = (typeof ROLE_ARRAYS)[NodeRole];

interface NodeLists {
  document: Record<string, unknown> | undefined;
  arrays: Partial<Record<RoleArray, unknown[]>>;
}

/** The document and its three role lists, each checked to be a list when present. */
function readNodeLists(current: unknown, context: EditContext): NodeLists {
  const where = { document: DOCUMENT, origin: context.origin } as const;
  const document = requireObject(current, { ...where, path: '$' });
  const arrays: NodeLists['arrays'] = {};
  for (const array of Object.values(ROLE_ARRAYS)) {
    const list = requireArray(document?.[array], { ...where, path: `$.${array}` });
    if (list !== undefined) arrays[array] = list;
  }
  return { document, arrays };
}

/** The first entry named `name` in any role list. */
function findNode(lists: NodeLists, name: string): { array: RoleArray; index: number; entry: Record<string, unknown> } | undefined {
  for (const [array, entries] of Object.entries(lists.arrays) as [RoleArray, unknown[]][]) {
    const index = entries.findIndex((entry) => isPlainObject(entry) && entry.name === name);
    if (index !== -1) return { array, index, entry: entries[index] as Record<string, unknown> };
  }
  return undefined;
}

/** node-registry-manager.sh's sync_to_configmap: `.metadata.last_updated = $timestamp | .metadata.updated_by = $updater`. */
function stampMetadata(document: Record<string, unknown> | undefined, context: EditContext): EditOperation[] {
  const last_updated = formatIsoSeconds(context.now);
  if (document === undefined) return [{ op: 'set', path: ['metadata'], value: { version: '1.0', last_updated, updated_by: context.actor } }];
  if (!isPlainObject(document.metadata)) return [{ op: 'set', path: ['metadata'], value: { last_updated, updated_by: context.actor } }];
  return [
    { op: 'set', path: ['metadata', 'last_updated'], value: last_updated },
    { op: 'set', path: ['metadata', 'updated_by'], value: context.actor },
  ];
}

/** Mark the node with this name `restricted: true` (`courier nodes restrict`), every other field kept. */
export function markNodeRestricted(current: unknown, name: string, context: EditContext): DocumentChange {
  const lists = readNodeLists(current, context);
  const found = findNode(lists, name);
  const change = { document: DOCUMENT, kind: 'node', key: name, detail: '(restricted)' } as const;
  if (found === undefined) return { ...change, action: 'unchanged', operations: [] };
  const operations = planFieldUpdates([found.array, found.index], found.entry, { restricted: true });
  if (operations.length === 0) return { ...change, action: 'unchanged', operations: [] };
  return { ...change, action: 'updated', operations: [...operations, ...stampMetadata(lists.document, context)] };
}
