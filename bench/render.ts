/**
 * `npm run bench:render`: render + commit of a 1,000-node / 300-service files-source site, and
 * `courier log` on a 10,000-revision store.
 *
 *   1. fresh render+commit (renderRevision end to end: read source, validate, render, commit) into an
 *      empty state dir, in a fresh child process per sample (cold, as `courier render` runs), with
 *      that process's peak RSS;
 *   2. no-change render: cold (a new process on the existing store, like the CLI) and warm (the same
 *      process again, like the daemon);
 *   3. one-service change (a private service's ip: every laptop's and worker's hosts block), cold and warm;
 *   4. a 10,000-revision store built with renderRevision on a 5-node registry, then
 *      listRevisions({ limit: 20 }) in-process and `courier log -n 20` (built CLI) wall time, plain and
 *      `--node`-filtered.
 *
 * Options: --nodes N (1000) --services N (300) --reps N (5) --revisions N (10000) --skip-log
 * Temp dirs go to $COURIER_BENCH_TMP (default the OS temp dir). Writes bench/results/render.json.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { silentLogger } from '../controller/logger.js';
import { openSite } from '../controller/pipeline/open-site.js';
import { renderRevision } from '../controller/pipeline/render-revision.js';
import { parseRegistry } from '../controller/registry/parse-registry.js';
import { loadTemplates } from '../controller/render/load-templates.js';
import { renderRegistry } from '../controller/render/render-registry.js';
import { validateTraefikConfig } from '../controller/render/validate-traefik-config.js';
import { readSource } from '../controller/sources/read-source.js';
import { commitRevision } from '../controller/store/commit-revision.js';
import { listRevisions } from '../controller/store/list-revisions.js';
import { openStore } from '../controller/store/open-store.js';
import {
  BENCH_DIR,
  PROJECT_DIR,
  formatTable,
  machineInfo,
  makeTempDir,
  peakRssMB,
  r1,
  rssMB,
  runNodeChild,
  summarize,
  timeCommand,
  timed,
  withCleanup,
  writeResults,
} from './lib.js';
import { generateRegistry, registrySnapshot, serviceIp, siteConfig, syntheticNodes, writeRegistry, type GenRegistry } from './registry-gen.js';

const SELF = path.join(BENCH_DIR, 'render.ts');
/** The private service whose ip the one-service change edits (1 % 3 !== 0: private). */
const CHANGED_SERVICE = 'svc-001';

/** One timed render in a child. */
interface RenderSample {
  label: string;
  ms: number;
  cpuMs: number;
  committed: boolean;
  changedNodes: number;
}

/** What a child reports. */
interface ChildReport {
  samples: RenderSample[];
  /** RSS after imports and openSite, before the first render. */
  startRssMB: number;
  /** Peak RSS of the whole child process. */
  maxRssMB: number;
}

function arg(argv: string[], name: string, fallback: number): number {
  const i = argv.indexOf(name);
  return i === -1 ? fallback : Number(argv[i + 1]);
}

/** Rewrite services.json with CHANGED_SERVICE's ip at generation `gen` (write + rename). */
async function changeService(registryDir: string, gen: number): Promise<void> {
  const file = path.join(registryDir, 'services.json');
  const services = JSON.parse(await readFile(file, 'utf8')) as Record<string, { ip: string }>;
  services[CHANGED_SERVICE]!.ip = serviceIp(1, gen);
  await writeFile(`${file}.tmp`, JSON.stringify(services, null, 2));
  await rename(`${file}.tmp`, file);
}

