/**
 * The bench's results and its table: every figure with the floor measured in the same run, the
 * ratio, the target (issue #9) and ok / MISSED; plus notes saying what each floor does.
 */
import type { ColdDeliveryResult } from './cold-delivery.js';
import type { DaemonBenchResult } from './daemon-bench.js';
import type { WarmFloorResult } from './run-floors.js';
import type { RestrictedDeliveryResult } from './restricted-delivery.js';

/** Everything one `npm run bench` measured. */
export interface BenchResults {
  machine: Record<string, unknown>;
  machineAtEnd?: { loadAverage: unknown };
  totalS?: number;
  delivery: ColdDeliveryResult[];
  warmFloor?: WarmFloorResult;
  daemon: DaemonBenchResult[];
  daemonRss?: unknown;
  scale?: { nodes: number; sshd: number; delivery: ColdDeliveryResult; warmFloor: WarmFloorResult; daemon: DaemonBenchResult; totalS: number };
  render?: unknown;
  restricted?: RestrictedDeliveryResult;
  table?: unknown[];
}

type Row = (string | number)[];
const ms = (v: number) => `${Math.round(v)} ms`;
const x = (a: number, b: number) => Math.round((a / b) * 100) / 100;
const verdict = (ok: boolean) => (ok ? 'ok' : 'MISSED');

/** A row comparing `value` with `floor` against a ratio target (`limit`x). */
function ratioRow(what: string, value: number, floor: number, limit: number | undefined, unit = ms): Row {
  const r = x(value, floor);
  return [what, unit(value), unit(floor), `${r}x`, limit ? `<= ${limit}x` : '', limit ? verdict(r <= limit) : ''];
}

function deliveryRows(d: ColdDeliveryResult, targets: boolean, label = `N=${d.nodes}`): Row[] {
  const f = d.floor;
  const rows: Row[] = [
    ratioRow(`${label} courier push, fresh nodes`, d.cli.freshPush.ms.median, f.ms.median, targets ? 1.3 : undefined),
  ];
  if (d.cli.noChangePush.ms.samples.length) rows.push(ratioRow(`${label} courier push, nothing changed (0 B)`, d.cli.noChangePush.ms.median, f.ms.median, targets ? 1.3 : undefined));
  if (d.cli.verify.ms.samples.length) rows.push(ratioRow(`${label} courier verify`, d.cli.verify.ms.median, f.ms.median, targets ? 1.3 : undefined));
  rows.push(ratioRow(`${label} client CPU of the fresh push`, d.cli.freshPush.cpuMs.median, f.cpuMs.median, targets ? 2 : undefined));
  if (d.cli.verify.cpuMs.samples.length) rows.push(ratioRow(`${label}   client CPU: no-change push / verify`, d.cli.noChangePush.cpuMs.median, f.cpuMs.median, undefined).map((c, i) => (i === 1 ? `${c} / ${ms(d.cli.verify.cpuMs.median)}` : c)));
  const nc = (run: { nodeCpuMs: { median: number; samples: number[] } }) => (run.nodeCpuMs.samples.length ? String(Math.round(run.nodeCpuMs.median)) : '-');
  rows.push([`${label}   node-side CPU: fresh / no-change / verify`, `${nc(d.cli.freshPush)} / ${nc(d.cli.noChangePush)} / ${nc(d.cli.verify)} ms`, ms(d.floorNodeCpuMs.median), `${x(d.cli.freshPush.nodeCpuMs.median, d.floorNodeCpuMs.median)}x`, '', '']);
  rows.push([`${label}   cold floor: work only (in the floor process)`, ms(f.workMs.median), `cpu ${ms(f.workCpuMs.median)}`, '', '', '']);
  rows.push([`${label}   fresh push sent`, `${d.cli.freshBytes} B`, '', '', '', '']);
  const p = d.inProcess;
  if (p) {
    rows.push([`${label}   in-process render / push / verify`, `${Math.round(p.renderMs.median)} / ${Math.round(p.pushMs.median)} / ${Math.round(p.verifyMs.median)} ms`, `push cpu ${ms(p.pushCpuMs.median)}`, '', '', '']);
    rows.push([`${label}   in-process peak RSS (push + verify)`, `${p.peakRssMB.median} MB`, '', '', '', '']);
    rows.push([`${label}   one-service change render+push`, ms(p.oneChangeMs.median), `${p.oneChangeBytes} B to ${p.oneChangeNodes} nodes`, '', '', '']);
  }
  return rows;
}

