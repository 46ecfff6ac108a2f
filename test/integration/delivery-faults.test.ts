/**
 * End-to-end faults during delivery over real SSH: a connection killed in the middle of a large
 * put, truncated and garbled frames, and a full file system. In every case the target keeps its
 * old content (or stays absent) and the next push converges.
 */
import { execFile } from 'node:child_process';
import { watch, type FSWatcher } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSshdFleet, type SshdFleet } from '../support/sshd-fleet.js';
import { runChannel } from '../support/run-channel.js';
import { AGENT_SCRIPT, startAgentLookalikes } from '../agent/run-agent.js';
import { openAgentChannel, type TransportOptions } from '../../controller/transport/open-agent-channel.js';
import { readKnownHosts } from '../../controller/transport/known-hosts.js';
import { blobOid, createSite, defaultServices, TRAEFIK_PATH, waitFor, type ServiceDoc, type TestSite } from './create-site.js';
import { CLI_TEST_TIMEOUT } from './run-courier.js';
import { agentProcesses, connectionProcesses, isRunning, signalAll } from './node-processes.js';
import { startHoldProxy } from '../support/hold-proxy.js';

const run = promisify(execFile);

let fleet: SshdFleet;
let mounted: string | undefined;

beforeAll(async () => {
  fleet = await startSshdFleet(2);
});

afterAll(async () => {
  if (mounted) await run('umount', [mounted]).catch(() => run('umount', ['-l', mounted!]));
  await fleet?.stopAll();
});

/** The default services plus `count` public ones: each adds two routers and a service to the Traefik file. */
function manyServices(count: number, port = 8000): Record<string, ServiceDoc> {
  const services = defaultServices();
  for (let i = 0; i < count; i++) services[`svc-${i}`] = { subdomain: `svc-${i}`, ip: `100.65.${Math.floor(i / 250)}.${(i % 250) + 1}`, port: port + (i % 1000), public: true };
  return services;
}

/** A site with one VPS (fleet node 0) whose Traefik file is pushed once with the default services. */
async function siteWithRoutes(): Promise<{ site: TestSite; old: Buffer }> {
  const site = await createSite(fleet, [{ name: 'edge-a', role: 'vps', fleet: 0 }]);
  const first = await site.courier('push', '--json');
  expect(first.code, first.stderr).toBe(0);
  return { site, old: (await site.read('edge-a', TRAEFIK_PATH))! };
}

/** Resolve with the name of the first staging temp file created in `dir`; call `close()` when done. */
function watchForTemp(dir: string, base: string): { created: Promise<string>; close: () => void } {
  let watcher: FSWatcher | undefined;
  const created = new Promise<string>((resolve) => {
    watcher = watch(dir, (_event, name) => {
      if (name?.startsWith(`.${base}.courier-`)) resolve(name);
    });
  });
  return { created, close: () => watcher?.close() };
}

