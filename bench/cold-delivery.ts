/**
 * Cold delivery at N nodes, each figure beside the cold floor of the same run (interleaved per
 * repetition, so load changes hit both): the built CLI as a user runs it, one process each —
 * `courier push` onto empty nodes (after `courier render`, untimed), `courier verify`, and a second
 * `courier push` with nothing to change — wall and client CPU (/usr/bin/time, the whole process).
 * Then the same pipeline in-process for a breakdown: render / push / verify, artifact bytes, peak
 * RSS, and a one-service change.
 */
import { rm } from 'node:fs/promises';
import { silentLogger } from '../controller/logger.js';
import { openSite, type Site } from '../controller/pipeline/open-site.js';
import { renderRevision } from '../controller/pipeline/render-revision.js';
import type { NodeSyncReport } from '../controller/pipeline/sync-node.js';
import { syncNodes } from '../controller/pipeline/sync-nodes.js';
import type { SshdFleet } from '../test/support/sshd-fleet.js';
import { clearRoots, createFleetSite, setServiceIp, SERVICES } from './bench-site.js';
import { nodeSideCpuMs, peakRssMB, resetPeakRss, summarize, timed } from './lib.js';
import { serviceIp } from './registry-gen.js';
import { coldFloor, type ColdFloorResult } from './run-floors.js';
import { CLI, timeNode } from './time-process.js';

type Summary = ReturnType<typeof summarize>;
/** Wall, client CPU and node-side CPU of one kind of CLI run. */
interface Run {
  ms: Summary;
  cpuMs: Summary;
  nodeCpuMs: Summary;
}
const CHANGED_SERVICE = 'svc-001';

/** One cold delivery result. */
export interface ColdDeliveryResult {
  nodes: number;
  roles: Record<string, number>;
  services: number;
  reps: number;
  floor: ColdFloorResult;
  cli: { freshPush: Run; noChangePush: Run; verify: Run; freshBytes: number; noChangeBytes: number };
  /** Node-side CPU (sshd listeners with the sessions they reaped) of one floor run. */
  floorNodeCpuMs: Summary;
  inProcess?: { renderMs: Summary; pushMs: Summary; verifyMs: Summary; pushCpuMs: Summary; peakRssMB: Summary; oneChangeMs: Summary; oneChangeBytes: number; oneChangeNodes: number };
}

const bytesOf = (json: string) => [...json.matchAll(/"bytesSent":\s*(\d+)/g)].reduce((n, m) => n + Number(m[1]), 0);

function assertConverged(reports: NodeSyncReport[], what: string): void {
  const bad = reports.filter((r) => r.status !== 'converged');
  if (bad.length > 0) throw new Error(`${what}: ${bad.length} node(s) not converged: ${bad.slice(0, 5).map((r) => `${r.node} ${r.status} ${r.error?.code ?? ''} ${r.error?.message ?? ''}`).join('; ')}`);
}

