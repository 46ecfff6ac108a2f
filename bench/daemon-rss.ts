/**
 * Child of bench/run.ts (run with --expose-gc): start the daemon in-process on an existing site
 * whose nodes are already running, make `--edits` services.json edits one after another (each waits
 * for convergence), and report RSS / heap after a forced GC at the checkpoints. Prints one JSON line.
 *
 *   node --expose-gc --import tsx bench/daemon-rss.ts --config site/courier.yaml --edits 1000 --checkpoints 10,100,500,1000
 */
import { silentLogger } from '../controller/logger.js';
import { startDaemon } from '../controller/daemon/run-daemon.js';
import { openSite } from '../controller/pipeline/open-site.js';
import { parseRegistry } from '../controller/registry/parse-registry.js';
import { readSource } from '../controller/sources/read-source.js';
import { DaemonEditor } from './daemon-edits.js';
import { median, r1 } from './lib.js';

interface Checkpoint {
  edits: number;
  rssMB: number;
  heapUsedMB: number;
  externalMB: number;
  elapsedS: number;
  medianEditMs: number;
}

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i === -1 ? fallback : process.argv[i + 1]!;
}

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with node --expose-gc');

function measure(edits: number, started: number, recent: number[]): Checkpoint {
  // twice: the first pass may only finalize what the second frees
  gc!();
  gc!();
  const m = process.memoryUsage();
  const mb = (b: number) => r1(b / 2 ** 20);
  return { edits, rssMB: mb(m.rss), heapUsedMB: mb(m.heapUsed), externalMB: mb(m.external), elapsedS: r1((performance.now() - started) / 1000), medianEditMs: r1(median(recent)) };
}

const config = arg('--config', '');
const edits = Number(arg('--edits', '1000'));
const checkpoints = new Set(arg('--checkpoints', '10,100,1000').split(',').map(Number));
const site = await openSite(config, silentLogger());
const nodes = parseRegistry(await readSource(site.config), { publicDomain: site.config.traefik.publicDomain }).nodes.map((n) => n.name);
const daemon = await startDaemon(site);
const results: Checkpoint[] = [];
const started = performance.now();
try {
  await daemon.ready;
  const editor = new DaemonEditor(site, nodes, { pollMs: 10, timeoutMs: 120_000 });
  results.push(measure(0, started, [0]));
  let recent: number[] = [];
  for (let i = 1; i <= edits; i++) {
    recent.push((await editor.edit()).ms);
    if (checkpoints.has(i)) {
      results.push(measure(i, started, recent));
      recent = [];
      console.error(`  daemon-rss: ${i} edits, rss ${results[results.length - 1]!.rssMB} MB`);
    }
  }
} finally {
  await daemon.stop();
}
console.log(JSON.stringify({ nodes: nodes.length, edits, checkpoints: results }));
