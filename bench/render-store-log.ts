/**
 * Benchmark of the render → store → log path on one machine:
 *   1. render a 1,000-node registry (real templates) and commit it to a fresh store;
 *   2. commit 1,000 nodes × 2 artifacts (synthetic) to a fresh store, then the same again (no change),
 *      then with one artifact changed;
 *   3. build a store with many revisions (default 10,000, small fleet) and time `log -n 20`, with
 *      and without a node filter, on a freshly opened handle.
 * Usage: node --import tsx bench/render-store-log.ts [--revisions N] [--json]
 * Targets (2 cores): render+commit ≤ 2 s, no-change ≤ 0.5 s, log -n 20 ≤ 1 s.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { RawDocument, RegistrySnapshot } from '../controller/registry/model.js';
import { parseRegistry } from '../controller/registry/parse-registry.js';
import { blobOid } from '../controller/render/blob-oid.js';
import { loadTemplates } from '../controller/render/load-templates.js';
import type { NodeRender, RenderSettings } from '../controller/render/model.js';
import { renderRegistry } from '../controller/render/render-registry.js';
import { commitRevision } from '../controller/store/commit-revision.js';
import { listRevisions } from '../controller/store/list-revisions.js';
import { openStore } from '../controller/store/open-store.js';

const SETTINGS: RenderSettings = {
  traefik: { path: '/etc/traefik/dynamic/courier.yml', publicDomain: 'example.com', entryPoints: { web: 'web', websecure: 'websecure' }, certResolver: 'letsencrypt' },
  hosts: { path: '/etc/hosts' },
};

function json(name: RawDocument['name'], value: unknown): RawDocument {
  return { name, origin: `bench/${name}`, format: 'json', text: JSON.stringify(value) };
}

/** A registry of `count` nodes (one in ten a VPS) and 40 services, half of them public. */
function makeSnapshot(count: number): RegistrySnapshot {
  const node = (i: number) => ({ name: `node-${String(i).padStart(4, '0')}`, ip: `100.64.${Math.floor(i / 250)}.${(i % 250) + 1}`, ssh_user: 'courier' });
  const all = Array.from({ length: count }, (_, i) => node(i));
  const services = Object.fromEntries(
    Array.from({ length: 40 }, (_, i) => [`svc-${i}`, { subdomain: `svc-${i}`, ip: `10.0.0.${i + 10}`, port: 8000 + i, public: i % 2 === 0 }]),
  );
  return {
    trigger: 'bench',
    documents: {
      'services.json': json('services.json', services),
      'registry.json': json('registry.json', { management_laptops: [], vps_nodes: all.filter((_, i) => i % 10 === 0), worker_nodes: all.filter((_, i) => i % 10 !== 0) }),
      'cluster-domain': { name: 'cluster-domain', origin: 'bench/cluster-domain', format: 'text', text: 'benchcloud' },
    },
  };
}

/** 1,000 nodes with two artifacts each, every content distinct (the worst case for blob writes). */
function makeSyntheticFleet(count: number, generation = 0, changed = -1): NodeRender[] {
  return Array.from({ length: count }, (_, i) => {
    const mark = changed === -1 || changed === i ? generation : 0;
    const hosts = `${Array.from({ length: 20 }, (_, j) => `10.0.${j}.${i % 250}\tsvc${j}.benchcloud.local`).join('\n')}\n# ${mark}\n`;
    const traefik = `http:\n  routers:\n    r-${i}:\n      rule: "Host(\`n${i}.example.com\`)"\n# ${mark}\n`;
    const artifact = (name: string, file: string, content: string) => ({ name, path: file, kind: 'file' as const, mode: '0644', content, oid: blobOid(content) });
    return {
      node: { name: `node-${String(i).padStart(4, '0')}`, role: 'worker' as const, ip: '127.0.0.2', sshUser: 'courier', sshPort: 22, sudo: false, transport: 'ssh' as const },
      artifacts: [artifact('hosts', '/etc/hosts', hosts), artifact('traefik.yml', '/etc/traefik/dynamic/courier.yml', traefik)],
    };
  });
}

async function measure<T>(results: Record<string, number>, label: string, fn: () => Promise<T>): Promise<T> {
  const started = performance.now();
  const value = await fn();
  results[label] = Math.round(performance.now() - started);
  return value;
}

async function main(argv: string[]): Promise<void> {
  const revisionsIndex = argv.indexOf('--revisions');
  const revisionCount = revisionsIndex === -1 ? 10_000 : Number(argv[revisionsIndex + 1]);
  const root = await mkdtemp(path.join(os.tmpdir(), 'courier-bench-'));
  const ms: Record<string, number> = {};
  try {
    const templates = await loadTemplates();
    const snapshot = makeSnapshot(1000);
    const real = await openStore(path.join(root, 'real'));
    const render = () => {
      const registry = parseRegistry(snapshot, { publicDomain: SETTINGS.traefik.publicDomain });
      return { documents: registry.documents, nodes: renderRegistry(registry, SETTINGS, templates).nodes };
    };
    const first = await measure(ms, 'render 1000 nodes (real templates)', async () => render());
    await measure(ms, 'commit 1000 rendered nodes (first)', () => commitRevision(real, { ...first, trigger: 'bench' }));
    await measure(ms, 'render+commit 1000 nodes unchanged', () => commitRevision(real, { ...render(), trigger: 'bench' }));

    const synthetic = await openStore(path.join(root, 'synthetic'));
    await measure(ms, 'commit 1000 nodes x 2 artifacts (first)', () => commitRevision(synthetic, { documents: {}, nodes: makeSyntheticFleet(1000), trigger: 'bench' }));
    await measure(ms, 'commit 1000 x 2 unchanged', () => commitRevision(synthetic, { documents: {}, nodes: makeSyntheticFleet(1000), trigger: 'bench' }));
    await measure(ms, 'commit 1000 x 2 unchanged (fresh handle)', async () => commitRevision(await openStore(synthetic.dir), { documents: {}, nodes: makeSyntheticFleet(1000), trigger: 'bench' }));
    await measure(ms, 'commit 1000 x 2 one artifact changed', () => commitRevision(synthetic, { documents: {}, nodes: makeSyntheticFleet(1000, 1, 500), trigger: 'bench' }));
    await measure(ms, 'commit 1000 x 2 all changed', () => commitRevision(synthetic, { documents: {}, nodes: makeSyntheticFleet(1000, 2), trigger: 'bench' }));

    const history = await openStore(path.join(root, 'history'));
    await measure(ms, `build ${revisionCount} revisions (5 nodes)`, async () => {
      for (let i = 0; i < revisionCount; i++) {
        const nodes = makeSyntheticFleet(5, i, i % 5);
        await commitRevision(history, { documents: {}, nodes, trigger: `bench ${i}` });
      }
    });
    const fresh = await openStore(history.dir);
    await measure(ms, 'log -n 20', () => listRevisions(fresh, { limit: 20 }));
    await measure(ms, 'log -n 20 --node node-0003', () => listRevisions(fresh, { limit: 20, node: 'node-0003' }));
  } finally {
    await rm(root, { recursive: true, force: true });
  }
  if (argv.includes('--json')) console.log(JSON.stringify(ms, null, 2));
  else for (const [label, value] of Object.entries(ms)) console.log(`${String(value).padStart(7)} ms  ${label}`);
}

await main(process.argv.slice(2));
