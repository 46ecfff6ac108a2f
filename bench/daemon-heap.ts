/**
 * Where the daemon's memory per warm session goes: `courier daemon` (own process, as in the bench)
 * on N nodes (16 per sshd), a heap snapshot once every session is open and every node active
 * (--heapsnapshot-signal), summarized by constructor / type: self size and count, largest first.
 *
 *   node --import tsx bench/daemon-heap.ts --nodes 200 [--top 25]
 */
import { readdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { silentLogger } from '../controller/logger.js';
import { openSite } from '../controller/pipeline/open-site.js';
import { readStatusFile } from '../controller/status/status-file.js';
import { readMain } from '../controller/store/commit-revision.js';
import { startSshdFleet } from '../test/support/sshd-fleet.js';
import { clearRoots, createFleetSite } from './bench-site.js';
import { startDaemonProcess } from './daemon-process.js';
import { formatTable, withCleanup } from './lib.js';

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: (string[] | string)[] } };
  nodes: number[];
  strings: string[];
}

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i === -1 ? fallback : process.argv[i + 1]!;
}

/** Self size and count per "type:name" (objects by constructor name, strings, arrays, code...). */
function summarizeSnapshot(snap: Snapshot, top: number): (string | number)[][] {
  const fields = snap.snapshot.meta.node_fields;
  const types = snap.snapshot.meta.node_types[0] as string[];
  const width = fields.length;
  const [ti, ni, si] = ['type', 'name', 'self_size'].map((f) => fields.indexOf(f));
  const by = new Map<string, { size: number; count: number }>();
  let total = 0;
  for (let i = 0; i < snap.nodes.length; i += width) {
    const type = types[snap.nodes[i + ti!]!]!;
    const name = type === 'object' || type === 'closure' || type === 'native' ? snap.strings[snap.nodes[i + ni!]!]!.slice(0, 60) : '';
    const key = `${type}${name ? `:${name}` : ''}`;
    const size = snap.nodes[i + si!]!;
    total += size;
    const e = by.get(key) ?? { size: 0, count: 0 };
    e.size += size;
    e.count++;
    by.set(key, e);
  }
  const rows = [...by.entries()].sort((a, b) => b[1].size - a[1].size).slice(0, top);
  // the heaviest string values (grouped by their first 50 characters): what the strings are
  const strs = new Map<string, { size: number; count: number }>();
  for (let i = 0; i < snap.nodes.length; i += width) {
    const type = types[snap.nodes[i + ti!]!]!;
    if (type !== 'string' && type !== 'sliced string' && type !== 'concatenated string') continue;
    const key = `${type}: ${JSON.stringify(snap.strings[snap.nodes[i + ni!]!]!.slice(0, 50))}`;
    const e = strs.get(key) ?? { size: 0, count: 0 };
    e.size += snap.nodes[i + si!]!;
    e.count++;
    strs.set(key, e);
  }
  const topStrings = [...strs.entries()].sort((a, b) => b[1].size - a[1].size).slice(0, 12);
  return [
    ...topStrings.map(([k, v]) => [k.slice(0, 90), `${(v.size / 2 ** 20).toFixed(2)} MB`, v.count]),
    ['', '', ''],['(total)', `${(total / 2 ** 20).toFixed(1)} MB`, ''], ...rows.map(([k, v]) => [k, `${(v.size / 2 ** 20).toFixed(1)} MB`, v.count])];
}

const n = Number(arg('--nodes', '200'));
const top = Number(arg('--top', '25'));
let stop: (() => Promise<void>) | undefined;
await withCleanup(
  async () => stop?.(),
  async () => {
    const fleet = await startSshdFleet(n, { perSshd: 16 });
    stop = () => fleet.stopAll();
    const site = await createFleetSite(fleet, n, `daemon-heap-${n}`, { httpListen: '127.0.0.1:0', extra: 'reconcile:\n  debounce: 50ms\n  interval: 1h\n  retries: 0\n' });
    await clearRoots(fleet, n);
    const opened = await openSite(site.config, silentLogger());
    const daemon = await startDaemonProcess(site.config, site.stateDir, 300_000, { nodeArgs: ['--heapsnapshot-signal=SIGUSR1'], cwd: site.dir });
    try {
      const names = site.nodes.map((x) => x.name);
      for (;;) {
        const main = await readMain(opened.store);
        const doc = await readStatusFile(opened.config.state.statusFile);
        if (main && names.every((x) => doc.nodes[x]?.status === 'active' && doc.nodes[x]?.revision === main) && (await daemon.sessionsOpen()) >= n) break;
        await new Promise((r) => setTimeout(r, 200));
      }
      const memory = await daemon.memoryMB();
      console.error(`  N=${n}: every session open; after gc ${JSON.stringify(memory)}; taking a heap snapshot…`);
      daemon.signal('SIGUSR1');
      let file: string | undefined;
      for (let i = 0; i < 600 && !file; i++) {
        await new Promise((r) => setTimeout(r, 500));
        const found = (await readdir(site.dir)).find((f) => f.endsWith('.heapsnapshot'));
        // the snapshot is written on the daemon's main thread: once it answers again, the file is complete
        if (found) {
          for (let j = 0; j < 240 && !file; j++) {
            try {
              await daemon.sessionsOpen();
              file = path.join(site.dir, found);
            } catch {
              await new Promise((r) => setTimeout(r, 500));
            }
          }
        }
      }
      if (!file) throw new Error('no heap snapshot written');
      const snap = JSON.parse(await readFile(file, 'utf8')) as Snapshot;
      console.log(`daemon heap with ${n} warm sessions (after a full GC: ${JSON.stringify(memory)} MB)\n`);
      console.log(formatTable(['type:constructor', 'self size', 'count'], summarizeSnapshot(snap, top)));
      await rm(file, { force: true });
    } finally {
      await daemon.stop();
      await rm(site.dir, { recursive: true, force: true });
    }
  },
);