describe('a connection killed in the middle of a large put', { timeout: CLI_TEST_TIMEOUT }, () => {
  // ~0.9 MB of Traefik routes: the agent receives it in pipe-sized chunks for long enough to be
  // caught in the act (it is frozen the moment its temp file appears, so there is no race)
  const SERVICES = 1500;

  it('leaves the old target intact; SIGKILLed sessions leave their staging file, which the next push sweeps away', async () => {
    // the node is reached through a proxy that stops forwarding partway through the put, so the
    // session is caught mid-transfer however fast the machine is
    const proxy = await startHoldProxy(fleet.nodes[0]!.address, { host: fleet.nodes[0]!.address, port: fleet.nodes[0]!.port });
    try {
      const site = await createSite(fleet, [{ name: 'edge-a', role: 'vps', fleet: 0, port: proxy.port }]);
      const first = await site.courier('push', '--json');
      expect(first.code, first.stderr).toBe(0);
      const old = (await site.read('edge-a', TRAEFIK_PATH))!;
      site.registry.services = manyServices(SERVICES);
      await site.save();

      // SSH handshake, the inline agent and the wants pass; then ~200 KB of the put, then nothing
      proxy.holdAfter(260_000);
      const pushing = site.courier('push', '--json');
      await waitFor('a staging file on the node', async () => (await site.tempFiles('edge-a', TRAEFIK_PATH)).length > 0);
      const [stray] = await site.tempFiles('edge-a', TRAEFIK_PATH);
      const partial = await stat(path.join(path.dirname(site.file('edge-a', TRAEFIK_PATH)), stray!));
      expect(await site.read('edge-a', TRAEFIK_PATH)).toEqual(old);
      // kill the session and its agent (SIGKILL: no chance to run the agent's cleanup)
      const killed = agentProcesses(fleet.nodes[0]!.pid);
      signalAll(killed.map((p) => p.pid), 'SIGKILL');
      await fleet.killSessions(0);
      // dead (a zombie until init reaps it is dead too): the premise of the sweep below
      await waitFor('the killed agent to die', async () => killed.every((p) => !isRunning(p.pid, p.start)));
      const push = await pushing;
      proxy.release();

      expect(push.code).toBe(1);
      expect(site.reports(push)['edge-a']).toMatchObject({ status: 'unreachable', error: { code: 'CONNECTION_LOST', retryable: true } });
      expect(await site.read('edge-a', TRAEFIK_PATH)).toEqual(old);
      // SIGKILL gives the agent no chance to run its EXIT trap: the partial staging file stays
      expect(await site.tempFiles('edge-a', TRAEFIK_PATH)).toEqual([stray]);

      // the next push converges, and sweeps the dead agent's staging file
      const again = await site.courier('push', '--json');
      expect(again.code, again.stdout).toBe(0);
      const report = site.reports(again)['edge-a']!;
      expect(report).toMatchObject({ status: 'converged', changed: ['traefik.yml'] });
      const routes = (await site.read('edge-a', TRAEFIK_PATH))!;
      expect(report.bytesSent).toBe(routes.length);
      // the killed put was in flight: its staging file held only part of the artifact
      expect(partial.size).toBeLessThan(routes.length);
      expect(report.oids[`file ${TRAEFIK_PATH}`]).toBe(blobOid(routes));
      expect(await site.tempFiles('edge-a', TRAEFIK_PATH)).toEqual([]);
    } finally {
      await proxy.close();
    }
  });

  it('the sweep before a put removes only staging files whose agent is dead', async () => {
    const { site } = await siteWithRoutes();
    const dir = path.dirname(site.file('edge-a', TRAEFIK_PATH));
    // a pid that was alive a moment ago and has exited
    const { stdout } = await run('sh', ['-c', 'echo $$']);
    const dead = `.routes.yml.courier-${stdout.trim()}-1`;
    // a running agent, and a SIGKILLed one its parent has not reaped yet (a zombie, still in /proc)
    const lookalikes = await startAgentLookalikes();
    try {
      const live = `.routes.yml.courier-${lookalikes.live}-1`;
      const zombie = `.routes.yml.courier-${lookalikes.zombie}-1`;
      // a live pid that is not an agent (after a reboot, or a wrap of the pid space): this test's
      const reused = `.routes.yml.courier-${process.pid}-1`;
      const other = '.hosts.courier-1-1';
      for (const name of [dead, live, zombie, reused, other]) await writeFile(path.join(dir, name), 'partial');
      site.registry.services.immich!.port = 2999;
      await site.save();
      expect((await site.courier('push', '--json')).code).toBe(0);
      expect((await readdir(dir)).sort()).toEqual([other, live, 'routes.yml'].sort());
    } finally {
      lookalikes.stop();
    }
  });

  it('a dropped connection (the agent survives to see EOF) leaves the old target and no temp file', async () => {
    const { site, old } = await siteWithRoutes();
    const dir = path.dirname(site.file('edge-a', TRAEFIK_PATH));
    site.registry.services = manyServices(SERVICES, 9000);
    await site.save();

    const temp = watchForTemp(dir, path.basename(TRAEFIK_PATH));
    const pushing = site.courier('push', '--json');
    try {
      await Promise.race([temp.created, pushing.then((r) => Promise.reject(new Error(`push ended before the put started: ${r.stdout} ${r.stderr}`)))]);
    } finally {
      temp.close();
    }
    const agents = agentProcesses(fleet.nodes[0]!.pid);
    const frozen = agents.map((p) => p.pid);
    signalAll(frozen, 'SIGSTOP');
    try {
      expect(await site.tempFiles('edge-a', TRAEFIK_PATH)).toHaveLength(1);
      // only the connection's sshd processes die, as when the network drops; the agent then reads EOF
      signalAll(
        connectionProcesses(fleet.nodes[0]!.pid).map((p) => p.pid),
        'SIGKILL',
      );
    } finally {
      signalAll(frozen, 'SIGCONT');
    }
    const push = await pushing;
    expect(push.code).toBe(1);
    expect(site.reports(push)['edge-a']!.error!.code).toBe('CONNECTION_LOST');
    // the agent's EXIT trap removes its staging file; it may still be running when the push returns.
    // (Not "no process under sshd": with its sshd gone the agent is init's child, still running.)
    await waitFor('the agent to exit', () => agents.every((p) => !isRunning(p.pid, p.start)), { timeout: 20_000 });
    expect(await site.tempFiles('edge-a', TRAEFIK_PATH)).toEqual([]);
    expect(await site.read('edge-a', TRAEFIK_PATH)).toEqual(old);

    const again = await site.courier('push', '--json');
    expect(again.code, again.stdout).toBe(0);
    expect(site.reports(again)['edge-a']).toMatchObject({ status: 'converged', changed: ['traefik.yml'] });
  });
});

