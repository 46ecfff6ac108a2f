/**
 * Restricted nodes beside full-shell ones, on the same N fleet nodes in the same run (`npm run
 * bench -- --with-restricted`): what the inline agent costs a cold session. A full-shell node gets
 * the whole agent (~28 KB) in every exec request, which its login shell and then `sh` parse; a
 * restricted node runs its installed agent from the forced command and gets only the agent's own
 * words. Each node here holds both entries: the fleet's key with a full shell, a second key with
 * `restrict,command="/bin/sh <home>/.courier/courier-agent restricted"` (targets fixed as `nodes
 * join` fixes them). Per repetition, in alternating order, a fresh `courier push` (emptied roots)
 * and a no-change push of each site, with the cold floor of the same repetition.
 */
import { execFileSync } from 'node:child_process';
import { copyFile, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { silentLogger } from '../controller/logger.js';
import { openSite } from '../controller/pipeline/open-site.js';
import type { SshdFleet } from '../test/support/sshd-fleet.js';
import { clearRoots, createFleetSite, type FleetSite } from './bench-site.js';
import { PROJECT_DIR, nodeSideCpuMs, summarize } from './lib.js';
import { coldFloor } from './run-floors.js';
import { CLI, timeNode } from './time-process.js';

type Summary = ReturnType<typeof summarize>;

/** Wall, client CPU and node-side CPU of one kind of push. */
interface Push {
  ms: Summary;
  cpuMs: Summary;
  nodeCpuMs: Summary;
}

/** Full-shell (inline agent) and restricted (installed agent) pushes, and the floor of the same run. */
export interface RestrictedDeliveryResult {
  nodes: number;
  reps: number;
  floorMs: Summary;
  floorCpuMs: Summary;
  inline: { fresh: Push; noChange: Push };
  restricted: { fresh: Push; noChange: Push };
}

const TRAEFIK = '/srv/traefik/routes.yml';
const HOSTS = '/etc/hosts';

/** Install the agent and the restricted entry of `pub` on the first `n` nodes; returns the undo. */
async function restrictNodes(fleet: SshdFleet, site: FleetSite, n: number, pub: string): Promise<() => Promise<void>> {
  const nodes = fleet.nodes.slice(0, n);
  if (new Set(nodes.map((f) => f.dir)).size !== n) throw new Error('restricted bench: needs one sshd (one HOME) per node');
  const restore: [string, string][] = [];
  for (let i = 0; i < n; i++) {
    const f = nodes[i]!;
    const home = path.join(f.dir, 'home');
    const dir = path.join(home, '.courier');
    await mkdir(dir, { recursive: true });
    await copyFile(path.join(PROJECT_DIR, 'node-agent', 'courier-agent'), path.join(dir, 'courier-agent'));
    await writeFile(path.join(dir, 'targets'), `root ${f.root}\nallow ${site.nodes[i]!.role === 'vps' ? TRAEFIK : HOSTS}\nupgrade no\n`);
    const keys = path.join(f.dir, 'authorized_keys');
    const before = await readFile(keys, 'utf8');
    restore.push([keys, before]);
    await writeFile(keys, `${before.endsWith('\n') ? before : `${before}\n`}restrict,command="/bin/sh ${dir}/courier-agent restricted" ${pub}\n`, { mode: 0o600 });
  }
  return async () => {
    for (const [keys, before] of restore) await writeFile(keys, before, { mode: 0o600 });
    for (const f of nodes) await rm(path.join(f.dir, 'home', '.courier'), { recursive: true, force: true });
  };
}

/** A site on the same nodes that logs in with `identity` and marks every node `restricted: true`. */
async function restrictedSite(fleet: SshdFleet, n: number, identity: string): Promise<FleetSite> {
  const site = await createFleetSite(fleet, n, `restricted-${n}`);
  await writeFile(site.config, (await readFile(site.config, 'utf8')).replace(`identity: ${fleet.clientKeyPath}`, `identity: ${identity}`));
  const file = path.join(site.registryDir, 'registry.json');
  const registry = JSON.parse(await readFile(file, 'utf8')) as Record<string, Record<string, unknown>[]>;
  for (const list of Object.values(registry)) for (const node of list) node.restricted = true;
  await writeFile(file, JSON.stringify(registry, null, 2));
  return site;
}

export async function restrictedDelivery(fleet: SshdFleet, n: number, reps: number): Promise<RestrictedDeliveryResult> {
  const inline = await createFleetSite(fleet, n, `inline-${n}`);
  const key = path.join(inline.dir, 'restricted-key');
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'courier-bench-restricted', '-f', key]);
  const restricted = await restrictedSite(fleet, n, key);
  const undo = await restrictNodes(fleet, restricted, n, (await readFile(`${key}.pub`, 'utf8')).trim());
  const sshdPids = [...new Set(fleet.nodes.slice(0, n).map((f) => f.pid))];
  const samples = () => ({ ms: [] as number[], cpu: [] as number[], node: [] as number[] });
  const runs = { inline: { fresh: samples(), noChange: samples() }, restricted: { fresh: samples(), noChange: samples() } };
  const floorMs: number[] = [];
  const floorCpu: number[] = [];
  try {
    const concurrency = (await openSite(inline.config, silentLogger())).config.ssh.concurrency;
    for (const site of [inline, restricted]) await timeNode([CLI, '-c', site.config, 'render']);
    const push = async (site: FleetSite, into: ReturnType<typeof samples>, what: string) => {
      const before = nodeSideCpuMs(sshdPids);
      const t = await timeNode([CLI, '-c', site.config, 'push', '--json']);
      into.node.push(nodeSideCpuMs(sshdPids) - before);
      const bad = (JSON.parse(t.stdout) as { node: string; status: string; error?: { code: string } }[]).filter((r) => r.status !== 'converged');
      if (bad.length) throw new Error(`${what}: ${bad.length} node(s) not converged: ${bad.slice(0, 3).map((r) => `${r.node} ${r.status} ${r.error?.code ?? ''}`).join('; ')}`);
      into.ms.push(t.ms);
      into.cpu.push(t.cpuMs);
    };
    for (let rep = 0; rep < reps; rep++) {
      const floor = await coldFloor(fleet, n, concurrency, 1);
      floorMs.push(...floor.ms.samples);
      floorCpu.push(...floor.cpuMs.samples);
      const order = rep % 2 === 0 ? (['inline', 'restricted'] as const) : (['restricted', 'inline'] as const);
      for (const kind of order) {
        await clearRoots(fleet, n);
        await push(kind === 'inline' ? inline : restricted, runs[kind].fresh, `${kind} fresh push`);
        await push(kind === 'inline' ? inline : restricted, runs[kind].noChange, `${kind} no-change push`);
      }
      const last = (s: number[]) => Math.round(s.at(-1)!);
      console.error(`  N=${n} full shell vs restricted, rep ${rep + 1}/${reps}: fresh ${last(runs.inline.fresh.ms)} / ${last(runs.restricted.fresh.ms)} ms, no-change ${last(runs.inline.noChange.ms)} / ${last(runs.restricted.noChange.ms)} ms, floor ${last(floorMs)} ms`);
    }
  } finally {
    await undo();
    await rm(inline.dir, { recursive: true, force: true });
    await rm(restricted.dir, { recursive: true, force: true });
  }
  const pushOf = (s: ReturnType<typeof samples>): Push => ({ ms: summarize(s.ms), cpuMs: summarize(s.cpu), nodeCpuMs: summarize(s.node) });
  return {
    nodes: n,
    reps,
    floorMs: summarize(floorMs),
    floorCpuMs: summarize(floorCpu),
    inline: { fresh: pushOf(runs.inline.fresh), noChange: pushOf(runs.inline.noChange) },
    restricted: { fresh: pushOf(runs.restricted.fresh), noChange: pushOf(runs.restricted.noChange) },
  };
}
