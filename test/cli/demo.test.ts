/**
 * `courier demo` (what `npm start` runs) through the built binary: creates the demo site, pushes to
 * its local nodes, prints status and log, runs the daemon with the dashboard, and converges the
 * nodes after an edit of demo/registry/services.json.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { packagePath } from '../../controller/package-root.js';

const POLL = { timeout: 30_000, interval: 50 };

describe('courier demo', () => {
  const cwd = mkdtempSync(path.join(os.tmpdir(), 'courier-demo-'));
  const child = spawn(process.execPath, [packagePath('dist', 'courier', 'main.js'), 'demo', '--listen', '127.0.0.1:0'], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.resume();
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));

  afterAll(async () => {
    child.kill('SIGTERM');
    await exited;
  });

  it('creates the site, pushes, shows status and log, and serves the dashboard', async () => {
    await expect.poll(() => /dashboard: (http:\/\/\S+)/.exec(out)?.[1], POLL).toBeDefined();
    expect(out).toContain('created the demo site');
    expect(out).toMatch(/laptop-1\s+laptop\s+converged/);
    expect(out).toContain('Management Laptops:');
    expect(out).toContain('revisions (courier log):');
    const url = /dashboard: (http:\/\/\S+?)\/?\s/.exec(out)![1]!;
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    expect(await (await fetch(`${url}/`)).text()).toContain('courier');
    expect(readFileSync(path.join(cwd, 'demo/nodes/laptop-1/etc/hosts'), 'utf8')).toContain('100.64.0.11\tphotos.mycloud.local');
  });

  it('an edit of demo/registry/services.json converges the demo nodes', async () => {
    const file = path.join(cwd, 'demo/registry/services.json');
    const services = JSON.parse(readFileSync(file, 'utf8')) as Record<string, Record<string, unknown>>;
    services.immich!.ip = '100.64.0.111';
    writeFileSync(`${file}.tmp`, JSON.stringify(services, null, 2));
    renameSync(`${file}.tmp`, file);
    const hosts = path.join(cwd, 'demo/nodes/worker-1/etc/hosts');
    await expect.poll(() => readFileSync(hosts, 'utf8').includes('100.64.0.111\tphotos.mycloud.local'), POLL).toBe(true);
    const routes = path.join(cwd, 'demo/nodes/edge-eu/root/traefik/config/mynodeone-routes.yml');
    await expect.poll(() => readFileSync(routes, 'utf8').includes('http://100.64.0.111:2283'), POLL).toBe(true);
  });

  it('stops with SIGTERM and exits 0', async () => {
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });
});
