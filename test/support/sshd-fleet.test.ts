import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fleetAddress, startSshdFleet, type SshdFleet } from './sshd-fleet.js';

const run = promisify(execFile);

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  // An exited process nobody reaped yet is not running.
  return !/\) Z /.test(readStat(pid));
}

function readStat(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return ') Z ';
  }
}

/** `ssh ... user@address true` with strict host key checking against `knownHosts`; resolves with the exit status. */
async function openSsh(fleet: SshdFleet, i: number, knownHosts: string): Promise<number> {
  return sshRun(fleet, i, knownHosts, 'true').then(
    () => 0,
    (err: { code: number }) => err.code,
  );
}

/** Run `command` on node i with the stock ssh client; resolves with its stdout. */
async function sshRun(fleet: SshdFleet, i: number, knownHosts: string, command: string): Promise<string> {
  const node = fleet.nodes[i]!;
  const args = ['-F', '/dev/null', '-o', `UserKnownHostsFile=${knownHosts}`, '-o', 'GlobalKnownHostsFile=/dev/null', '-o', 'StrictHostKeyChecking=yes', '-o', 'BatchMode=yes'];
  args.push('-o', 'IdentitiesOnly=yes', '-i', fleet.clientKeyPath, '-p', String(node.port), `${fleet.user}@${node.address}`, command);
  return (await run('ssh', args)).stdout;
}

let fleet: SshdFleet;
let tmp: string;

beforeAll(async () => {
  fleet = await startSshdFleet(2);
  tmp = await mkdtemp(path.join(os.tmpdir(), 'courier-fleet-test-'));
});

afterAll(async () => {
  await fleet?.stopAll();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

describe('startSshdFleet', () => {
  it('starts one sshd per node on 127.0.0.(i+2) with its own port, host key and root dir', () => {
    expect(fleet.nodes.map((n) => n.address)).toEqual(['127.0.0.2', '127.0.0.3']);
    expect(fleet.nodes.map((n) => n.name)).toEqual(['node-0', 'node-1']);
    expect(new Set(fleet.nodes.map((n) => n.hostKeyPub)).size).toBe(2);
    for (const node of fleet.nodes) {
      expect(node.port).toBeGreaterThan(0);
      expect(alive(node.pid)).toBe(true);
      expect(existsSync(node.root)).toBe(true);
    }
    expect(fleet.registryNode(1)).toMatchObject({ name: 'node-1', ip: '127.0.0.3', sshPort: fleet.nodes[1]!.port, sshUser: os.userInfo().username, transport: 'ssh', sudo: false });
  });

  it('writes known_hosts lines that stock OpenSSH accepts with strict checking and the fleet client key', async () => {
    const file = path.join(tmp, 'known_hosts');
    await fleet.writeKnownHosts(file);
    expect((await readFile(file, 'utf8')).split('\n')[1]).toBe(fleet.knownHostsLine(1));
    expect(await openSsh(fleet, 0, file)).toBe(0);
    expect(await openSsh(fleet, 1, file)).toBe(0);
    // And refuses a node whose key it does not know.
    expect(await openSsh(fleet, 0, path.join(tmp, 'empty_known_hosts'))).not.toBe(0);
  });

  it('restarts a stopped node on the same port with the same host key', async () => {
    const { port, hostKeyPub, pid } = fleet.nodes[1]!;
    await fleet.stop(1);
    expect(alive(pid)).toBe(false);
    expect(fleet.nodes[1]!.pid).toBe(0);
    const refused = await new Promise<boolean>((resolve) => {
      const socket = net.connect({ host: '127.0.0.3', port });
      socket.once('connect', () => {
        socket.destroy();
        resolve(false);
      });
      socket.once('error', () => resolve(true));
    });
    expect(refused).toBe(true);
    await fleet.start(1);
    expect(fleet.nodes[1]).toMatchObject({ port, hostKeyPub });
    expect(alive(fleet.nodes[1]!.pid)).toBe(true);
    const file = path.join(tmp, 'known_hosts_restart');
    await fleet.writeKnownHosts(file);
    expect(await openSsh(fleet, 1, file)).toBe(0);
  });

  it('rotates a host key so the old known_hosts line no longer verifies', async () => {
    const old = path.join(tmp, 'known_hosts_old');
    await fleet.writeKnownHosts(old);
    const before = fleet.nodes[0]!.hostKeyPub;
    await fleet.rotateHostKey(0);
    expect(fleet.nodes[0]!.hostKeyPub).not.toBe(before);
    expect(await openSsh(fleet, 0, old)).not.toBe(0);
    const fresh = path.join(tmp, 'known_hosts_new');
    await fleet.writeKnownHosts(fresh);
    expect(await openSsh(fleet, 0, fresh)).toBe(0);
  });

  it('gives every session a clean HOME of its own, not the login user\'s real one', async () => {
    const file = path.join(tmp, 'known_hosts_home');
    await fleet.writeKnownHosts(file);
    const home = (await sshRun(fleet, 0, file, 'printf %s "$HOME"')).trim();
    expect(home).not.toBe(os.homedir());
    expect(home.startsWith(os.tmpdir())).toBe(true);
    expect(existsSync(home)).toBe(true);
  });

  it('serves up to 16 nodes from one sshd, each on its own address with its own root', async () => {
    const big = await startSshdFleet(18, { perSshd: 16 });
    try {
      expect(big.nodes.map((n) => n.address).slice(14, 18)).toEqual(['127.0.0.16', '127.0.0.17', '127.0.0.18', '127.0.0.19']);
      expect(new Set(big.nodes.slice(0, 16).map((n) => n.pid)).size).toBe(1);
      expect(big.nodes[16]!.pid).not.toBe(big.nodes[0]!.pid);
      expect(new Set(big.nodes.map((n) => n.root)).size).toBe(18);
      const file = path.join(tmp, 'known_hosts_big');
      await big.writeKnownHosts(file);
      expect(await openSsh(big, 15, file)).toBe(0);
      expect(await openSsh(big, 17, file)).toBe(0);
    } finally {
      await big.stopAll();
    }
  });

  it('numbers addresses past 127.0.0.254 without .0 or .255 octets', () => {
    expect([0, 252, 253, 254, 506, 507].map(fleetAddress)).toEqual(['127.0.0.2', '127.0.0.254', '127.0.1.1', '127.0.1.2', '127.0.1.254', '127.0.2.1']);
  });

  it('uses the given addresses and leaves nothing running after stopAll', async () => {
    const other = await startSshdFleet(1, { addresses: ['127.0.0.77'] });
    const node = other.nodes[0]!;
    expect(node.address).toBe('127.0.0.77');
    const pid = node.pid;
    const dir = node.dir;
    expect(alive(pid)).toBe(true);
    await other.stopAll();
    expect(alive(pid)).toBe(false);
    expect(existsSync(dir)).toBe(false);
  });
});
