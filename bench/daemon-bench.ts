/**
 * The daemon at N nodes, as an operator runs it (`courier daemon` in its own process, reconcile
 * interval 1h, debounce 50ms): start-up until every session is open and every node active; edits of
 * services.json (write + rename) each timed until every node's status is active at the new revision,
 * then every node's files checked for the new address; per edit the daemon's CPU and the node side's
 * (sshd listeners, sessions, agents); RSS with every session open. With `comebacks`, a node whose
 * sshd is stopped (wait for pending_sync), missing an edit, then started again: time from the first
 * accepted TCP connect on its port until it is active at the current revision with the edit on disk.
 */
import net from 'node:net';
import { rm } from 'node:fs/promises';
import { silentLogger } from '../controller/logger.js';
import { openSite } from '../controller/pipeline/open-site.js';
import { readStatusFile } from '../controller/status/status-file.js';
import { readMain } from '../controller/store/commit-revision.js';
import type { SshdFleet } from '../test/support/sshd-fleet.js';
import { assertAllHold, clearRoots, createFleetSite, nodeHolds } from './bench-site.js';
import { DaemonEditor } from './daemon-edits.js';
import { startDaemonProcess } from './daemon-process.js';
import { nodeSideCpuMs, summarize } from './lib.js';
import { findAgentServe, traceAgent, type AgentTrace } from './trace-agent.js';

type Summary = ReturnType<typeof summarize>;

/** One daemon run's figures. */
export interface DaemonBenchResult {
  nodes: number;
  sessions: 'warm' | 'cold';
  edits: number;
  startupMs: number;
  /** Daemon RSS once every node was active (and, warm, every session open), and after the edits. */
  rssReadyMB: number;
  rssAfterMB: number;
  sessionsOpen: number;
  /** process.memoryUsage() in MB after a full GC (bench/memory-probe.ts), once ready and after the edits. */
  memoryReadyMB?: Record<string, number>;
  memoryAfterMB?: Record<string, number>;
  editToConvergedMs: Summary;
  editToCommittedMs: Summary;
  controllerCpuMsPerEdit: Summary;
  nodeSideCpuMsPerEdit: Summary;
  comeback?: { ms: Summary; pendingAfterStopMs: Summary; node: string };
  /** One extra (untimed) edit with strace on node 0's agent: what its round forked and ran. */
  agentTrace?: AgentTrace;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Resolve with performance.now() of the first accepted TCP connect to address:port (polled every 5 ms). */
async function firstAccept(address: string, port: number, timeoutMs: number): Promise<number> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect({ host: address, port });
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return performance.now();
    if (performance.now() > deadline) throw new Error(`${address}:${port} did not accept within ${timeoutMs} ms`);
    await sleep(5);
  }
}