function daemonRows(d: DaemonBenchResult, floor: WarmFloorResult | undefined, coldFloorMs: number | undefined, options: { absoluteLimit?: number; ratioLimit?: number; label?: string }): Row[] {
  const label = options.label ?? `N=${d.nodes}`;
  const v = d.editToConvergedMs.median;
  const rows: Row[] = [];
  const f = d.sessions === 'warm' ? floor?.roundMs.median : coldFloorMs;
  const what = `${label} daemon (${d.sessions}) edit -> all ${d.nodes} converged`;
  if (options.ratioLimit && f) rows.push(ratioRow(what, v, f, options.ratioLimit));
  else
    rows.push([
      what,
      ms(v),
      f ? `${ms(f)} ${d.sessions} floor` : '',
      f ? `${x(v, f)}x` : '',
      options.absoluteLimit ? `<= ${options.absoluteLimit} ms` : '',
      options.absoluteLimit ? verdict(v <= options.absoluteLimit) : '',
    ]);
  rows.push([`${label}   on main after (watch + debounce + render + commit)`, ms(d.editToCommittedMs.median), '', '', '', '']);
  const perNode = (v: number) => Math.round((v / d.nodes) * 10) / 10;
  const fc = d.sessions === 'warm' && floor ? `floor: ${Math.round(floor.medianRoundCpuMs)} / ${Math.round(floor.medianRoundNodeCpuMs ?? Number.NaN)} ms` : '';
  rows.push([`${label}   CPU per edit: daemon / node side`, `${Math.round(d.controllerCpuMsPerEdit.median)} / ${Math.round(d.nodeSideCpuMsPerEdit.median)} ms`, fc, '', '', '']);
  rows.push([`${label}   CPU per edit per node: daemon / node side`, `${perNode(d.controllerCpuMsPerEdit.median)} / ${perNode(d.nodeSideCpuMsPerEdit.median)} ms`, d.sessions === 'warm' && floor ? `floor: ${perNode(floor.medianRoundCpuMs)} / ${perNode(floor.medianRoundNodeCpuMs ?? Number.NaN)} ms` : '', '', '', '']);
  rows.push([`${label}   daemon start -> all active${d.sessions === 'warm' ? ', all sessions open' : ''}`, ms(d.startupMs), '', '', '', '']);
  const m = d.memoryReadyMB;
  if (m) rows.push([`${label}   daemon after GC, ready: rss / heapUsed / external / arrayBuffers`, `${m.rss} / ${m.heapUsed} / ${m.external} / ${m.arrayBuffers} MB`, `RSS before GC ${d.rssReadyMB} MB`, '', '', '']);
  if (d.agentTrace) rows.push([`${label}   one warm round on one node (strace): forks / execs`, `${d.agentTrace.forks} / ${d.agentTrace.execs}`, Object.entries(d.agentTrace.programs).slice(0, 6).map(([p, c]) => `${p} ${c}`).join(', '), '', '', '']);
  if (d.comeback) {
    const c = d.comeback.ms.median;
    rows.push([`${label} node back: port accepts -> converged`, ms(c), '', '', '<= 5000 ms', verdict(c <= 5000)]);
    rows.push([`${label}   sshd stopped -> pending_sync`, ms(d.comeback.pendingAfterStopMs.median), '', '', '', '']);
  }
  return rows;
}

