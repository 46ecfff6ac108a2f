/**
 * What the floor programs (bench/floor-cold.ts, bench/floor-warm.ts) are given: the nodes to dial
 * with their pinned host keys and roots, the client key, the concurrency and how much to write.
 * They are compiled to plain JavaScript before a run (bench/tsconfig.floors.json), so a floor is a
 * bare `node` process with ssh2, like the `courier` CLI it is compared with, with no tsx loaded.
 */
import { readFileSync } from 'node:fs';

/** One node of a floor run. */
export interface FloorNode {
  host: string;
  port: number;
  /** The node's host key blob (base64, as in known_hosts); any other key is refused. */
  hostKey: string;
  /** The node's root directory: the floor writes `<root>/.floor` there. */
  root: string;
}

/** The JSON file a floor program reads (its only argument). */
export interface FloorSpec {
  nodes: FloorNode[];
  user: string;
  keyPath: string;
  concurrency: number;
  /** Bytes written to each node per round (the issue's ~3 KB). */
  bytes: number;
  /** Repetitions (cold: whole runs; warm: rounds over the open sessions). */
  reps: number;
  /** PIDs of the sshd listeners serving the nodes: the warm floor reports their CPU (with sessions) per round. */
  sshdPids?: number[];
}

/** Read a floor spec from the file named by argv[2]. */
export function readFloorSpec(): FloorSpec {
  const file = process.argv[2];
  if (!file) throw new Error('usage: node floor-*.js <spec.json>');
  return JSON.parse(readFileSync(file, 'utf8')) as FloorSpec;
}

/** A deterministic payload of `bytes` printable bytes for round `rep` (so each round writes new content). */
export function floorPayload(bytes: number, rep: number): Buffer {
  const line = `courier floor payload round ${rep} `;
  return Buffer.from(line.repeat(Math.ceil(bytes / line.length)).slice(0, bytes - 1) + '\n');
}

/** Median of the samples. */
export function floorMedian(samples: readonly number[]): number {
  const s = [...samples].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** CPU ms (user + system) of this whole process so far, node start-up included. */
export function processCpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

/** Current RSS of this process in MB. */
export function currentRssMB(): number {
  return Math.round(process.memoryUsage().rss / 104857.6) / 10;
}
