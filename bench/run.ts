/**
 * `npm run bench`: delivery and daemon benchmarks on a real sshd fleet on loopback
 * (test/support/sshd-fleet.ts: one sshd per node on 127.0.0.X, own host key, own node root).
 *
 * Delivery, for each N (default 10 and 50; ~20% VPS, the rest laptops and workers; 50 services):
 *   (a) fresh: empty state dir and node roots; renderRevision + syncNodes(push) + syncNodes(verify),
 *       as `courier push` then `courier verify` do; artifact bytes sent; peak RSS (VmHWM reset first);
 *   (b) no-change push: syncNodes(push) again — must send 0 artifact bytes;
 *   (c) one-service change: a private service's ip, then renderRevision + syncNodes(push);
 *   (d) the floor: a bare ssh2 connect + `exec true` per node at the same concurrency
 *       (ssh.concurrency), same key and host-key check; plus the same with the inline agent
 *       (`sh -c '<agent>' courier-agent --version`) to show the cost of starting the agent.
 * Daemon, for each N: startDaemon in-process (silent logger, debounce 50ms, interval 1h, no HTTP);
 *   after it is ready, edits of services.json (write + rename) each timed until every node's status
 *   is active at the new revision (status file polled every 10 ms).
 * Daemon memory: a child `node --expose-gc` (bench/daemon-rss.ts) runs the daemon for --rss-edits
 *   edits on the N=10 fleet (each edit waits for convergence) and reports RSS after a forced GC at
 *   checkpoints. Default 300 edits so the whole run stays under ~25 minutes on a loaded 2-core
 *   machine, where one N=10 edit takes ~2 s; `--rss-edits 1000` gives the 100 → 1,000 comparison
 *   (~35 minutes for that phase there).
 *
 * Options: --sizes 10,50 --reps 5 --daemon-edits 10 --rss-edits 300 --skip-rss --skip-delivery --with-render
 * (--with-render also runs bench/render.ts and folds its results in). Writes bench/results/bench.json.
 */
import { readFileSync } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import pLimit from 'p-limit';
import ssh2 from 'ssh2';
import { startDaemon } from '../controller/daemon/run-daemon.js';
import { silentLogger } from '../controller/logger.js';
import { openSite, type Site } from '../controller/pipeline/open-site.js';
import { renderRevision } from '../controller/pipeline/render-revision.js';
import type { NodeSyncReport } from '../controller/pipeline/sync-node.js';
import type { Node } from '../controller/registry/model.js';
import { syncNodes } from '../controller/pipeline/sync-nodes.js';
import { buildAgentCommand } from '../controller/transport/open-agent-channel.js';
import { startSshdFleet, type SshdFleet } from '../test/support/sshd-fleet.js';
import { DaemonEditor, EDITED_SERVICE } from './daemon-edits.js';
import {
  BENCH_DIR,
  PROJECT_DIR,
  formatTable,
  machineInfo,
  makeTempDir,
  nodeSideCpuMs,
  peakRssMB,
  r1,
  resetPeakRss,
  runNodeChild,
  summarize,
  timed,
  withCleanup,
  writeResults,
} from './lib.js';
import { generateRegistry, serviceIp, siteConfig, writeRegistry, type GenNode } from './registry-gen.js';

type Summary = ReturnType<typeof summarize>;

/** The private service the one-service change edits. */
const CHANGED_SERVICE = 'svc-001';
const SERVICES = 50;

function option(argv: string[], name: string, fallback: string): string {
  const i = argv.indexOf(name);
  return i === -1 ? fallback : argv[i + 1]!;
}

/** A site directory whose nodes are the first `n` fleet nodes. */
interface FleetSite {
  dir: string;
  config: string;
  registryDir: string;
  nodes: GenNode[];
}

/** Roles: the first ~20% VPS (at least one), then laptops and workers alternating. */
function fleetNodes(fleet: SshdFleet, n: number): GenNode[] {
  const vps = Math.max(1, Math.round(n * 0.2));
  return Array.from({ length: n }, (_, i) => {
    const f = fleet.nodes[i]!;
    const role = i < vps ? 'vps' : i % 2 === 0 ? 'laptop' : 'worker';
    return { name: `${role}-${i}`, role, ip: f.address, ssh_user: fleet.user, ssh_port: f.port, root: f.root };
  });
}