/** CLI and floor, interleaved, then (unless `cliOnly`) the in-process breakdown. */
export async function coldDelivery(fleet: SshdFleet, n: number, reps: number, options: { cliOnly?: boolean; noChange?: boolean; verify?: boolean } = {}): Promise<ColdDeliveryResult> {
  const site = await createFleetSite(fleet, n, `push-${n}`);
  const sshdPids = [...new Set(fleet.nodes.slice(0, n).map((f) => f.pid))];
  // the node side's CPU of each timed process: what the sshd listeners (and the sessions they reaped) used meanwhile
  const onNodes = async <T>(fn: () => Promise<T>): Promise<T & { nodeCpuMs: number }> => {
    const before = nodeSideCpuMs(sshdPids);
    const value = await fn();
    return { ...value, nodeCpuMs: nodeSideCpuMs(sshdPids) - before };
  };
  const cli = (args: string[]) => onNodes(() => timeNode([CLI, '-c', site.config, ...args]));
  try {
    const concurrency = (await openSite(site.config, silentLogger())).config.ssh.concurrency;
    const floorRuns: ColdFloorResult[] = [];
    const floorNode: number[] = [];
    const fresh = { ms: [] as number[], cpu: [] as number[], node: [] as number[] };
    const noChange = { ms: [] as number[], cpu: [] as number[], node: [] as number[] };
    const verify = { ms: [] as number[], cpu: [] as number[], node: [] as number[] };
    let freshBytes = 0;
    let noChangeBytes = 0;
    for (let rep = 0; rep < reps; rep++) {
      const fl = await onNodes(() => coldFloor(fleet, n, concurrency, 1));
      floorRuns.push(fl);
      floorNode.push(fl.nodeCpuMs);
      await rm(site.stateDir, { recursive: true, force: true });
      await clearRoots(fleet, n);
      await cli(['render']);
      const f = await cli(['push', '--json']);
      fresh.ms.push(f.ms);
      fresh.cpu.push(f.cpuMs);
      fresh.node.push(f.nodeCpuMs);
      freshBytes = bytesOf(f.stdout);
      if (options.verify !== false) {
        const v = await cli(['verify', '--json']);
        verify.ms.push(v.ms);
        verify.cpu.push(v.cpuMs);
        verify.node.push(v.nodeCpuMs);
      }
      if (options.noChange !== false) {
        const c = await cli(['push', '--json']);
        noChange.ms.push(c.ms);
        noChange.cpu.push(c.cpuMs);
        noChange.node.push(c.nodeCpuMs);
        noChangeBytes += bytesOf(c.stdout);
      }
      console.error(`  N=${n} CLI rep ${rep + 1}/${reps}: fresh push ${Math.round(f.ms)} ms (cpu ${Math.round(f.cpuMs)}), verify ${Math.round(verify.ms.at(-1) ?? 0)} ms, no-change push ${Math.round(noChange.ms.at(-1) ?? 0)} ms; ${freshBytes} B`);
    }
    if (noChangeBytes !== 0) throw new Error(`no-change push sent ${noChangeBytes} artifact bytes; expected 0`);
    const all = (pick: (r: ColdFloorResult) => number[]) => summarize(floorRuns.flatMap(pick));
    const floor: ColdFloorResult = { ...floorRuns[0]!, ms: all((r) => r.ms.samples), cpuMs: all((r) => r.cpuMs.samples), workMs: all((r) => r.workMs.samples), workCpuMs: all((r) => r.workCpuMs.samples) };
    const roles: Record<string, number> = {};
    for (const node of site.nodes) roles[node.role] = (roles[node.role] ?? 0) + 1;
    const result: ColdDeliveryResult = {
      nodes: n,
      roles,
      services: SERVICES,
      reps,
      floor,
      floorNodeCpuMs: summarize(floorNode),
      cli: {
        freshPush: { ms: summarize(fresh.ms), cpuMs: summarize(fresh.cpu), nodeCpuMs: summarize(fresh.node) },
        noChangePush: { ms: summarize(noChange.ms), cpuMs: summarize(noChange.cpu), nodeCpuMs: summarize(noChange.node) },
        verify: { ms: summarize(verify.ms), cpuMs: summarize(verify.cpu), nodeCpuMs: summarize(verify.node) },
        freshBytes,
        noChangeBytes,
      },
    };
    if (!options.cliOnly) result.inProcess = await breakdown(site.config, site.stateDir, site.registryDir, fleet, n, reps);
    return result;
  } finally {
    await rm(site.dir, { recursive: true, force: true });
  }
}

/** `courier push` as the CLI runs it, in this process: render, then push every node. */
async function renderAndPush(site: Site) {
  const r = await timed(() => renderRevision(site, { trigger: 'bench push' }));
  const byNode = new Map(r.value.rendered.nodes.map((x) => [x.node.name, x.artifacts]));
  const revision = r.value.commit.revision;
  const p = await timed(() => syncNodes(site, r.value.registry.nodes, revision, 'push', { desired: (node) => ({ revision, artifacts: byNode.get(node.name) ?? [] }) }));
  return { revision, reports: p.value, renderMs: r.ms, pushMs: p.ms, pushCpuMs: p.cpuMs, nodes: r.value.registry.nodes };
}

async function breakdown(config: string, stateDir: string, registryDir: string, fleet: SshdFleet, n: number, reps: number): Promise<NonNullable<ColdDeliveryResult['inProcess']>> {
  const s = { render: [] as number[], push: [] as number[], verify: [] as number[], pushCpu: [] as number[], rss: [] as number[], change: [] as number[] };
  let changeBytes = 0;
  let changeNodes = 0;
  for (let rep = 0; rep < reps; rep++) {
    await rm(stateDir, { recursive: true, force: true });
    await clearRoots(fleet, n);
    const site = await openSite(config, silentLogger());
    resetPeakRss();
    const pushed = await renderAndPush(site);
    assertConverged(pushed.reports, 'fresh push');
    const v = await timed(() => syncNodes(site, pushed.nodes, pushed.revision, 'verify'));
    assertConverged(v.value, 'verify');
    s.rss.push(peakRssMB());
    s.render.push(pushed.renderMs);
    s.push.push(pushed.pushMs);
    s.pushCpu.push(pushed.pushCpuMs);
    s.verify.push(v.ms);
    await setServiceIp(registryDir, CHANGED_SERVICE, serviceIp(1, rep + 1));
    const t = await timed(() => renderAndPush(site));
    assertConverged(t.value.reports, 'one-change push');
    s.change.push(t.ms);
    changeBytes = t.value.reports.reduce((b, r) => b + r.bytesSent, 0);
    changeNodes = t.value.reports.filter((r) => r.bytesSent > 0).length;
  }
  console.error(`  N=${n} in-process: render ${s.render.map(Math.round).join(', ')} ms, push ${s.push.map(Math.round).join(', ')} ms, verify ${s.verify.map(Math.round).join(', ')} ms, one change ${s.change.map(Math.round).join(', ')} ms`);
  return { renderMs: summarize(s.render), pushMs: summarize(s.push), verifyMs: summarize(s.verify), pushCpuMs: summarize(s.pushCpu), peakRssMB: summarize(s.rss), oneChangeMs: summarize(s.change), oneChangeBytes: changeBytes, oneChangeNodes: changeNodes };
}

