/**
 * Run the compiled floor programs against fleet nodes: the cold floor (a process per run, timed
 * like the CLI) and the warm floor (one process holding every session). See floor-cold.ts and
 * floor-warm.ts for what each does.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { SshdFleet } from '../test/support/sshd-fleet.js';
import type { FloorSpec } from './floor-spec.js';
import { makeTempDir, summarize } from './lib.js';
import { COLD_FLOOR, WARM_FLOOR, timeNode } from './time-process.js';

/** Bytes the floors write per node (the size of a typical rendered node's artifacts, ~3 KB). */
export const FLOOR_BYTES = 3072;

/** Write the spec for the first `n` fleet nodes; returns its path. */
export async function writeFloorSpec(fleet: SshdFleet, n: number, concurrency: number, reps: number): Promise<string> {
  const spec: FloorSpec = {
    nodes: fleet.nodes.slice(0, n).map((node) => ({ host: node.address, port: node.port, hostKey: node.hostKeyPub.trim().split(/\s+/)[1]!, root: node.root })),
    user: fleet.user,
    keyPath: fleet.clientKeyPath,
    concurrency,
    bytes: FLOOR_BYTES,
    reps,
    sshdPids: [...new Set(fleet.nodes.slice(0, n).map((node) => node.pid))],
  };
  const file = path.join(await makeTempDir('courier-bench-floor-'), 'spec.json');
  await writeFile(file, JSON.stringify(spec));
  return file;
}

/** Cold floor results: per process wall and CPU (whole process), and the in-process work alone. */
export interface ColdFloorResult {
  what: string;
  nodes: number;
  concurrency: number;
  ms: ReturnType<typeof summarize>;
  cpuMs: ReturnType<typeof summarize>;
  workMs: ReturnType<typeof summarize>;
  workCpuMs: ReturnType<typeof summarize>;
}

/** `reps` runs of the cold floor, one process each. */
export async function coldFloor(fleet: SshdFleet, n: number, concurrency: number, reps: number): Promise<ColdFloorResult> {
  const spec = await writeFloorSpec(fleet, n, concurrency, 1);
  const ms: number[] = [];
  const cpu: number[] = [];
  const work: number[] = [];
  const workCpu: number[] = [];
  for (let rep = 0; rep < reps; rep++) {
    const t = await timeNode([COLD_FLOOR, spec]);
    const out = JSON.parse(t.stdout.trim().split('\n').pop()!) as { workMs: number; workCpuMs: number };
    ms.push(t.ms);
    cpu.push(t.cpuMs);
    work.push(out.workMs);
    workCpu.push(out.workCpuMs);
  }
  console.error(`  N=${n} cold floor: ${ms.map(Math.round).join(', ')} ms, cpu ${cpu.map(Math.round).join(', ')} ms`);
  return {
    what: `node + ssh2 process: per node 1 connection (same key, pinned host key) + 1 exec 'cat > root/.floor && sha1sum root/.floor' with ${FLOOR_BYTES} B on stdin, hash checked; concurrency ${concurrency}; wall and CPU of the whole process`,
    nodes: n,
    concurrency,
    ms: summarize(ms),
    cpuMs: summarize(cpu),
    workMs: summarize(work),
    workCpuMs: summarize(workCpu),
  };
}

/** Warm floor results. */
export interface WarmFloorResult {
  what: string;
  nodes: number;
  openMs: number;
  rssOpenMB: number;
  rssAfterMB: number;
  roundMs: ReturnType<typeof summarize>;
  medianRoundCpuMs: number;
  /** CPU of the node side (sshd listeners, sessions, what they ran) per round. */
  medianRoundNodeCpuMs?: number;
}

/** The warm floor: open every session, then `reps` rounds of 3 KB to all nodes. */
export async function warmFloor(fleet: SshdFleet, n: number, concurrency: number, reps: number): Promise<WarmFloorResult> {
  const spec = await writeFloorSpec(fleet, n, concurrency, reps);
  const t = await timeNode([WARM_FLOOR, spec]);
  const out = JSON.parse(t.stdout.trim().split('\n').pop()!) as { openMs: number; rssOpenMB: number; rssAfterMB: number; roundMs: number[]; medianRoundCpuMs: number; medianRoundNodeCpuMs?: number };
  console.error(`  N=${n} warm floor: opened in ${out.openMs} ms, ${out.rssOpenMB} MB RSS; rounds ${out.roundMs.map(Math.round).join(', ')} ms`);
  return {
    what: `node + ssh2 process holding 1 connection + 1 open exec per node (sh loop: read a length line, head -c that many bytes into root/.wfloor, sha1sum it); a round writes ${FLOOR_BYTES} B to every node at once and waits for every hash; median of ${reps} rounds`,
    nodes: n,
    openMs: out.openMs,
    rssOpenMB: out.rssOpenMB,
    rssAfterMB: out.rssAfterMB,
    roundMs: summarize(out.roundMs),
    medianRoundCpuMs: out.medianRoundCpuMs,
    medianRoundNodeCpuMs: out.medianRoundNodeCpuMs,
  };
}