async function createFleetSite(fleet: SshdFleet, n: number, name: string, extra = ''): Promise<FleetSite> {
  const dir = await makeTempDir(`courier-bench-${name}-`);
  const registryDir = path.join(dir, 'registry');
  await mkdir(registryDir);
  const nodes = fleetNodes(fleet, n);
  writeRegistry(registryDir, generateRegistry(nodes, SERVICES));
  const knownHosts = path.join(dir, 'known_hosts');
  await fleet.writeKnownHosts(knownHosts);
  const config = path.join(dir, 'courier.yaml');
  await writeFile(config, siteConfig({ ssh: { identity: fleet.clientKeyPath, knownHosts }, extra }));
  return { dir, config, registryDir, nodes };
}

/** Empty the first `n` node roots (a node that never received anything). */
async function clearRoots(fleet: SshdFleet, n: number): Promise<void> {
  for (const node of fleet.nodes.slice(0, n)) {
    await rm(node.root, { recursive: true, force: true });
    await mkdir(node.root, { recursive: true });
  }
}

async function setServiceIp(registryDir: string, service: string, ip: string): Promise<void> {
  const file = path.join(registryDir, 'services.json');
  const services = JSON.parse(await readFile(file, 'utf8')) as Record<string, { ip: string }>;
  services[service]!.ip = ip;
  await writeFile(`${file}.tmp`, JSON.stringify(services, null, 2));
  await rename(`${file}.tmp`, file);
}

function assertConverged(reports: NodeSyncReport[], what: string): void {
  const bad = reports.filter((r) => r.status !== 'converged');
  if (bad.length > 0) throw new Error(`${what}: ${bad.length} node(s) not converged: ${bad.map((r) => `${r.node} ${r.status} ${r.error?.code ?? ''} ${r.error?.message ?? ''}`).join('; ')}`);
}

const ratio = (a: number, b: number) => Math.round((a / b) * 100) / 100;
const sum = (reports: NodeSyncReport[]) => reports.reduce((n, r) => n + r.bytesSent, 0);

/** `courier push` as the CLI runs it: render, then push every node with the rendered artifacts. */
async function renderAndPush(site: Site): Promise<{ revision: string; reports: NodeSyncReport[]; renderMs: number; pushMs: number; nodes: Node[] }> {
  const r = await timed(() => renderRevision(site, { trigger: 'bench push' }));
  const byNode = new Map(r.value.rendered.nodes.map((n) => [n.node.name, n.artifacts]));
  const revision = r.value.commit.revision;
  const p = await timed(() => syncNodes(site, r.value.registry.nodes, revision, 'push', { desired: (node) => ({ revision, artifacts: byNode.get(node.name) ?? [] }) }));
  return { revision, reports: p.value, renderMs: r.ms, pushMs: p.ms, nodes: r.value.registry.nodes };
}

/** CPU ms (own + reaped children) of a process from /proc/<pid>/stat, 0 when unreadable. */
function processCpuMs(pid: number): number {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
    // fields 14-17 (utime stime cutime cstime) are at 11-14 after "pid (comm) "
    const ticks = [11, 12, 13, 14].reduce((n, i) => n + Number(f[i]), 0);
    return (ticks * 1000) / 100;
  } catch {
    return 0;
  }
}

/** CPU ms used so far by the first `n` sshd listeners and the sessions they have reaped (USER_HZ 100). */
function sshdCpuMs(fleet: SshdFleet, n: number): number {
  return fleet.nodes.slice(0, n).reduce((sum, node) => sum + (node.pid ? processCpuMs(node.pid) : 0), 0);
}

/** One ssh2 connection per node, one exec of `command` each, `concurrency` at a time; wall ms. */
async function floorOnce(fleet: SshdFleet, n: number, concurrency: number, command: string | ((i: number) => string)): Promise<number> {
  const privateKey = readFileSync(fleet.clientKeyPath);
  const hostKeys = fleet.nodes.slice(0, n).map((node) => Buffer.from(node.hostKeyPub.trim().split(/\s+/)[1]!, 'base64'));
  const limit = pLimit(concurrency);
  const one = (i: number) =>
    new Promise<void>((resolve, reject) => {
      const node = fleet.nodes[i]!;
      const client = new ssh2.Client();
      client.on('error', reject);
      client.on('close', () => resolve());
      client.on('ready', () => {
        client.exec(typeof command === 'string' ? command : command(i), (err, channel) => {
          if (err) return reject(err);
          channel.on('close', () => client.end());
          channel.resume();
          channel.stderr.resume();
        });
      });
      client.connect({ host: node.address, port: node.port, username: fleet.user, privateKey, hostVerifier: (key: Buffer) => key.equals(hostKeys[i]!) });
    });
  const start = performance.now();
  await Promise.all(Array.from({ length: n }, (_, i) => limit(() => one(i))));
  return performance.now() - start;
}

