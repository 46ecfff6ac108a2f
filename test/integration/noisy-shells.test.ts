/**
 * Login shells that print: a node whose `~/.bashrc` writes a banner to stdout, one writing to
 * stderr, one printing a line without a newline. sshd runs every command through the login shell,
 * so the banner lands before the agent's greeting; the greeting's nonce tells them apart. All three
 * converge and verify, cold (`courier push` / `verify`) and warm (the daemon's serve sessions).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packagePath } from '../../controller/package-root.js';
import { startSshdFleet, type SshdFleet } from '../support/sshd-fleet.js';
import { createDaemonSite, startDaemonProcess, type DaemonProcess, type DaemonSite } from '../daemon/daemon-site.js';

const CLI = packagePath('dist', 'courier', 'main.js');
const POLL = { timeout: 30_000, interval: 100 };
const RC_FILES = [
  'echo "Welcome to node-0! Last login: yesterday"\n',
  'echo "pyenv: warning: something on stderr" >&2\n',
  'printf "no newline banner"\n',
];

describe('noisy login shells', () => {
  let fleet: SshdFleet;
  let site: DaemonSite;
  let daemon: DaemonProcess | undefined;

  beforeAll(async () => {
    fleet = await startSshdFleet(3);
    // the fleet's clean HOME per node, now with a chatty rc file (bash reads it for ssh commands)
    fleet.nodes.forEach((node, i) => writeFileSync(path.join(node.dir, 'home', '.bashrc'), RC_FILES[i]!));
    site = createDaemonSite(fleet, ['vps', 'laptop', 'worker']);
  });

  afterAll(async () => {
    await daemon?.stop('SIGKILL');
    await fleet?.stopAll();
  });

  it('the rc files really print in a session on these nodes', () => {
    const node = fleet.nodes[0]!;
    const r = spawnSync('ssh', ['-F', '/dev/null', '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'LogLevel=ERROR', '-i', fleet.clientKeyPath, '-p', String(node.port), `${fleet.user}@${node.address}`, 'true'], { encoding: 'utf8' });
    expect(r.stdout).toContain('Welcome to node-0!');
  });

  it('cold: push and verify converge every node', () => {
    const push = spawnSync(process.execPath, [CLI, 'push', '--json', '--config', site.config], { encoding: 'utf8', timeout: 120_000 });
    expect(push.status, push.stdout + push.stderr).toBe(0);
    expect((JSON.parse(push.stdout) as { status: string }[]).map((r) => r.status)).toEqual(['converged', 'converged', 'converged']);
    const verify = spawnSync(process.execPath, [CLI, 'verify', '--json', '--config', site.config], { encoding: 'utf8', timeout: 120_000 });
    expect(verify.status, verify.stdout + verify.stderr).toBe(0);
    expect(readFileSync(site.nodeFile(1, 'hosts'), 'utf8')).toContain('grafana.mycloud.local');
  });

  it('warm: the daemon opens its sessions through the banners and converges an edit', async () => {
    daemon = await startDaemonProcess(site.config);
    await expect.poll(async () => (await daemon!.status()).nodes.every((n) => n.status === 'active'), POLL).toBe(true);
    site.writeServices({ ...site.services, grafana: { ...site.services.grafana, ip: '100.64.9.9' }, app: { ...site.services.app, port: 9999 } });
    await expect.poll(() => readFileSync(site.nodeFile(2, 'hosts'), 'utf8').includes('100.64.9.9\tgrafana'), POLL).toBe(true);
    await expect.poll(() => readFileSync(site.nodeFile(0, 'traefik'), 'utf8').includes(':9999'), POLL).toBe(true);
    await expect.poll(async () => (await daemon!.status()).nodes.every((n) => n.status === 'active' && n.current), POLL).toBe(true);
    expect(await daemon.metrics()).toMatch(/^courier_agent_sessions_open 3$/m);
    // a verify delegated to the daemon runs over the same (noisy) sessions
    const verify = spawnSync(process.execPath, [CLI, 'verify', '--config', site.config], { encoding: 'utf8', timeout: 120_000 });
    expect(verify.status, verify.stdout + verify.stderr).toBe(0);
  });
});
