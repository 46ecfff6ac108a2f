/**
 * The store keeps each revision's registry documents as JSON; sorting object keys makes the same
 * registry give the same bytes whatever order a source (kubectl, jq, an editor) wrote them in.
 */

/** A copy of a parsed document with object keys sorted recursively; arrays keep their order. */
export function normalizeDocument(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(normalizeDocument);
  if (typeof value !== 'object' || value === null) return value;
  const keys = Object.keys(value).sort();
  // fromEntries defines own properties, so a "__proto__" key stays data and never becomes a prototype.
  return Object.fromEntries(keys.map((key) => [key, normalizeDocument((value as Record<string, unknown>)[key])]));
}

/** Fields of registry.json that are sync *output* (MyNodeOne's status write-back), not desired state. */
const NODE_STATUS_FIELDS = ['status', 'last_sync', 'last_attempt'];
const METADATA_STATUS_FIELDS = ['last_updated', 'updated_by'];

/**
 * registry.json without the status fields courier (and MyNodeOne) write back after every sync, so
 * a status write-back never makes a new revision: the store records inputs, not outputs.
 */
export function stripStatusFields(registry: unknown): unknown {
  if (typeof registry !== 'object' || registry === null || Array.isArray(registry)) return registry;
  const out: Record<string, unknown> = { ...(registry as Record<string, unknown>) };
  for (const key of ['management_laptops', 'vps_nodes', 'worker_nodes']) {
    const list = out[key];
    if (!Array.isArray(list)) continue;
    out[key] = list.map((entry: unknown) =>
      typeof entry === 'object' && entry !== null && !Array.isArray(entry)
        ? Object.fromEntries(Object.entries(entry as Record<string, unknown>).filter(([k]) => !NODE_STATUS_FIELDS.includes(k)))
        : entry,
    );
  }
  const metadata = out.metadata;
  if (typeof metadata === 'object' && metadata !== null && !Array.isArray(metadata)) {
    const kept = Object.entries(metadata as Record<string, unknown>).filter(([k]) => !METADATA_STATUS_FIELDS.includes(k));
    // a write-back that created `metadata` for its own fields leaves nothing of the input behind
    if (kept.length === 0) delete out.metadata;
    else out.metadata = Object.fromEntries(kept);
  }
  return out;
}