describe('truncated or garbled frames over a real SSH exec', { timeout: CLI_TEST_TIMEOUT }, () => {
  const TARGET = '/srv/frames/routes.yml';
  const BODY = 'http: {}\n';
  const OID = blobOid(BODY);

  async function transport(): Promise<TransportOptions> {
    const file = path.join(await mkdtemp(path.join(os.tmpdir(), 'courier-it-frames-')), 'known_hosts');
    await fleet.writeKnownHosts(file);
    return { identity: fleet.clientKeyPath, knownHostsFile: file, knownHosts: await readKnownHosts(file), connectTimeout: 10_000, sessionTimeout: 30_000 };
  }

  const head = `courier 1\nwant ${TARGET} file ${OID}\n?\n`;
  const cases: [string, string][] = [
    ['a put cut off inside its content', `${head}put ${TARGET} file ${OID} ${BODY.length}\n${BODY.slice(0, 4)}`],
    ['a complete put with no end', `${head}put ${TARGET} file ${OID} ${BODY.length}\n${BODY}`],
    ['an unknown frame after a complete put', `${head}put ${TARGET} file ${OID} ${BODY.length}\n${BODY}frobnicate ${TARGET}\nend\n`],
    ['a put whose size is not a number', `${head}put ${TARGET} file ${OID} 9x\n${BODY}end\n`],
    ['a put with a bad oid', `${head}put ${TARGET} file ${'Z'.repeat(40)} ${BODY.length}\n${BODY}end\n`],
    ['a want with a relative path', `courier 1\nwant srv/frames/routes.yml file ${OID}\n?\nend\n`],
    ['another protocol version', `courier 2\nwant ${TARGET} file ${OID}\n?\nend\n`],
  ];

  it.each(cases)('%s: the agent exits 2 and writes nothing', async (_name, input) => {
    const root = fleet.nodes[1]!.root;
    const options = await transport();
    const channel = await openAgentChannel(fleet.registryNode(1), AGENT_SCRIPT, ['sync', '--root', root], options);
    const result = await runChannel(channel, input);
    expect(result.exit.code).toBe(2);
    expect(result.stdout.toString('utf8')).toMatch(/^(courier 1 \S+ .*\n)?(have .*\n\?\n)?error AGENT_PROTOCOL /);
    // nothing written: no target, no temp file, and the directory the put created is gone again
    const entries = await readdir(path.join(root, 'srv')).catch(() => [] as string[]);
    expect(entries).toEqual([]);
  });

  it('an interrupted put leaves an existing target byte for byte', async () => {
    const root = fleet.nodes[1]!.root;
    const old = 'http:\n  routers: {}\n';
    await mkdir(path.join(root, 'srv/frames'), { recursive: true });
    await writeFile(path.join(root, TARGET), old);
    const channel = await openAgentChannel(fleet.registryNode(1), AGENT_SCRIPT, ['sync', '--root', root], await transport());
    const result = await runChannel(channel, `${head}put ${TARGET} file ${OID} ${BODY.length}\n${BODY.slice(0, 3)}`);
    expect(result.exit.code).toBe(2);
    expect(result.stdout.toString('utf8')).toContain(`have ${TARGET} file ${blobOid(old)}\n`);
    expect(await readdir(path.join(root, 'srv/frames'))).toEqual(['routes.yml']);
    expect(await readFile(path.join(root, TARGET), 'utf8')).toBe(old);
  });
});

describe('a full file system', { timeout: CLI_TEST_TIMEOUT }, () => {
  it('fails the put with WRITE_FAILED (AGENT_FAILED for the node) and keeps the old file (tmpfs of 64 KiB)', async () => {
    const { site, old } = await siteWithRoutes();
    const dir = path.dirname(site.file('edge-a', TRAEFIK_PATH));
    // a 64 KiB tmpfs over the Traefik directory holding only the old file (tests run as root)
    await run('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', dir]);
    mounted = dir;
    try {
      await writeFile(site.file('edge-a', TRAEFIK_PATH), old);
      expect((await site.courier('verify', '--json')).code).toBe(0);

      // ~300 more public services: a Traefik file of well over 64 KiB
      site.registry.services = manyServices(300);
      await site.save();
      const push = await site.courier('push', '--json');
      expect(push.code).toBe(1);
      const report = site.reports(push)['edge-a']!;
      expect(report).toMatchObject({ status: 'failed', changed: ['traefik.yml'], error: { code: 'AGENT_FAILED', retryable: false } });
      expect(report.bytesSent).toBeGreaterThan(64 * 1024);
      expect(report.error!.message).toContain(`${TRAEFIK_PATH}: WRITE_FAILED`);
      expect(report.error!.message).toMatch(/No space left on device/i);
      // the node still holds the old file, reported as such, and no temp file fills the disk
      expect(report.oids[`file ${TRAEFIK_PATH}`]).toBe(blobOid(old));
      expect(await site.read('edge-a', TRAEFIK_PATH)).toEqual(old);
      expect(await site.tempFiles('edge-a', TRAEFIK_PATH)).toEqual([]);
      const status = await site.status();
      expect(status['edge-a']).toMatchObject({ status: 'pending_sync', last_error: { code: 'AGENT_FAILED' } });
    } finally {
      await run('umount', [dir]);
      mounted = undefined;
    }
    // with room again, the next push converges
    const again = await site.courier('push', '--json');
    expect(again.code, again.stdout).toBe(0);
  });
});