/** Run the daemon on the first `n` fleet nodes and measure. */
export async function daemonBench(fleet: SshdFleet, n: number, options: { sessions: 'warm' | 'cold'; edits: number; comebacks?: number; pollMs?: number; timeoutMs?: number; traceAgent?: boolean }): Promise<DaemonBenchResult> {
  const site = await createFleetSite(fleet, n, `daemon-${options.sessions}-${n}`, {
    ssh: [`sessions: ${options.sessions}`],
    httpListen: '127.0.0.1:0',
    extra: 'reconcile:\n  debounce: 50ms\n  interval: 1h\n  retries: 0\n',
  });
  await clearRoots(fleet, n);
  const opened = await openSite(site.config, silentLogger());
  const names = site.nodes.map((x) => x.name);
  const timeoutMs = options.timeoutMs ?? 120_000;
  const pollMs = options.pollMs ?? 10;
  const started = performance.now();
  const daemon = await startDaemonProcess(site.config, site.stateDir, timeoutMs);
  try {
    // ready: every node active at main (the startup reconcile pushed everything); warm: every session open
    for (;;) {
      const main = await readMain(opened.store);
      const doc = await readStatusFile(opened.config.state.statusFile);
      const active = main !== undefined && names.every((x) => doc.nodes[x]?.status === 'active' && doc.nodes[x]?.revision === main);
      if (active && (options.sessions === 'cold' || (await daemon.sessionsOpen()) >= n)) break;
      if (performance.now() - started > timeoutMs * 3) throw new Error(`daemon N=${n}: not every node active (or not every session open) ${Math.round(timeoutMs * 3)} ms after start`);
      await sleep(Math.max(pollMs, 50));
    }
    const startupMs = performance.now() - started;
    const rssReadyMB = daemon.rssMB();
    const sessionsOpen = await daemon.sessionsOpen();
    const memoryReadyMB = await daemon.memoryMB();
    console.error(`  N=${n} ${options.sessions} daemon ready in ${Math.round(startupMs)} ms, ${sessionsOpen} sessions open, RSS ${rssReadyMB} MB; after gc ${JSON.stringify(memoryReadyMB)}`);

    const editor = new DaemonEditor(opened, names, { pollMs, timeoutMs });
    const sshdPids = [...new Set(fleet.nodes.slice(0, n).map((f) => f.pid))];
    const s = { ms: [] as number[], committed: [] as number[], controller: [] as number[], nodes: [] as number[] };
    for (let i = 0; i < options.edits; i++) {
      const before = { controller: daemon.cpuMs(), nodes: nodeSideCpuMs(sshdPids) };
      const e = await editor.edit();
      s.controller.push(daemon.cpuMs() - before.controller);
      s.nodes.push(nodeSideCpuMs(sshdPids) - before.nodes);
      s.ms.push(e.ms);
      s.committed.push(e.committedMs);
      await assertAllHold(fleet, site, e.ip, `${options.sessions} daemon edit ${i + 1}`);
    }
    console.error(`  N=${n} ${options.sessions} daemon edit → all converged: ${s.ms.map(Math.round).join(', ')} ms (on main after ${s.committed.map(Math.round).join(', ')}); cpu per edit: daemon ${s.controller.map(Math.round).join(', ')} ms, node side ${s.nodes.map(Math.round).join(', ')} ms`);

    let agentTrace: AgentTrace | undefined;
    const agentPid = options.traceAgent && options.sessions === 'warm' ? findAgentServe(fleet.nodes[0]!.pid) : undefined;
    if (agentPid) {
      agentTrace = await traceAgent(agentPid, () => editor.edit());
      if (agentTrace) console.error(`  N=${n} one warm round on ${names[0]} (strace): ${agentTrace.forks} forks, ${agentTrace.execs} execs: ${JSON.stringify(agentTrace.programs)}`);
    } else if (options.traceAgent && options.sessions === 'warm') console.error(`  no courier-agent serve process found under ${names[0]}'s sshd; no trace`);

    let comeback: DaemonBenchResult['comeback'];
    if (options.comebacks) {
      const k = n - 1;
      const name = names[k]!;
      const fnode = fleet.nodes[k]!;
      const back: number[] = [];
      const pending: number[] = [];
      for (let rep = 0; rep < options.comebacks; rep++) {
        const stopAt = performance.now();
        await fleet.stop(k);
        for (;;) {
          const doc = await readStatusFile(opened.config.state.statusFile);
          if (doc.nodes[name]?.status === 'pending_sync') break;
          if (performance.now() - stopAt > timeoutMs) throw new Error(`${name} not pending_sync ${timeoutMs} ms after its sshd stopped`);
          await sleep(pollMs);
        }
        pending.push(performance.now() - stopAt);
        // an edit while it is down: the others converge, it must catch up on return
        const e = await editor.edit(names.filter((x) => x !== name));
        // stay down a little longer, as a node that is really away would (the re-dial backs off meanwhile)
        await sleep(2000);
        const accepted = firstAccept(fnode.address, fnode.port, timeoutMs);
        await fleet.start(k);
        const t0 = await accepted;
        for (;;) {
          const doc = await readStatusFile(opened.config.state.statusFile);
          if (doc.nodes[name]?.status === 'active' && doc.nodes[name]?.revision === e.revision && (await nodeHolds(fleet, site, k, e.ip))) break;
          if (performance.now() - t0 > timeoutMs) throw new Error(`${name} not converged ${timeoutMs} ms after its sshd came back`);
          await sleep(pollMs);
        }
        back.push(performance.now() - t0);
      }
      console.error(`  N=${n} node ${name} back: converged ${back.map(Math.round).join(', ')} ms after its port accepted; pending_sync ${pending.map(Math.round).join(', ')} ms after stop`);
      comeback = { ms: summarize(back), pendingAfterStopMs: summarize(pending), node: name };
    }
    const rssAfterMB = daemon.rssMB();
    const memoryAfterMB = await daemon.memoryMB();
    return {
      nodes: n,
      sessions: options.sessions,
      edits: options.edits,
      startupMs: Math.round(startupMs),
      rssReadyMB,
      rssAfterMB,
      sessionsOpen,
      memoryReadyMB,
      memoryAfterMB,
      editToConvergedMs: summarize(s.ms),
      editToCommittedMs: summarize(s.committed),
      controllerCpuMsPerEdit: summarize(s.controller),
      nodeSideCpuMsPerEdit: summarize(s.nodes),
      ...(comeback ? { comeback } : {}),
      ...(agentTrace ? { agentTrace } : {}),
    };
  } finally {
    const code = await daemon.stop();
    if (code !== 0) console.error(`  daemon exited ${code} on SIGTERM`);
    await rm(site.dir, { recursive: true, force: true });
  }
}