interface DeliveryResult {
  nodes: number;
  roles: Record<string, number>;
  services: number;
  reps: number;
  fresh: { ms: Summary; renderMs: Summary; pushMs: Summary; verifyMs: Summary; artifactBytes: number; peakRssMB: Summary };
  noChangePush: { ms: Summary; artifactBytes: number };
  oneServiceChange: { ms: Summary; renderMs: Summary; pushMs: Summary; artifactBytes: number; nodesSent: number };
  floor: { ms: Summary; command: string; concurrency: number; cpuPerConnectionMs: { client: number; sshd: number } };
  agentFloor: { ms: Summary; command: string };
  ratios: { freshOverFloor: number; noChangeOverFloor: number; oneChangeOverFloor: number };
}

async function delivery(fleet: SshdFleet, n: number, reps: number): Promise<DeliveryResult> {
  const fs = await createFleetSite(fleet, n, `push-${n}`);
  try {
    const fresh = { ms: [] as number[], render: [] as number[], push: [] as number[], verify: [] as number[], rss: [] as number[], bytes: 0 };
    let site: Site | undefined;
    let revision = '';
    let nodes: Node[] = [];
    for (let rep = 0; rep < reps; rep++) {
      await rm(path.join(fs.dir, 'state'), { recursive: true, force: true });
      await clearRoots(fleet, n);
      site = await openSite(fs.config, silentLogger());
      const opened = site;
      resetPeakRss();
      const t = await timed(async () => {
        const pushed = await renderAndPush(opened);
        const v = await timed(() => syncNodes(opened, pushed.nodes, pushed.revision, 'verify'));
        return { pushed, verify: v };
      });
      fresh.rss.push(peakRssMB());
      const { pushed, verify } = t.value;
      assertConverged(pushed.reports, 'fresh push');
      assertConverged(verify.value, 'fresh verify');
      fresh.ms.push(t.ms);
      fresh.render.push(pushed.renderMs);
      fresh.push.push(pushed.pushMs);
      fresh.verify.push(verify.ms);
      fresh.bytes = sum(pushed.reports);
      revision = pushed.revision;
      nodes = pushed.nodes;
      console.error(`  N=${n} fresh ${rep + 1}/${reps}: ${Math.round(t.ms)} ms (render ${Math.round(pushed.renderMs)}, push ${Math.round(pushed.pushMs)}, verify ${Math.round(verify.ms)}), ${fresh.bytes} B`);
    }
    const s = site!;

    const noChange = { ms: [] as number[], bytes: 0 };
    for (let rep = 0; rep < reps; rep++) {
      const t = await timed(() => syncNodes(s, nodes, revision, 'push'));
      assertConverged(t.value, 'no-change push');
      noChange.ms.push(t.ms);
      noChange.bytes += sum(t.value);
    }
    if (noChange.bytes !== 0) throw new Error(`no-change push sent ${noChange.bytes} artifact bytes; expected 0`);
    console.error(`  N=${n} no-change push: ${noChange.ms.map(Math.round).join(', ')} ms, 0 B`);

    const change = { ms: [] as number[], render: [] as number[], push: [] as number[], bytes: 0, nodesSent: 0 };
    for (let rep = 0; rep < reps; rep++) {
      await setServiceIp(fs.registryDir, CHANGED_SERVICE, serviceIp(1, rep + 1));
      const t = await timed(() => renderAndPush(s));
      assertConverged(t.value.reports, 'one-change push');
      change.ms.push(t.ms);
      change.render.push(t.value.renderMs);
      change.push.push(t.value.pushMs);
      change.bytes = sum(t.value.reports);
      change.nodesSent = t.value.reports.filter((r) => r.bytesSent > 0).length;
    }
    console.error(`  N=${n} one-service change: ${change.ms.map(Math.round).join(', ')} ms, ${change.bytes} B to ${change.nodesSent} nodes`);

    const concurrency = s.config.ssh.concurrency;
    const floor: number[] = [];
    const agentFloor: number[] = [];
    const agentCommand = buildAgentCommand(s.agentScript, ['--version'], { sudo: false });
    const floorCpu = { client: [] as number[], sshd: [] as number[] };
    for (let rep = 0; rep < reps; rep++) {
      const sshdBefore = sshdCpuMs(fleet, n);
      const t = await timed(() => floorOnce(fleet, n, concurrency, 'true'));
      floor.push(t.value);
      floorCpu.client.push(t.cpuMs / n);
      floorCpu.sshd.push((sshdCpuMs(fleet, n) - sshdBefore) / n);
      agentFloor.push(await floorOnce(fleet, n, concurrency, agentCommand));
    }
    console.error(`  N=${n} floor (ssh2 connect + exec true): ${floor.map(Math.round).join(', ')} ms; with the inline agent: ${agentFloor.map(Math.round).join(', ')} ms`);

    const roles: Record<string, number> = {};
    for (const node of fs.nodes) roles[node.role] = (roles[node.role] ?? 0) + 1;
    const result: DeliveryResult = {
      nodes: n,
      roles,
      services: SERVICES,
      reps,
      fresh: { ms: summarize(fresh.ms), renderMs: summarize(fresh.render), pushMs: summarize(fresh.push), verifyMs: summarize(fresh.verify), artifactBytes: fresh.bytes, peakRssMB: summarize(fresh.rss) },
      noChangePush: { ms: summarize(noChange.ms), artifactBytes: noChange.bytes },
      oneServiceChange: { ms: summarize(change.ms), renderMs: summarize(change.render), pushMs: summarize(change.push), artifactBytes: change.bytes, nodesSent: change.nodesSent },
      floor: { ms: summarize(floor), command: 'true', concurrency, cpuPerConnectionMs: { client: r1(summarize(floorCpu.client).median), sshd: r1(summarize(floorCpu.sshd).median) } },
      agentFloor: { ms: summarize(agentFloor), command: "sh -c '<courier-agent>' courier-agent --version" },
      ratios: { freshOverFloor: 0, noChangeOverFloor: 0, oneChangeOverFloor: 0 },
    };
    const f = result.floor.ms.median;
    result.ratios = {
      freshOverFloor: ratio(result.fresh.ms.median, f),
      noChangeOverFloor: ratio(result.noChangePush.ms.median, f),
      oneChangeOverFloor: ratio(result.oneServiceChange.ms.median, f),
    };
    return result;
  } finally {
    await rm(fs.dir, { recursive: true, force: true });
  }
}

