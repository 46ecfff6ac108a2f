/**
 * The daemon as Prometheus sees it: a real daemon (built binary) on a real sshd fleet with a bearer
 * token guarding its API and metrics; `promtool check metrics` on its /metrics; `courier reconcile`
 * taking the token from the config; and Debian's Prometheus (stopped by PID) scraping it with the
 * token, loading the shipped alerting rules, and answering courier_node_status for every node.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSshdFleet, type SshdFleet } from '../support/sshd-fleet.js';
import { packagePath } from '../../controller/package-root.js';
import { createDaemonSite, startDaemonProcess, type DaemonProcess, type DaemonSite } from './daemon-site.js';

const ROLES = ['vps', 'laptop', 'worker'] as const;
const TOKEN = 'prometheus-scrape-token-7c1f0e9d2b';
const POLL = { timeout: 60_000, interval: 250 };

/** A free loopback TCP port (bound, then released). */
async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** GET with an optional bearer token. */
async function get(url: string, token?: string): Promise<Response> {
  return fetch(url, { headers: token ? { authorization: `Bearer ${token}` } : {}, signal: AbortSignal.timeout(10_000) });
}

describe('courier daemon and a real Prometheus', () => {
  let fleet: SshdFleet;
  let site: DaemonSite;
  let daemon: DaemonProcess;
  let tokenFile: string;
  let prometheus: ChildProcess | undefined;

  beforeAll(async () => {
    fleet = await startSshdFleet(ROLES.length);
    site = createDaemonSite(fleet, ROLES);
    tokenFile = path.join(site.dir, 'http-token');
    writeFileSync(tokenFile, `${TOKEN}\n`, { mode: 0o600 });
    const config = readFileSync(site.config, 'utf8').replace('http:\n  listen: 127.0.0.1:0\n', 'http:\n  listen: 127.0.0.1:0\n  tokenFile: http-token\n  protectMetrics: true\n');
    writeFileSync(site.config, config);
    daemon = await startDaemonProcess(site.config);
    // ready: the first reconcile finished (a probe, open without the token)
    const deadline = Date.now() + POLL.timeout;
    while ((await get(`${daemon.url}/readyz`)).status !== 200) {
      if (Date.now() > deadline) throw new Error(`daemon not ready:\n${daemon.stderr().slice(-3000)}`);
      await new Promise((r) => setTimeout(r, POLL.interval));
    }
  });

  afterAll(async () => {
    if (prometheus?.pid && prometheus.exitCode === null) {
      const exited = new Promise((resolve) => prometheus!.once('exit', resolve));
      prometheus.kill('SIGTERM');
      const killer = setTimeout(() => prometheus?.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(killer);
    }
    await daemon?.stop('SIGKILL');
    await fleet?.stopAll();
  });

  it('guards the API and the metrics with the token; the probes stay open', async () => {
    expect((await get(`${daemon.url}/api/status`)).status).toBe(401);
    expect((await get(`${daemon.url}/metrics`)).status).toBe(401);
    expect((await get(`${daemon.url}/metrics`, 'wrong-token-0123456789')).status).toBe(401);
    expect((await get(`${daemon.url}/healthz`)).status).toBe(200);
    const status = (await (await get(`${daemon.url}/api/status`, TOKEN)).json()) as { nodes: { node: string; status: string }[] };
    expect(status.nodes.map((n) => n.status)).toEqual(['active', 'active', 'active']);
    expect(daemon.stderr()).not.toContain(TOKEN);
  });

  it('its /metrics passes promtool check metrics', async () => {
    const text = await (await get(`${daemon.url}/metrics`, TOKEN)).text();
    expect(text).toContain('courier_node_status{');
    const r = spawnSync('/usr/bin/promtool', ['check', 'metrics'], { input: text, encoding: 'utf8', timeout: 60_000 });
    expect(`${r.stdout}${r.stderr}`).toBe('');
    expect(r.status).toBe(0);
  });

  it('courier reconcile reads the token from the config', () => {
    const bin = packagePath('dist', 'courier', 'main.js');
    const r = spawnSync(process.execPath, [bin, 'reconcile', '--config', site.config, '--url', daemon.url], { encoding: 'utf8', timeout: 60_000 });
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain('reconcile started');
    expect(r.status).toBe(0);
  });

  it('a real Prometheus scrapes it with the bearer token and returns courier_node_status for every node', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'courier-prometheus-'));
    const port = await freePort();
    const target = new URL(daemon.url).host;
    writeFileSync(
      path.join(dir, 'prometheus.yml'),
      [
        'global:',
        '  scrape_interval: 1s',
        '  evaluation_interval: 1s',
        'rule_files:',
        `  - ${packagePath('manifests', 'prometheus', 'courier-rules.yaml')}`,
        'scrape_configs:',
        '  - job_name: courier',
        '    authorization:',
        '      type: Bearer',
        `      credentials_file: ${tokenFile}`,
        '    static_configs:',
        `      - targets: ['${target}']`,
        '',
      ].join('\n'),
    );
    let log = '';
    prometheus = spawn('/usr/bin/prometheus', [`--config.file=${path.join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${path.join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    prometheus.stdout!.on('data', (d: Buffer) => (log += d.toString()));
    prometheus.stderr!.on('data', (d: Buffer) => (log += d.toString()));
    const api = `http://127.0.0.1:${port}`;
    const query = async (q: string) => {
      const res = await fetch(`${api}/api/v1/query?query=${encodeURIComponent(q)}`, { signal: AbortSignal.timeout(10_000) }).catch(() => undefined);
      if (!res?.ok) return [];
      return ((await res.json()) as { data: { result: { metric: Record<string, string>; value: [number, string] }[] } }).data.result;
    };

    try {
      await expect.poll(async () => (await query('up{job="courier"}'))[0]?.value[1], POLL).toBe('1');
    } catch (err) {
      throw new Error(`Prometheus never scraped the daemon: ${String(err)}\n${log.slice(-3000)}`, { cause: err });
    }
    await expect.poll(async () => (await query('courier_node_status{status="active"} == 1')).map((r) => r.metric.node).sort(), POLL).toEqual(['node-0', 'node-1', 'node-2']);
    const series = await query('courier_node_status');
    expect(series).toHaveLength(ROLES.length * 3);
    expect(new Set(series.map((s) => `${s.metric.node}/${s.metric.role}`))).toEqual(new Set(['node-0/vps', 'node-1/laptop', 'node-2/worker']));

    // the shipped rules load and evaluate against the real series without errors
    await expect
      .poll(async () => {
        const res = (await (await fetch(`${api}/api/v1/rules`)).json()) as { data: { groups: { rules: { name: string; health: string; lastEvaluation: string }[] }[] } };
        const loaded = res.data.groups.flatMap((g) => g.rules);
        return loaded.length === 6 && loaded.every((r) => r.health === 'ok');
      }, POLL)
      .toBe(true);
    expect(log).not.toContain(TOKEN);
  });
});
