/**
 * `courier check` through the built binary against a real sshd fleet: every check passes on a
 * healthy site with its daemon running (exit 0), each kind of problem is a ✗ with its fix (exit
 * 1), `--json` carries the same report, and nothing is written on the nodes or taken from the
 * daemon (no lock).
 */
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSshdFleet, type SshdFleet } from '../support/sshd-fleet.js';
import { createSite, HOSTS_PATH, type TestSite } from '../integration/create-site.js';
import { CLI_TEST_TIMEOUT } from '../integration/run-courier.js';
import { startDaemonProcess, type DaemonProcess } from '../daemon/daemon-site.js';
import type { CheckReport, CheckResult } from '../../controller/check/run-site-checks.js';

let fleet: SshdFleet;

beforeAll(async () => {
  fleet = await startSshdFleet(3);
});

afterAll(async () => {
  await fleet?.stopAll();
});

/** A free loopback TCP port. */
async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** A three-node site (vps, laptop, worker) whose daemon would listen on a free port with a token. */
async function checkSite(options: { trusted?: number[] } = {}): Promise<TestSite> {
  const site = await createSite(
    fleet,
    [
      { name: 'edge-a', role: 'vps', fleet: 0 },
      { name: 'laptop-a', role: 'laptop', fleet: 1 },
      { name: 'worker-a', role: 'worker', fleet: 2 },
    ],
    options,
  );
  await writeFile(path.join(site.dir, 'token'), 'check-test-token-0123456789abcdef\n', { mode: 0o600 });
  await writeFile(site.configFile, (await readFile(site.configFile, 'utf8')) + `http:\n  listen: 127.0.0.1:${await freePort()}\n  tokenFile: token\n`);
  return site;
}

async function check(site: TestSite): Promise<{ code: number | null; report: CheckReport; find: (check: string, node?: string) => CheckResult }> {
  const run = await site.courier('check', '--json');
  const report = run.json as CheckReport;
  if (!report?.checks) throw new Error(`courier check --json printed no report (exit ${run.code}): ${run.stdout} ${run.stderr}`);
  const find = (name: string, node?: string) => {
    const found = report.checks.find((c) => c.check === name && c.node === node);
    if (!found) throw new Error(`no check ${name} ${node ?? ''} in ${JSON.stringify(report.checks.map((c) => [c.check, c.node]))}`);
    return found;
  };
  return { code: run.code, report, find };
}

/** Every file under `dir` (relative paths). */
async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries.filter((e) => e.isFile()).map((e) => path.relative(dir, path.join(e.parentPath, e.name)));
}