interface DaemonResult {
  nodes: number;
  edits: number;
  startupReadyMs: number;
  editToConvergedMs: Summary;
  /** From the rename until the new revision was on main (watch + debounce + render + commit). */
  editToCommittedMs: Summary;
  editedService: string;
}

async function daemonLatency(fleet: SshdFleet, n: number, edits: number): Promise<DaemonResult> {
  const fs = await createFleetSite(fleet, n, `daemon-${n}`, 'reconcile:\n  debounce: 50ms\n  interval: 1h\n  retries: 0\n');
  await clearRoots(fleet, n);
  const site = await openSite(fs.config, silentLogger());
  const started = performance.now();
  const daemon = await startDaemon(site);
  try {
    await daemon.ready;
    const startupReadyMs = performance.now() - started;
    const editor = new DaemonEditor(site, fs.nodes.map((node) => node.name), { pollMs: 10, timeoutMs: 60_000 });
    const samples: number[] = [];
    const committed: number[] = [];
    const sshdPids = fleet.nodes.slice(0, n).map((f) => f.pid);
    const cpu = { controller: [] as number[], nodes: [] as number[] };
    for (let i = 0; i < edits; i++) {
      const before = { controller: process.cpuUsage(), nodes: nodeSideCpuMs(sshdPids) };
      const { ms, committedMs, ip } = await editor.edit();
      const used = process.cpuUsage(before.controller);
      cpu.controller.push((used.user + used.system) / 1000);
      cpu.nodes.push(nodeSideCpuMs(sshdPids) - before.nodes);
      samples.push(ms);
      committed.push(committedMs);
      // the nodes' files really hold the edit
      const vps = fleet.nodes[0]!;
      const last = fleet.nodes[n - 1]!;
      const traefik = await readFile(path.join(vps.root, 'srv/traefik/routes.yml'), 'utf8');
      const hosts = await readFile(path.join(last.root, 'etc/hosts'), 'utf8');
      if (!traefik.includes(`http://${ip}:`) || !hosts.includes(`${ip}\t`)) throw new Error(`edit ${i + 1}: ${ip} missing from a node's files after convergence`);
    }
    console.error(`  N=${n} daemon edit → converged: ${samples.map(Math.round).join(', ')} ms (on main after ${committed.map(Math.round).join(', ')} ms); cpu per edit: controller ${cpu.controller.map(Math.round).join(', ')} ms, nodes ${cpu.nodes.map(Math.round).join(', ')} ms`);
    return { nodes: n, edits, startupReadyMs: Math.round(startupReadyMs), editToConvergedMs: summarize(samples), editToCommittedMs: summarize(committed), editedService: `${EDITED_SERVICE} (public, unrouted: every node changes)` };
  } finally {
    await daemon.stop();
    await rm(fs.dir, { recursive: true, force: true });
  }
}