/** Child mode: one cold render of the site, then the follow-ups (`nochange`, `change:<gen>`) in the same process. */
async function child(config: string, then: string[]): Promise<void> {
  const site = await openSite(config, silentLogger());
  const report: ChildReport = { samples: [], startRssMB: rssMB(), maxRssMB: 0 };
  const run = async (label: string) => {
    const { value, ms, cpuMs } = await timed(() => renderRevision(site, { trigger: `bench ${label}` }));
    report.samples.push({ label, ms: r1(ms), cpuMs: r1(cpuMs), committed: value.commit.committed, changedNodes: value.commit.changes.length });
  };
  await run('first');
  for (const step of then) {
    if (step.startsWith('change:')) await changeService(site.config.source.type === 'files' ? site.config.source.path : '', Number(step.slice(7)));
    await run(step.split(':')[0]!);
  }
  report.maxRssMB = r1(process.resourceUsage().maxRSS / 1024);
  console.log(JSON.stringify(report));
}

/** Per-stage wall and CPU times of one render (what renderRevision does, stage by stage). */
type Stages = Record<string, number>;

/**
 * Child mode `--stages`: renderRevision's stages timed one by one (fresh into an empty store, then
 * no-change and one-change warm), plus validateTraefikConfig alone over every VPS file (warm).
 */
async function stagesChild(config: string, gen: number): Promise<void> {
  const site = await openSite(config, silentLogger());
  const once = async (): Promise<Stages> => {
    const stages: Stages = {};
    const step = async <T>(name: string, fn: () => Promise<T> | T): Promise<T> => {
      const { value, ms, cpuMs } = await timed(async () => fn());
      stages[`${name} (wall)`] = r1(ms);
      stages[`${name} (cpu)`] = r1(cpuMs);
      return value;
    };
    const snapshot = await step('read source', () => readSource(site.config));
    const registry = await step('validate registry', () => parseRegistry(snapshot, { publicDomain: site.config.traefik.publicDomain }));
    const templates = await step('load templates', () => loadTemplates());
    const rendered = await step('render (incl. Traefik validation)', () => renderRegistry(registry, site.settings, templates));
    const vps = rendered.nodes.filter((n) => n.node.role === 'vps').flatMap((n) => n.artifacts);
    await step(`  of which: validateTraefikConfig x${vps.length} (warm, measured again)`, () => vps.forEach((a) => validateTraefikConfig(a.content, a.name)));
    await step('commit', () => commitRevision(site.store, { documents: registry.documents, nodes: rendered.nodes, trigger: 'bench stages' }));
    stages['vps file bytes (each)'] = vps[0]?.content.length ?? 0;
    return stages;
  };
  const fresh = await once();
  const noChange = await once();
  await changeService(site.config.source.type === 'files' ? site.config.source.path : '', gen);
  const change = await once();
  console.log(JSON.stringify({ fresh, noChange, change }));
}

/** Build a store of `count` revisions on a 5-node registry; returns the config file and build time. */
async function buildHistory(dir: string, count: number): Promise<{ config: string; ms: number; cpuMs: number; perCommitMs: number }> {
  const nodes = syntheticNodes({ vps: 2, laptops: 2, workers: 1 });
  const reg: GenRegistry = generateRegistry(nodes, 12);
  // svc-000 (public) routed to vps-000 only: vps-001's traefik file never changes after revision 1
  reg.routing = { 'svc-000': { domains: ['example.net'], vps_nodes: [nodes[0]!.ip], strategy: 'primary-backup' } };
  await mkdir(path.join(dir, 'registry'), { recursive: true });
  writeRegistry(path.join(dir, 'registry'), reg);
  const config = path.join(dir, 'courier.yaml');
  await writeFile(config, siteConfig());
  const site = await openSite(config, silentLogger());
  const t0 = Date.UTC(2026, 0, 1);
  let lastReport = performance.now();
  const { ms, cpuMs } = await timed(async () => {
    for (let i = 0; i < count; i++) {
      // every revision: a private service moves (laptops + workers); every 100th also svc-000 (vps-000)
      reg.services['svc-001']!.ip = serviceIp(1, i + 1);
      if (i % 100 === 99) reg.services['svc-000']!.ip = serviceIp(0, i + 1);
      const outcome = await renderRevision(site, { snapshot: registrySnapshot(reg, `bench edit ${i + 1}`), now: new Date(t0 + i * 1000) });
      if (!outcome.commit.committed) throw new Error(`revision ${i + 1} did not commit`);
      if (performance.now() - lastReport > 15_000) {
        lastReport = performance.now();
        console.error(`  … ${i + 1} / ${count} revisions`);
      }
    }
  });
  writeRegistry(path.join(dir, 'registry'), reg);
  return { config, ms, cpuMs, perCommitMs: ms / count };
}