describe('courier check', { timeout: CLI_TEST_TIMEOUT }, () => {
  it('on a fresh site: config, registry, key, host keys, agents and state pass; never verified and no daemon fail; nothing is written on the nodes', async () => {
    const site = await checkSite();
    const { code, report, find } = await check(site);
    expect(code).toBe(1);
    expect(report.ok).toBe(false);
    expect(find('config').ok).toBe(true);
    expect(find('registry')).toMatchObject({ ok: true, detail: expect.stringContaining('3 node(s)') });
    expect(find('ssh key')).toMatchObject({ ok: true, detail: expect.stringContaining('private key') });
    for (const node of ['edge-a', 'laptop-a', 'worker-a']) {
      expect(find('known host', node).ok).toBe(true);
      const agent = find('agent', node);
      expect(agent.ok, agent.detail).toBe(true);
      expect(agent.detail).toMatch(/courier-agent \d+\.\d+\.\d+ .*hasher (sha1sum|shasum|openssl)/);
      expect(agent.detail).toContain('writable (absent)');
      expect(find('restricted', node)).toMatchObject({ ok: true, detail: expect.stringContaining('not restricted') });
      expect(find('verified', node)).toMatchObject({ ok: false, detail: 'never verified', fix: expect.stringContaining(`courier push --node ${node}`) });
    }
    expect(find('agent', 'edge-a').detail).toContain('/srv/traefik/routes.yml');
    expect(find('agent', 'laptop-a').detail).toContain(HOSTS_PATH);
    expect(find('daemon')).toMatchObject({ ok: false, detail: expect.stringContaining('no daemon answers'), fix: expect.stringContaining('courier daemon') });
    expect(find('state dir')).toMatchObject({ ok: true, detail: expect.stringMatching(/writable, \d+ MiB free/) });
    // the probe wrote nothing: the node roots are as createSite left them (empty)
    for (const node of ['edge-a', 'laptop-a', 'worker-a']) expect(await filesUnder(site.root(node))).toEqual([]);
  });

  it('passes every check (exit 0) once the nodes are pushed and the daemon runs, and prints ✓ lines', async () => {
    const site = await checkSite();
    const push = await site.courier('push', '--json');
    expect(push.code, push.stderr).toBe(0);
    let daemon: DaemonProcess | undefined;
    try {
      daemon = await startDaemonProcess(site.configFile);
      await expect.poll(async () => (await fetch(`${daemon!.url}/readyz`)).status, { timeout: 60_000, interval: 200 }).toBe(200);
      const { code, report, find } = await check(site);
      expect(report.checks.filter((c) => !c.ok)).toEqual([]);
      expect(code).toBe(0);
      expect(find('daemon').detail).toContain('healthy and ready');
      expect(find('verified', 'worker-a').detail).toMatch(/^last verified \d+s ago at revision [0-9a-f]{12}$/);
      const human = await site.courier('check');
      expect(human.code).toBe(0);
      expect(human.stdout).toMatch(/^✓ agent edge-a: courier-agent/m);
      expect(human.stdout).toMatch(/^all \d+ checks passed$/m);
      expect(human.stdout).not.toContain('✗');
    } finally {
      await daemon?.stop();
    }
  });

  it('reports each problem with ✗ and its fix: an untrusted host key, an unreachable node, an unwritable target, a wrong daemon token', async () => {
    const site = await checkSite({ trusted: [0, 1] });
    // laptop-a: its hosts file's directory is a file, so no sync could write /etc/hosts
    await mkdir(site.root('laptop-a'), { recursive: true });
    await writeFile(path.join(site.root('laptop-a'), 'etc'), 'not a directory\n');
    await fleet.stop(0);
    let daemon: DaemonProcess | undefined;
    try {
      const { code, find } = await check(site);
      expect(code).toBe(1);
      expect(find('known host', 'worker-a')).toMatchObject({ ok: false, fix: expect.stringContaining('courier nodes trust worker-a') });
      expect(find('agent', 'worker-a')).toMatchObject({ ok: false, detail: expect.stringContaining('not tried') });
      expect(find('agent', 'edge-a')).toMatchObject({ ok: false, detail: expect.stringMatching(/^NODE_UNREACHABLE: /), fix: expect.stringContaining('ssh_port') });
      const laptop = find('agent', 'laptop-a');
      expect(laptop.ok).toBe(false);
      expect(laptop.detail).toContain('/etc/hosts not writable');
      expect(laptop.detail).toContain('is not a directory');
      expect(laptop.fix).toContain('"sudo": true');

      // a daemon with another token: check says the token is refused
      await fleet.start(0);
      daemon = await startDaemonProcess(site.configFile);
      await writeFile(path.join(site.dir, 'token'), 'some-other-token-000000000000000\n');
      expect((await check(site)).find('daemon')).toMatchObject({ ok: false, detail: expect.stringContaining('refuses this config') });
    } finally {
      await daemon?.stop();
      await fleet.start(0).catch(() => undefined);
    }
  });

  it('reports a restricted node, an invalid registry and an invalid config', async () => {
    const site = await checkSite();
    const file = path.join(site.dir, 'registry', 'registry.json');
    const doc = JSON.parse(await readFile(file, 'utf8')) as { worker_nodes: Record<string, unknown>[] };
    doc.worker_nodes[0]!.restricted = true;
    await writeFile(file, JSON.stringify(doc));
    expect((await check(site)).find('restricted', 'worker-a').detail).toMatch(/^restricted: /);

    site.registry.services.immich!.port = 70000;
    await site.save();
    const bad = await check(site);
    expect(bad.code).toBe(1);
    expect(bad.find('registry')).toMatchObject({ ok: false, detail: expect.stringContaining('$.immich.port'), fix: expect.stringContaining('JSON path') });

    await writeFile(site.configFile, (await readFile(site.configFile, 'utf8')) + 'sssh: {}\n');
    const broken = await check(site);
    expect(broken.code).toBe(1);
    expect(broken.report.checks).toHaveLength(1);
    expect(broken.find('config')).toMatchObject({ ok: false, detail: expect.stringContaining('sssh: unknown key') });
  });
});
