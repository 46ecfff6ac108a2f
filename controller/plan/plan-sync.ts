/**
 * The plan stage: pure functions from desired state (a node's manifest at `main`), the node's last
 * verified manifest and what the node reports (haves) to the operations one exchange performs.
 * No I/O, no clock: the same inputs always give the same plan.
 */
import type { Artifact, ArtifactKind, ManifestEntry } from '../render/model.js';

/** Absent content on the wire. */
export const ABSENT = '-';

/** One `want` line: what the node should hold at `path`; `oid` is `-` for "should not exist". */
export interface Want {
  path: string;
  kind: ArtifactKind;
  oid: string;
  /** Store name of the artifact (for reports); the previous name for a removal. */
  name: string;
}

/** One `have` line: what the node reports at `path`. */
export interface Have {
  path: string;
  kind: ArtifactKind;
  oid: string;
}

/** An operation the controller sends after the haves. */
export type SyncOp = { op: 'put'; want: Want; artifact: Artifact } | { op: 'del'; want: Want };

/** One artifact whose content on the node differs from the desired one. */
export interface Drift {
  name: string;
  path: string;
  kind: ArtifactKind;
  expected: string;
  found: string;
}

/** The wants for one node: every desired artifact, plus a removal for each artifact the last verified revision had and `main` no longer has. */
export function planWants(desired: readonly ManifestEntry[], previous: readonly ManifestEntry[] = []): Want[] {
  const wants: Want[] = desired.map((a) => ({ path: a.path, kind: a.kind, oid: a.oid, name: a.name }));
  const wanted = new Set(wants.map((w) => wantKey(w)));
  for (const old of previous) {
    const removal: Want = { path: old.path, kind: old.kind, oid: ABSENT, name: old.name };
    if (!wanted.has(wantKey(removal))) {
      wanted.add(wantKey(removal));
      wants.push(removal);
    }
  }
  return wants;
}

/** The puts and dels that bring a node from its haves to the wants: only what differs travels. */
export function planOps(wants: readonly Want[], haves: readonly Have[], artifacts: readonly Artifact[]): SyncOp[] {
  const byKey = new Map(artifacts.map((a) => [`${a.kind} ${a.path}`, a]));
  const ops: SyncOp[] = [];
  wants.forEach((want, i) => {
    const have = haves[i];
    if (have && have.oid === want.oid) return;
    if (want.oid === ABSENT) {
      if (have && have.oid !== ABSENT) ops.push({ op: 'del', want });
      return;
    }
    const artifact = byKey.get(wantKey(want));
    if (!artifact) throw new Error(`plan: no content for want ${want.kind} ${want.path}`);
    ops.push({ op: 'put', want, artifact });
  });
  return ops;
}

/** Compare what a node holds with the wants: the artifacts that drifted (empty when converged). */
export function findDrift(wants: readonly Want[], found: ReadonlyMap<string, string>): Drift[] {
  const drift: Drift[] = [];
  for (const want of wants) {
    const oid = found.get(wantKey(want)) ?? ABSENT;
    if (oid !== want.oid) drift.push({ name: want.name, path: want.path, kind: want.kind, expected: want.oid, found: oid });
  }
  return drift;
}

/** The key identifying an artifact on a node: its kind and target path. */
export function wantKey(w: { kind: ArtifactKind; path: string }): string {
  return `${w.kind} ${w.path}`;
}

/** Haves that differ both from what the node was verified at and from the wants: someone edited them on the node. */
export function findHandEdits(wants: readonly Want[], haves: readonly Have[], verified: ReadonlyMap<string, string>): Drift[] {
  const edits: Drift[] = [];
  wants.forEach((want, i) => {
    const have = haves[i];
    const expected = verified.get(wantKey(want)) ?? ABSENT;
    if (have && have.oid !== expected && have.oid !== want.oid) edits.push({ name: want.name, path: want.path, kind: want.kind, expected, found: have.oid });
  });
  return edits;
}
