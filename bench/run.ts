/**
 * `npm run bench`: delivery and daemon benchmarks on a real sshd fleet on loopback
 * (test/support/sshd-fleet.ts: sshd with a clean HOME per session, own host key, own node root),
 * every figure beside a floor measured in the same run. The CLI and the floors are compiled first
 * (`npm run build`, bench/tsconfig.floors.json) and run as plain `node` processes, so both sides of
 * a ratio pay the same process start-up and neither loads tsx.
 *
 * Floors (what the least SSH client must do for the same work; see floor-cold.ts, floor-warm.ts):
 *   cold floor: a node + ssh2 process; per node 1 connection + 1 exec writing ~3 KB to
 *     <root>/.floor and returning its sha1sum, at ssh.concurrency, same key, host key pinned;
 *     wall and CPU of the whole process.
 *   warm floor: a node + ssh2 process holding 1 connection + 1 open exec per node (an sh loop that
 *     reads a length line and that many bytes, writes them and prints their sha1sum); a round
 *     writes ~3 KB to every node and waits for every hash; median round.
 * Delivery, N = --sizes (default 10,50), --reps each, interleaved with the cold floor:
 *   `courier push` onto empty nodes (after an untimed `courier render`), `courier verify`, a second
 *   `courier push` (nothing to change, must send 0 B): wall and client CPU; targets at N >= 50:
 *   each <= 1.3x the floor's wall, the fresh push's CPU <= 2x the floor's. Then an in-process
 *   breakdown (render / push / verify, bytes, peak RSS, a one-service change).
 * Daemon at the largest size (`courier daemon` in its own process; reconcile interval 1h): edit of
 *   services.json -> every node active at the new revision with the new content in its files,
 *   median of --daemon-edits, target <= 500 ms, beside the warm floor; a node that comes back
 *   (--comebacks times) converged <= 5 s after its port accepts TCP; the same edits with
 *   ssh.sessions: cold for comparison.
 * Scale (--scale 1000, or `npm run bench:scale`): a fleet of 1,000 nodes on 63 sshd x 16 addresses:
 *   cold floor (wall + CPU), cold `courier push` (<= 1.3x), warm floor holding 1,000 sessions (its
 *   RSS, its round), the daemon holding 1,000 warm sessions (RSS <= 250 MB) and edit -> all 1,000
 *   converged (<= 2x the warm floor), with the daemon's and the node side's CPU per edit.
 * Daemon memory over many edits: --rss-edits N (child bench/daemon-rss.ts, N=10 fleet) with --with-rss.
 * Restricted nodes (--with-restricted, at the largest size): the same nodes pushed as full-shell
 *   nodes (inline agent) and as restricted ones (installed agent, forced command), interleaved, with
 *   the cold floor of the same repetitions (bench/restricted-delivery.ts).
 *
 * Options: --sizes 10,50 --reps 5 --daemon-edits 10 --comebacks 3 --cold-edits 5 --scale 1000
 *   --scale-reps 2 --scale-edits 3 --skip-delivery --skip-daemon --skip-cold-daemon --skip-build
 *   --skip-trace --with-rss --rss-edits 300 --with-render --with-restricted. Writes bench/results/bench.json (and scale.json).
 */
import { execFileSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { startSshdFleet, type SshdFleet } from '../test/support/sshd-fleet.js';
import { coldDelivery, type ColdDeliveryResult } from './cold-delivery.js';
import { restrictedDelivery } from './restricted-delivery.js';
import { daemonBench, type DaemonBenchResult } from './daemon-bench.js';
import { BENCH_DIR, PROJECT_DIR, formatTable, machineInfo, r1, runNodeChild, timed, withCleanup, writeResults } from './lib.js';
import { clearRoots, createFleetSite } from './bench-site.js';
import { warmFloor, type WarmFloorResult } from './run-floors.js';
import { benchRows, type BenchResults } from './bench-table.js';

function option(argv: string[], name: string, fallback: string): string {
  const i = argv.indexOf(name);
  return i === -1 ? fallback : argv[i + 1]!;
}

/** ulimit -n of a child shell (what sshd and the daemon inherit) and the fleet's MaxStartups. */
function limits(): { openFiles: string; maxStartupsPerSshd: number } {
  let openFiles = 'unknown';
  try {
    openFiles = execFileSync('sh', ['-c', 'ulimit -n'], { encoding: 'utf8' }).trim();
  } catch {
    // keep unknown
  }
  return { openFiles, maxStartupsPerSshd: 100 };
}

/** Compile the CLI (npm run build) and the floor programs, so what is measured is the tree as it is now. */
function build(): void {
  const t = performance.now();
  execFileSync('npm', ['run', '-s', 'build'], { cwd: PROJECT_DIR, stdio: 'inherit' });
  execFileSync(path.join(PROJECT_DIR, 'node_modules/.bin/tsc'), ['-p', path.join(BENCH_DIR, 'tsconfig.floors.json')], { cwd: PROJECT_DIR, stdio: 'inherit' });
  console.error(`  built the CLI and the floors in ${((performance.now() - t) / 1000).toFixed(1)} s`);
}

async function withFleet<T>(count: number, perSshd: number, body: (fleet: SshdFleet) => Promise<T>): Promise<T> {
  let fleet: SshdFleet | undefined;
  return withCleanup(
    async () => {
      await fleet?.stopAll();
      fleet = undefined;
    },
    async () => {
      const t = await timed(() => startSshdFleet(count, { perSshd }));
      fleet = t.value;
      console.error(`  sshd fleet: ${count} nodes on ${Math.ceil(count / perSshd)} sshd started in ${(t.ms / 1000).toFixed(1)} s`);
      return body(fleet);
    },
  );
}

async function main(argv: string[]): Promise<void> {
  const has = (flag: string) => argv.includes(flag);
  const sizes = option(argv, '--sizes', '10,50').split(',').map(Number).filter((x) => x > 0);
  const reps = Number(option(argv, '--reps', '5'));
  const daemonEdits = Number(option(argv, '--daemon-edits', '10'));
  const comebacks = Number(option(argv, '--comebacks', '3'));
  const coldEdits = Number(option(argv, '--cold-edits', '5'));
  const scale = Number(option(argv, '--scale', '0'));
  const scaleReps = Number(option(argv, '--scale-reps', '2'));
  const scaleEdits = Number(option(argv, '--scale-edits', '3'));
  const lim = limits();
  const machine: Record<string, unknown> = { ...machineInfo(), limits: lim };
  const benchStart = performance.now();
  console.log(`bench — delivery and daemon on an sshd fleet (clean HOME per session); sizes ${sizes.join(', ')}, ${reps} reps${scale ? `; scale ${scale}` : ''}`);
  console.log(`machine: ${machine.nproc} cpus (${machine.cpuModel}), node ${machine.node}, temp ${machine.tmpDir} (${machine.tmpFs}), load ${(machine.loadAverage as number[]).join(' ')}, ulimit -n ${lim.openFiles}, MaxStartups ${lim.maxStartupsPerSshd} per sshd`);
  if (!has('--skip-build')) build();

  const results: BenchResults = { machine, delivery: [], daemon: [] };
  const largest = Math.max(0, ...sizes);
  const wantDaemon = !has('--skip-daemon') && largest > 0;
  if (sizes.length && (!has('--skip-delivery') || wantDaemon || has('--with-restricted'))) {
    await withFleet(largest, 1, async (fleet) => {
      if (!has('--skip-delivery')) for (const n of sizes) results.delivery.push(await coldDelivery(fleet, n, reps));
      if (has('--with-restricted')) results.restricted = await restrictedDelivery(fleet, largest, reps);
      if (wantDaemon) {
        results.warmFloor = await warmFloor(fleet, largest, 32, Math.max(daemonEdits, 5));
        results.daemon.push(await daemonBench(fleet, largest, { sessions: 'warm', edits: daemonEdits, comebacks, traceAgent: !has('--skip-trace') }));
        if (!has('--skip-cold-daemon')) results.daemon.push(await daemonBench(fleet, largest, { sessions: 'cold', edits: coldEdits }));
      }
      if (has('--with-rss')) {
        const rssEdits = Number(option(argv, '--rss-edits', '300'));
        const n = Math.min(...sizes);
        const site = await createFleetSite(fleet, n, `daemon-rss-${n}`, { extra: 'reconcile:\n  debounce: 50ms\n  interval: 1h\n  retries: 0\n' });
        await clearRoots(fleet, n);
        const points = [10, 100, 200, 300, 500, 750, 1000, rssEdits].filter((p, i, all) => p <= rssEdits && all.indexOf(p) === i);
        console.error(`  daemon memory: ${rssEdits} edits on N=${n} (child process, --expose-gc)…`);
        results.daemonRss = await runNodeChild(path.join(BENCH_DIR, 'daemon-rss.ts'), ['--config', site.config, '--edits', String(rssEdits), '--checkpoints', points.join(',')], { nodeArgs: ['--expose-gc'] });
      }
    });
  }

  if (scale > 0) {
    const t = performance.now();
    await withFleet(scale, 16, async (fleet) => {
      const delivery: ColdDeliveryResult = await coldDelivery(fleet, scale, scaleReps, { cliOnly: true, noChange: false, verify: false });
      const floor: WarmFloorResult = await warmFloor(fleet, scale, 32, 5);
      const daemon: DaemonBenchResult = await daemonBench(fleet, scale, { sessions: 'warm', edits: scaleEdits, pollMs: 25, timeoutMs: 300_000 });
      results.scale = { nodes: scale, sshd: Math.ceil(scale / 16), delivery, warmFloor: floor, daemon, totalS: r1((performance.now() - t) / 1000) };
    });
  }

  if (has('--with-render')) {
    await runNodeChild<unknown>(path.join(BENCH_DIR, 'render.ts'), []).catch(() => undefined);
    results.render = JSON.parse(await readFile(path.join(BENCH_DIR, 'results', 'render.json'), 'utf8'));
  }
  results.machineAtEnd = { loadAverage: machineInfo().loadAverage };
  results.totalS = Math.round((performance.now() - benchStart) / 1000);
  const { rows, notes } = benchRows(results);
  results.table = rows.map((r) => ({ measurement: r[0], value: r[1], floor: r[2], ratio: r[3], target: r[4], verdict: r[5] }));
  const file = await writeResults(scale > 0 && !sizes.length ? 'scale.json' : 'bench.json', results);
  console.log(`\n${formatTable(['measurement (median)', 'value', 'floor (same run)', 'ratio', 'target', ''], rows)}`);
  console.log(`\n${notes.join('\n')}`);
  console.log(`\nload at end ${(results.machineAtEnd.loadAverage as number[]).join(' ')}; wrote ${path.relative(PROJECT_DIR, file)} (total ${results.totalS} s)`);
}

await main(process.argv.slice(2));
