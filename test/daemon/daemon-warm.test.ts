/**
 * The daemon's warm sessions on a real sshd fleet: one `courier-agent serve` per node, reused by
 * every edit; a stopped node goes pending_sync at once and is caught up when it returns without a
 * reconcile; killed or hung sessions are dialed again; a rotated host key refuses the re-dial;
 * push / verify / plan --live are delegated to the running daemon; SIGTERM closes every session.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packagePath } from '../../controller/package-root.js';
import { startSshdFleet, type SshdFleet } from '../support/sshd-fleet.js';
import { agentProcesses, connectionProcesses, signalAll } from '../integration/node-processes.js';
import { createDaemonSite, FIVE_ROLES, startDaemonProcess, type DaemonProcess, type DaemonSite } from './daemon-site.js';

const POLL = { timeout: 30_000, interval: 100 };
const CLI = packagePath('dist', 'courier', 'main.js');

/** The pids of node i's serve agents (the shell running `courier-agent serve`, not its subshells). */
function serveAgents(fleet: SshdFleet, i: number): number[] {
  const pid = fleet.nodes[i]!.pid;
  if (!pid) return [];
  const sshd = new Set(connectionProcesses(pid).map((p) => p.pid));
  return agentProcesses(pid)
    .filter((p) => sshd.has(p.ppid))
    .filter((p) => {
      try {
        return readFileSync(`/proc/${p.pid}/cmdline`, 'utf8').split('\0').includes('serve');
      } catch {
        return false;
      }
    })
    .map((p) => p.pid);
}

/** Files under a node root that are not managed targets (temp files, staging leftovers). */
function strayFiles(root: string): string[] {
  return (readdirSync(root, { recursive: true, encoding: 'utf8' }) as string[]).filter((f) => path.basename(f).includes('.courier-'));
}