interface RssResult {
  nodes: number;
  edits: number;
  checkpoints: { edits: number; rssMB: number; heapUsedMB: number; externalMB: number; elapsedS: number; medianEditMs: number }[];
}

async function daemonRss(fleet: SshdFleet, n: number, edits: number): Promise<RssResult & { growthFrom100Pct?: number }> {
  const fs = await createFleetSite(fleet, n, `daemon-rss-${n}`, 'reconcile:\n  debounce: 50ms\n  interval: 1h\n  retries: 0\n');
  await clearRoots(fleet, n);
  try {
    const points = [10, 100, 200, 300, 500, 750, 1000, edits].filter((p, i, all) => p <= edits && all.indexOf(p) === i);
    const result = await runNodeChild<RssResult>(path.join(BENCH_DIR, 'daemon-rss.ts'), ['--config', fs.config, '--edits', String(edits), '--checkpoints', points.join(',')], { nodeArgs: ['--expose-gc'] });
    const at = (e: number) => result.checkpoints.find((c) => c.edits === e)?.rssMB;
    const a = at(100);
    const b = at(edits);
    return { ...result, ...(a && b && edits > 100 ? { growthFrom100Pct: r1(((b - a) / a) * 100) } : {}) };
  } finally {
    await rm(fs.dir, { recursive: true, force: true });
  }
}

