/** What changed between a parent revision and the next one, per node and artifact and per registry document. */
import type { Manifest, ManifestEntry } from '../render/model.js';
import { loadNodeManifest } from './load-snapshot.js';
import { mapLimited } from './map-limited.js';
import type { ChangeKind, NodeChange, RegistryChange, RevisionSnapshot, Store } from './model.js';
import { MANIFEST_FILE, documentNameOf } from './store-layout.js';

/** Parent manifests read at once when many nodes changed. */
const READ_CONCURRENCY = 16;

function sameEntry(a: ManifestEntry, b: ManifestEntry): boolean {
  return a.oid === b.oid && a.path === b.path && a.kind === b.kind && a.mode === b.mode;
}

/** Artifact changes between two manifests (either may be missing), sorted by name. */
function compareArtifacts(before: Manifest | undefined, after: Manifest | undefined, status: ChangeKind): NodeChange['artifacts'] {
  const old = new Map((before?.artifacts ?? []).map((entry) => [entry.name, entry]));
  const next = new Map((after?.artifacts ?? []).map((entry) => [entry.name, entry]));
  const names = [...new Set([...old.keys(), ...next.keys()])].sort();
  const artifacts: NodeChange['artifacts'] = [];
  for (const name of names) {
    const a = old.get(name);
    const b = next.get(name);
    if (a === undefined) artifacts.push({ name, change: 'added' });
    else if (b === undefined) artifacts.push({ name, change: 'removed' });
    else if (!sameEntry(a, b)) artifacts.push({ name, change: 'modified' });
  }
  // The subtree changed but no artifact did: the manifest alone (role, artifact order) changed.
  return artifacts.length > 0 ? artifacts : [{ name: MANIFEST_FILE, change: status }];
}

/**
 * Nodes whose subtree differs between `base` and `next` (both keyed by store folder), sorted by folder;
 * a change names the node as the registry writes it when the node is still rendered, else by its folder.
 * Reads only the changed nodes' parent manifests.
 */
export async function compareNodes(store: Store, base: RevisionSnapshot, next: RevisionSnapshot): Promise<NodeChange[]> {
  const names = [...new Set([...base.nodes.keys(), ...next.nodes.keys()])].sort();
  const changed = names.filter((name) => base.nodes.get(name)?.tree !== next.nodes.get(name)?.tree);
  return mapLimited(changed, READ_CONCURRENCY, async (node): Promise<NodeChange> => {
    const before = base.nodes.get(node);
    const after = next.nodes.get(node);
    const status: ChangeKind = before === undefined ? 'added' : after === undefined ? 'removed' : 'modified';
    const oldManifest = before === undefined ? undefined : await loadNodeManifest(store, before, node);
    return { node: after?.manifest?.node ?? node, status, artifacts: compareArtifacts(oldManifest, after?.manifest, status) };
  });
}

/** Registry documents whose file differs between `base` and `next`, sorted by name (files courier does not know are ignored). */
export function compareRegistry(base: RevisionSnapshot, next: RevisionSnapshot): RegistryChange[] {
  const files = [...new Set([...base.registry.keys(), ...next.registry.keys()])].sort();
  const changes: RegistryChange[] = [];
  for (const file of files) {
    const document = documentNameOf(file);
    const before = base.registry.get(file);
    const after = next.registry.get(file);
    if (document === undefined || before === after) continue;
    changes.push({ document, change: before === undefined ? 'added' : after === undefined ? 'removed' : 'modified' });
  }
  return changes;
}