describe('courier daemon with warm sessions', () => {
  let fleet: SshdFleet;
  let site: DaemonSite;
  let daemon: DaemonProcess;
  let ip = 20;

  /** Edit grafana's ip (hosts blocks) and app's port (Traefik), and wait until the nodes are active at the new revision. */
  async function editAndConverge(nodes = [0, 1, 2, 3, 4]): Promise<string> {
    const next = `100.64.1.${ip++}`;
    const before = (await daemon.status()).revision;
    site.writeServices({ ...site.services, grafana: { ...site.services.grafana, ip: next }, app: { ...site.services.app, port: 8000 + ip } });
    const converged = async () => {
      const s = await daemon.status();
      return s.revision !== before && nodes.every((i) => s.nodes.find((n) => n.node === `node-${i}`)?.status === 'active' && s.nodes.find((n) => n.node === `node-${i}`)?.current);
    };
    try {
      await expect.poll(converged, POLL).toBe(true);
    } catch (err) {
      const s = await daemon.status();
      throw new Error(`not converged on ${next}: ${JSON.stringify(s.nodes.map((n) => [n.node, n.status, n.current, n.last_error]))}\n${daemon.stdout().slice(-3000)}`, { cause: err });
    }
    return next;
  }

  beforeAll(async () => {
    fleet = await startSshdFleet(5);
    site = createDaemonSite(fleet, FIVE_ROLES);
    // short bounds so the faults below resolve in seconds
    writeFileSync(site.config, readFileSync(site.config, 'utf8').replace('  connectTimeout: 5s\n', '  connectTimeout: 5s\n  sessionTimeout: 3s\n  redialMax: 1s\n  keepAlive: 1s\n'));
    daemon = await startDaemonProcess(site.config);
  });

  afterAll(async () => {
    await daemon?.stop('SIGKILL');
    await fleet?.stopAll();
  });

  it('holds one serve session per node and reuses it for every edit, leaving nothing behind', async () => {
    await expect.poll(async () => (await fetch(`${daemon.url}/readyz`)).status, POLL).toBe(200);
    const before = [0, 1, 2, 3, 4].map((i) => serveAgents(fleet, i));
    expect(before.map((p) => p.length)).toEqual([1, 1, 1, 1, 1]);
    for (let k = 0; k < 5; k++) {
      const next = await editAndConverge();
      expect(readFileSync(site.nodeFile(2, 'hosts'), 'utf8')).toContain(`${next}\tgrafana.mycloud.local`);
    }
    // the same agent processes served all five edits: no new connection, no new agent
    expect([0, 1, 2, 3, 4].map((i) => serveAgents(fleet, i))).toEqual(before);
    for (const node of fleet.nodes) expect(strayFiles(node.root)).toEqual([]);
    expect(await daemon.metrics()).toMatch(/^courier_agent_sessions_open 5$/m);
  });

  it('delegates push, verify and plan --live to the running daemon, same output and exit codes', async () => {
    const agents = serveAgents(fleet, 0);
    const push = spawnSync(process.execPath, [CLI, 'push', '--json', '--config', site.config], { encoding: 'utf8', timeout: 60_000 });
    expect(push.status, push.stderr).toBe(0);
    const reports = JSON.parse(push.stdout) as { node: string; status: string }[];
    expect(reports.map((r) => [r.node, r.status]).sort()).toEqual([0, 1, 2, 3, 4].map((i) => [`node-${i}`, 'converged']));
    const verify = spawnSync(process.execPath, [CLI, 'verify', '--config', site.config, '--node', 'node-4'], { encoding: 'utf8', timeout: 60_000 });
    expect(verify.status, verify.stderr).toBe(0);
    expect(verify.stdout).toMatch(/node-4\s+worker\s+converged/);
    const plan = spawnSync(process.execPath, [CLI, 'plan', '--live', '--config', site.config], { encoding: 'utf8', timeout: 60_000 });
    expect(plan.status, plan.stderr).toBe(0);
    expect(plan.stdout).toContain('node-0 (vps): no changes');
    const unknown = spawnSync(process.execPath, [CLI, 'verify', '--config', site.config, '--node', 'nope'], { encoding: 'utf8', timeout: 60_000 });
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toContain('NODE_NOT_FOUND');
    // done over the open session, not a new one
    expect(serveAgents(fleet, 0)).toEqual(agents);
    await expect.poll(() => daemon.stdout() + daemon.stderr(), POLL).toContain('push (via the daemon)');
  });

  it('a stopped node goes pending_sync within seconds and is caught up on its return without a reconcile', async () => {
    await fleet.stop(4);
    await expect.poll(async () => (await daemon.status()).nodes.find((n) => n.node === 'node-4')?.status, POLL).toBe('pending_sync');
    const next = await editAndConverge([0, 1, 2, 3]);
    expect(readFileSync(site.nodeFile(4, 'hosts'), 'utf8')).not.toContain(next);
    await fleet.start(4);
    // reconcile.interval is 1h: only the re-dial can catch the node up
    await expect.poll(() => readFileSync(site.nodeFile(4, 'hosts'), 'utf8').includes(`${next}\tgrafana`), POLL).toBe(true);
    await expect.poll(async () => (await daemon.status()).nodes.find((n) => n.node === 'node-4')?.status, POLL).toBe('active');
    expect(await daemon.metrics()).toMatch(/^courier_reconciles_total\{trigger="startup"\} 1$/m);
  });

  it('session processes SIGKILLed on the node: the daemon dials again and converges the next edit', async () => {
    const old = serveAgents(fleet, 1);
    await fleet.killSessions(1);
    await expect.poll(() => serveAgents(fleet, 1).length === 1 && serveAgents(fleet, 1)[0] !== old[0], POLL).toBe(true);
    const next = await editAndConverge();
    expect(readFileSync(site.nodeFile(1, 'traefik'), 'utf8')).toContain('app.example.com');
    expect(readFileSync(site.nodeFile(3, 'hosts'), 'utf8')).toContain(next);
  });

  it('a session that hangs mid-round is cut after ssh.sessionTimeout and dialed again', async () => {
    const frozen = serveAgents(fleet, 2);
    signalAll(frozen, 'SIGSTOP');
    try {
      const next = `100.64.1.${ip++}`;
      site.writeServices({ ...site.services, grafana: { ...site.services.grafana, ip: next } });
      // the round on the frozen agent times out (3 s), the session is re-dialed and the node converges
      await expect.poll(() => readFileSync(site.nodeFile(2, 'hosts'), 'utf8').includes(`${next}\tgrafana`), POLL).toBe(true);
      await expect.poll(() => daemon.stdout() + daemon.stderr(), POLL).toContain('SSH_TIMEOUT');
      expect(serveAgents(fleet, 2).filter((p) => !frozen.includes(p))).toHaveLength(1);
    } finally {
      signalAll(frozen, 'SIGCONT');
    }
    for (const node of fleet.nodes) expect(strayFiles(node.root)).toEqual([]);
  });

  it('a host key rotated while connected: the re-dial is refused with HOST_KEY_MISMATCH and nothing is sent', async () => {
    const before = readFileSync(site.nodeFile(3, 'hosts'), 'utf8');
    await fleet.rotateHostKey(3);
    await expect.poll(async () => (await daemon.status()).nodes.find((n) => n.node === 'node-3')?.last_error?.code, POLL).toBe('HOST_KEY_MISMATCH');
    const next = await editAndConverge([0, 1, 2, 4]);
    expect(readFileSync(site.nodeFile(3, 'hosts'), 'utf8')).toBe(before);
    expect(readFileSync(site.nodeFile(3, 'hosts'), 'utf8')).not.toContain(next);
    expect(serveAgents(fleet, 3)).toEqual([]);
  });

  it('SIGTERM closes every session and exits 0', async () => {
    expect(serveAgents(fleet, 0)).toHaveLength(1);
    const e = await daemon.stop('SIGTERM');
    expect(e.code).toBe(0);
    await expect.poll(() => [0, 1, 2, 4].flatMap((i) => serveAgents(fleet, i)), POLL).toEqual([]);
  });
});