/** Table rows and notes for the results. */
export function benchRows(r: BenchResults): { rows: Row[]; notes: string[] } {
  const rows: Row[] = [];
  for (const d of r.delivery) rows.push(...deliveryRows(d, d.nodes >= 50));
  const largest = r.delivery.find((d) => d.nodes === r.warmFloor?.nodes);
  for (const d of r.daemon) rows.push(...daemonRows(d, r.warmFloor, largest?.floor.ms.median, { absoluteLimit: d.sessions === 'warm' && d.nodes >= 50 ? 500 : undefined }));
  const rs = r.restricted;
  if (rs) {
    const label = `N=${rs.nodes}`;
    const pair = (a: { median: number }, b: { median: number }) => `${Math.round(a.median)} / ${Math.round(b.median)} ms`;
    rows.push([`${label} fresh push: full shell (inline agent) / restricted (installed)`, pair(rs.inline.fresh.ms, rs.restricted.fresh.ms), ms(rs.floorMs.median), `${x(rs.inline.fresh.ms.median, rs.floorMs.median)}x / ${x(rs.restricted.fresh.ms.median, rs.floorMs.median)}x`, '', '']);
    rows.push([`${label}   no-change push: full shell / restricted`, pair(rs.inline.noChange.ms, rs.restricted.noChange.ms), ms(rs.floorMs.median), `${x(rs.inline.noChange.ms.median, rs.floorMs.median)}x / ${x(rs.restricted.noChange.ms.median, rs.floorMs.median)}x`, '', '']);
    rows.push([`${label}   fresh push client CPU: full shell / restricted`, pair(rs.inline.fresh.cpuMs, rs.restricted.fresh.cpuMs), `cpu ${ms(rs.floorCpuMs.median)}`, `${x(rs.inline.fresh.cpuMs.median, rs.floorCpuMs.median)}x / ${x(rs.restricted.fresh.cpuMs.median, rs.floorCpuMs.median)}x`, '', '']);
    rows.push([`${label}   node-side CPU, fresh / no-change: full shell vs restricted`, `${pair(rs.inline.fresh.nodeCpuMs, rs.inline.noChange.nodeCpuMs)} vs ${pair(rs.restricted.fresh.nodeCpuMs, rs.restricted.noChange.nodeCpuMs)}`, '', '', '', '']);
  }
  if (r.warmFloor) rows.push([`N=${r.warmFloor.nodes}   warm floor RSS (all open) / open time`, `${r.warmFloor.rssOpenMB} MB`, ms(r.warmFloor.openMs), '', '', '']);
  const s = r.scale;
  if (s) {
    const label = `N=${s.nodes}`;
    rows.push(...deliveryRows(s.delivery, true, label));
    rows.push([`${label} daemon RSS, all sessions open`, `${s.daemon.rssReadyMB} MB`, `${s.warmFloor.rssOpenMB} MB warm floor`, `${x(s.daemon.rssReadyMB, s.warmFloor.rssOpenMB)}x`, '<= 250 MB', verdict(s.daemon.rssReadyMB <= 250)]);
    rows.push([`${label}   daemon RSS after the edits / sessions open`, `${s.daemon.rssAfterMB} MB`, `${s.daemon.sessionsOpen} open`, '', '', '']);
    rows.push(...daemonRows(s.daemon, s.warmFloor, undefined, { ratioLimit: 2, label }));
    rows.push([`${label}   warm floor open time (all ${s.nodes})`, ms(s.warmFloor.openMs), '', '', '', '']);
  }
  const notes = [
    'cold floor: a plain node + ssh2 process; per node 1 connection (same key, host key pinned) + 1 exec `cat > <root>/.floor && sha1sum <root>/.floor` with 3072 B on stdin (hash checked), ssh.concurrency at once; wall and CPU of the whole process (start-up included), like the `courier` CLI process it is compared with (/usr/bin/time).',
    'warm floor: a plain node + ssh2 process holding 1 connection + 1 open exec per node (`while read n; do head -c "$n" > <root>/.wfloor && sha1sum <root>/.wfloor; done`); one round writes 3072 B to every node at once and waits for every hash; median round. Its RSS is that process\'s with every session open.',
    'daemon: `courier daemon` in its own process (reconcile.interval 1h, debounce 50ms); an edit is a write + rename of services.json; converged = every node\'s status active at the new revision, then every node\'s file checked for the new address (status file polled every 10 ms, 25 ms at scale). CPU per edit: the daemon process, and the node side = every sshd listener with its sessions and agents.',
    `load average at start ${(r.machine.loadAverage as number[]).join(' ')}, at end ${((r.machineAtEnd?.loadAverage as number[]) ?? []).join(' ')} on ${r.machine.nproc} cpus (shared): compare figures with their same-run floors, not across runs.`,
  ];
  return { rows, notes };
}