async function main(argv: string[]): Promise<void> {
  const sizes = option(argv, '--sizes', '10,50').split(',').map(Number);
  const reps = Number(option(argv, '--reps', '5'));
  const daemonEdits = Number(option(argv, '--daemon-edits', '10'));
  const rssEdits = Number(option(argv, '--rss-edits', '300'));
  const machine = machineInfo();
  const benchStart = performance.now();
  console.log(`bench — delivery and daemon on an sshd fleet; sizes ${sizes.join(', ')}, ${reps} reps`);
  console.log(`machine: ${machine.nproc} cpus (${machine.cpuModel}), node ${machine.node}, temp ${machine.tmpDir} (${machine.tmpFs}), load ${(machine.loadAverage as number[]).join(' ')}`);

  let fleet: SshdFleet | undefined;
  await withCleanup(
    async () => {
      await fleet?.stopAll();
    },
    async () => {
      const t = await timed(() => startSshdFleet(Math.max(...sizes)));
      fleet = t.value;
      console.error(`  sshd fleet of ${fleet.nodes.length} started in ${(t.ms / 1000).toFixed(1)} s`);

      const deliveryResults: DeliveryResult[] = [];
      if (!argv.includes('--skip-delivery')) for (const n of sizes) deliveryResults.push(await delivery(fleet, n, reps));
      const daemonResults: DaemonResult[] = [];
      for (const n of sizes) daemonResults.push(await daemonLatency(fleet, n, daemonEdits));
      let rss: Awaited<ReturnType<typeof daemonRss>> | undefined;
      if (!argv.includes('--skip-rss')) {
        console.error(`  daemon memory: ${rssEdits} edits on N=${Math.min(...sizes)} (child process, --expose-gc)…`);
        rss = await daemonRss(fleet, Math.min(...sizes), rssEdits);
      }
      await fleet.stopAll();
      fleet = undefined;

      let render: unknown;
      if (argv.includes('--with-render')) {
        await runNodeChild<unknown>(path.join(BENCH_DIR, 'render.ts'), []).catch(() => undefined);
        render = JSON.parse(await readFile(path.join(BENCH_DIR, 'results', 'render.json'), 'utf8'));
      }

      const results = { benchmark: 'delivery+daemon', machine, machineAtEnd: { loadAverage: machineInfo().loadAverage }, totalS: Math.round((performance.now() - benchStart) / 1000), delivery: deliveryResults, daemon: daemonResults, daemonRss: rss, render };
      const file = await writeResults('bench.json', results);

      const ok = (v: number, limit: number) => (v <= limit ? 'ok' : 'MISSED');
      const rows: (string | number)[][] = [];
      for (const d of deliveryResults) {
        rows.push([`N=${d.nodes} fresh render+push+verify`, `${Math.round(d.fresh.ms.median)} ms`, `${d.fresh.artifactBytes} B`, `${d.ratios.freshOverFloor}× floor`, ok(d.ratios.freshOverFloor, 1.5)]);
        rows.push([`N=${d.nodes}   render / push / verify`, `${Math.round(d.fresh.renderMs.median)} / ${Math.round(d.fresh.pushMs.median)} / ${Math.round(d.fresh.verifyMs.median)} ms`, '', '', '']);
        rows.push([`N=${d.nodes}   peak RSS`, `${d.fresh.peakRssMB.median} MB`, '', '', '']);
        rows.push([`N=${d.nodes} no-change push`, `${Math.round(d.noChangePush.ms.median)} ms`, `${d.noChangePush.artifactBytes} B`, `${d.ratios.noChangeOverFloor}× floor`, ok(d.ratios.noChangeOverFloor, 1.5)]);
        rows.push([`N=${d.nodes} one-service change render+push`, `${Math.round(d.oneServiceChange.ms.median)} ms`, `${d.oneServiceChange.artifactBytes} B (${d.oneServiceChange.nodesSent} nodes)`, `${d.ratios.oneChangeOverFloor}× floor`, '']);
        rows.push([`N=${d.nodes} floor: ssh2 connect + exec true`, `${Math.round(d.floor.ms.median)} ms`, `cpu/conn: ${d.floor.cpuPerConnectionMs.client} ms ssh2 + ${d.floor.cpuPerConnectionMs.sshd} ms sshd`, `concurrency ${d.floor.concurrency}`, '']);
        rows.push([`N=${d.nodes} ssh2 connect + inline agent --version`, `${Math.round(d.agentFloor.ms.median)} ms`, '', '', '']);
      }
      for (const d of daemonResults) {
        rows.push([`N=${d.nodes} daemon edit → all converged`, `${Math.round(d.editToConvergedMs.median)} ms`, `${d.edits} edits; on main after ${Math.round(d.editToCommittedMs.median)} ms`, d.nodes >= 50 ? '≤ 1000 ms' : '', d.nodes >= 50 ? ok(d.editToConvergedMs.median, 1000) : '']);
      }
      if (rss) {
        for (const c of rss.checkpoints) rows.push([`daemon RSS after ${c.edits} edits (N=${rss.nodes}, after gc)`, `${c.rssMB} MB`, `heap ${c.heapUsedMB} MB`, `${c.medianEditMs} ms/edit`, '']);
        if (rss.growthFrom100Pct !== undefined) rows.push([`daemon RSS growth 100 → ${rss.edits} edits`, `${rss.growthFrom100Pct}%`, '', '≤ 10%', ok(rss.growthFrom100Pct, 10)]);
      }
      console.log(`\n${formatTable(['measurement (median)', 'time', 'bytes / detail', 'ratio / target', ''], rows)}`);
      console.log(`\nwrote ${path.relative(PROJECT_DIR, file)} (total ${Math.round((performance.now() - benchStart) / 1000)} s)`);
    },
  );
}

await main(process.argv.slice(2));