async function main(argv: string[]): Promise<void> {
  const nodeCount = arg(argv, '--nodes', 1000);
  const serviceCount = arg(argv, '--services', 300);
  const reps = arg(argv, '--reps', 5);
  const revisions = arg(argv, '--revisions', 10_000);
  const vps = Math.round(nodeCount * 0.04);
  const laptops = Math.floor((nodeCount - vps) / 2);
  const shape = { vps, laptops, workers: nodeCount - vps - laptops };
  const machine = machineInfo();
  console.log(`bench:render — ${nodeCount} nodes (${shape.vps} vps, ${shape.laptops} laptops, ${shape.workers} workers), ${serviceCount} services, ${reps} reps`);
  console.log(`machine: ${machine.nproc} cpus (${machine.cpuModel}), node ${machine.node}, temp ${machine.tmpDir} (${machine.tmpFs}), load ${(machine.loadAverage as number[]).join(' ')}`);

  const base = await makeTempDir('courier-bench-render-');
  await withCleanup(
    () => rm(base, { recursive: true, force: true }),
    async () => {
      // the 1,000-node site
      const siteDir = path.join(base, 'site');
      const registryDir = path.join(siteDir, 'registry');
      await mkdir(registryDir, { recursive: true });
      const reg = generateRegistry(syntheticNodes(shape), serviceCount);
      writeRegistry(registryDir, reg);
      const config = path.join(siteDir, 'courier.yaml');
      await writeFile(config, siteConfig());
      const registryBytes = Object.values(reg).reduce((n, v) => n + JSON.stringify(v).length, 0);

      const fresh: RenderSample[] = [];
      const warmNoChange: RenderSample[] = [];
      const warmChange: RenderSample[] = [];
      const coldNoChange: RenderSample[] = [];
      const coldChange: RenderSample[] = [];
      const freshRss: number[] = [];
      const startRss: number[] = [];
      let gen = 1;
      for (let rep = 0; rep < reps; rep++) {
        await rm(path.join(siteDir, 'state'), { recursive: true, force: true });
        const a = await runNodeChild<ChildReport>(SELF, ['--child', config, 'nochange', `change:${gen++}`]);
        fresh.push(a.samples[0]!);
        warmNoChange.push(a.samples[1]!);
        warmChange.push(a.samples[2]!);
        freshRss.push(a.maxRssMB);
        startRss.push(a.startRssMB);
        const b = await runNodeChild<ChildReport>(SELF, ['--child', config]);
        coldNoChange.push(b.samples[0]!);
        await changeService(registryDir, gen++);
        const c = await runNodeChild<ChildReport>(SELF, ['--child', config]);
        coldChange.push(c.samples[0]!);
        console.error(`  rep ${rep + 1}/${reps}: fresh ${a.samples[0]!.ms} ms (${a.maxRssMB} MB peak), no-change ${b.samples[0]!.ms} / ${a.samples[1]!.ms} ms, one change ${c.samples[0]!.ms} / ${a.samples[2]!.ms} ms (cold / warm)`);
      }
      const check = (samples: RenderSample[], committed: boolean, what: string) => {
        for (const s of samples) if (s.committed !== committed) throw new Error(`${what}: expected committed=${committed}, got ${JSON.stringify(s)}`);
      };
      check(fresh, true, 'fresh');
      check(coldNoChange, false, 'no-change');
      check(warmNoChange, false, 'no-change');
      check(coldChange, true, 'one change');
      check(warmChange, true, 'one change');

      const render = {
        nodes: nodeCount,
        shape,
        services: serviceCount,
        routed: Object.keys(reg.routing).length,
        registryJsonBytes: registryBytes,
        fresh: { ms: summarize(fresh.map((s) => s.ms)), cpuMs: summarize(fresh.map((s) => s.cpuMs)), peakRssMB: summarize(freshRss), startRssMB: summarize(startRss) },
        noChangeCold: { ms: summarize(coldNoChange.map((s) => s.ms)), cpuMs: summarize(coldNoChange.map((s) => s.cpuMs)) },
        noChangeWarm: { ms: summarize(warmNoChange.map((s) => s.ms)), cpuMs: summarize(warmNoChange.map((s) => s.cpuMs)) },
        oneChangeCold: { ms: summarize(coldChange.map((s) => s.ms)), cpuMs: summarize(coldChange.map((s) => s.cpuMs)), changedNodes: coldChange[0]!.changedNodes },
        oneChangeWarm: { ms: summarize(warmChange.map((s) => s.ms)), cpuMs: summarize(warmChange.map((s) => s.cpuMs)), changedNodes: warmChange[0]!.changedNodes },
      };

      // the 10,000-revision store
      let log: Record<string, unknown> | undefined;
      if (!argv.includes('--skip-log')) {
        console.error(`  building a ${revisions}-revision store…`);
        const history = await buildHistory(path.join(base, 'history'), revisions);
        console.error(`  built in ${(history.ms / 1000).toFixed(1)} s (${history.perCommitMs.toFixed(2)} ms per revision)`);
        const storeDir = path.join(base, 'history', 'state', 'store');
        const variants: { label: string; node?: string }[] = [
          { label: 'log -n 20' },
          { label: 'log -n 20 --node laptop-000 (in every revision)', node: 'laptop-000' },
          { label: 'log -n 20 --node vps-000 (every 100th)', node: 'vps-000' },
          { label: 'log -n 20 --node vps-001 (only the first: walks all)', node: 'vps-001' },
        ];
        // the per-node log index: built by the first `log --node` (a cache beside the store), used by every later one
        await rm(path.join(storeDir, 'courier-index'), { recursive: true, force: true });
        const indexBuild = await timed(async () => listRevisions(await openStore(storeDir), { limit: 20, node: 'vps-001' }));
        console.error(`  per-node log index built in ${Math.round(indexBuild.ms)} ms`);
        const inProcess: Record<string, unknown> = {};
        for (const v of variants) {
          const samples: number[] = [];
          let found = 0;
          for (let rep = 0; rep < reps; rep++) {
            // a fresh handle: no object cache, as a CLI run starts
            const store = await openStore(storeDir);
            const { value, ms } = await timed(() => listRevisions(store, { limit: 20, node: v.node }));
            samples.push(ms);
            found = value.length;
          }
          inProcess[v.label] = { ms: summarize(samples), found };
        }
        const cli = path.join(PROJECT_DIR, 'dist', 'courier', 'main.js');
        if (!existsSync(cli)) {
          console.error('  dist/ missing: building with tsc -p tsconfig.build.json');
          await timeCommand('npx', ['tsc', '-p', 'tsconfig.build.json']);
        }
        const cliTimes: Record<string, unknown> = {};
        for (const v of [{ label: 'courier --help (node + CLI start-up)', args: ['--help'] }, ...variants.map((v) => ({ label: `courier ${v.label}`, args: ['log', '-n', '20', '--config', history.config, ...(v.node ? ['--node', v.node] : [])] }))]) {
          const samples: number[] = [];
          let lines = 0;
          for (let rep = 0; rep < reps; rep++) {
            const { ms, stdout } = await timeCommand(process.execPath, [cli, ...v.args]);
            samples.push(ms);
            lines = stdout.split('\n').filter((l) => /^[0-9a-f]{12}\s/.test(l)).length;
          }
          cliTimes[v.label] = { ms: summarize(samples), revisionsPrinted: lines };
        }
        const gitSamples: number[] = [];
        for (let rep = 0; rep < reps; rep++) gitSamples.push((await timeCommand('git', ['--git-dir', storeDir, 'log', '-n', '20', '--format=%h %s'])).ms);
        log = {
          revisions,
          build: { ms: Math.round(history.ms), cpuMs: Math.round(history.cpuMs), perRevisionMs: r1(history.perCommitMs), how: 'renderRevision (snapshot from memory) on a 5-node, 12-service registry, one private-service ip change per revision' },
          listRevisions: inProcess,
          cli: cliTimes,
          stockGitLog: { ms: summarize(gitSamples) },
          nodeIndexBuildMs: Math.round(indexBuild.ms),
        };
      }

      const results = { benchmark: 'render', machine, render, log, peakRssThisProcessMB: peakRssMB() };
      const file = await writeResults('render.json', results);

      // summary
      const rows: (string | number)[][] = [
        [`fresh render+commit, ${nodeCount} nodes (cold process)`, `${render.fresh.ms.median} ms`, `${render.fresh.cpuMs.median} ms`, '≤ 2000 ms', render.fresh.ms.median <= 2000 ? 'ok' : 'MISSED'],
        ['  peak RSS of that process', `${render.fresh.peakRssMB.median} MB`, '', '≤ 300 MB', render.fresh.peakRssMB.median <= 300 ? 'ok' : 'MISSED'],
        ['no-change render (cold process)', `${render.noChangeCold.ms.median} ms`, `${render.noChangeCold.cpuMs.median} ms`, '', ''],
        ['no-change render (warm, same process)', `${render.noChangeWarm.ms.median} ms`, `${render.noChangeWarm.cpuMs.median} ms`, '', ''],
        [`one private service changed (cold; ${render.oneChangeCold.changedNodes} nodes)`, `${render.oneChangeCold.ms.median} ms`, `${render.oneChangeCold.cpuMs.median} ms`, '', ''],
        ['one private service changed (warm)', `${render.oneChangeWarm.ms.median} ms`, `${render.oneChangeWarm.cpuMs.median} ms`, '', ''],
      ];
      if (log) {
        const b = log.build as { ms: number; perRevisionMs: number };
        rows.push([`build ${revisions} revisions`, `${(b.ms / 1000).toFixed(1)} s`, '', '', `${b.perRevisionMs} ms/rev`]);
        for (const [label, v] of Object.entries(log.listRevisions as Record<string, { ms: { median: number }; found: number }>)) {
          rows.push([`listRevisions ${label.replace(/^log /, '')}`, `${v.ms.median} ms`, '', '≤ 1000 ms', v.ms.median <= 1000 ? 'ok' : 'MISSED']);
        }
        rows.push(['per-node log index build (first log --node, in-process)', `${log.nodeIndexBuildMs as number} ms`, '', '', '']);
        for (const [label, v] of Object.entries(log.cli as Record<string, { ms: { median: number } }>)) {
          const limit = label.includes('--node') ? 300 : 1000;
          const target = label.includes('--help') ? '' : `≤ ${limit} ms`;
          rows.push([label, `${r1(v.ms.median)} ms`, '', target, target ? (v.ms.median <= limit ? 'ok' : 'MISSED') : '']);
        }
        rows.push(['git log -n 20 (stock git, reference)', `${(log.stockGitLog as { ms: { median: number } }).ms.median} ms`, '', '', '']);
      }
      console.log(`\n${formatTable(['measurement (median)', 'wall', 'cpu', 'target', ''], rows)}`);
      console.log(`\nwrote ${path.relative(PROJECT_DIR, file)}`);
    },
  );
}

const argv = process.argv.slice(2);
if (argv[0] === '--child') await child(argv[1]!, argv.slice(2));
else if (argv[0] === '--stages') await stagesChild(argv[1]!, Number(argv[2]));
else await main(argv);
