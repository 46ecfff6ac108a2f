import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { CourierError } from '../errors.js';
import { startSshdFleet, type SshdFleet } from '../../test/support/sshd-fleet.js';
import { collect, ECHO_AGENT, runChannel, waitForOutput } from '../../test/support/run-channel.js';
import { appendKnownHost, formatKnownHostsLine } from './known-hosts.js';
import { buildAgentCommand } from './open-agent-channel.js';
import { fetchHostKey, openSshChannel, type SshChannelOptions } from './ssh-transport.js';

const run = promisify(execFile);
// Generous: a loaded 2-core CI machine can take seconds for an ed25519 handshake.
const CONNECT_TIMEOUT = 20_000;

let fleet: SshdFleet;
let tmp: string;

beforeAll(async () => {
  fleet = await startSshdFleet(2);
  tmp = await mkdtemp(path.join(os.tmpdir(), 'courier-ssh-transport-'));
});

afterAll(async () => {
  await fleet?.stopAll();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

let fileCount = 0;
/** A fresh known_hosts file with every fleet node's current key. */
async function trustedKnownHosts(): Promise<string> {
  const file = path.join(tmp, `known_hosts_${++fileCount}`);
  await fleet.writeKnownHosts(file);
  return file;
}

function options(knownHostsFile: string, extra: Partial<SshChannelOptions> = {}): SshChannelOptions {
  return { identity: fleet.clientKeyPath, knownHostsFile, connectTimeout: CONNECT_TIMEOUT, ...extra };
}

const echo = (args: string[]) => buildAgentCommand(ECHO_AGENT, args, { sudo: false });

async function sshKeygenFingerprint(pubFile: string): Promise<string> {
  const { stdout } = await run('ssh-keygen', ['-lf', pubFile]);
  return stdout.split(' ')[1]!;
}

/** The CourierError a promise rejects with (fails the test when it resolves). */
async function rejection(promise: Promise<unknown>): Promise<CourierError> {
  const err = await promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(CourierError);
  return err as CourierError;
}

describe('openSshChannel', () => {
  it('carries bytes to the agent and back unchanged and reports its exit status', async () => {
    const channel = await openSshChannel(fleet.registryNode(0), echo(['3', 'sync', '--root', '/tmp/x y']), options(await trustedKnownHosts()));
    const input = Buffer.concat([Buffer.from('courier 1\nwant /etc/hosts block -\n?\n'), randomBytes(300_000)]);
    const { stdout, stderr, exit } = await runChannel(channel, input);
    expect(stdout.equals(input)).toBe(true);
    expect(exit).toEqual({ code: 3 });
    expect(stderr).toBe('argc 4\narg 3\narg sync\narg --root\narg /tmp/x y\n');
    expect(channel.bytesWritten()).toBe(input.length);
    expect(channel.bytesRead()).toBe(input.length);
  });

  it('refuses an unknown host key and names its SHA256 fingerprint and the trust command', async () => {
    const err = await rejection(openSshChannel(fleet.registryNode(0), 'true', options(path.join(tmp, 'no-such-known-hosts'))));
    const fingerprint = await sshKeygenFingerprint(`${fleet.nodes[0]!.hostKeyPath}.pub`);
    expect(err.code).toBe('HOST_KEY_UNKNOWN');
    expect(err.retryable).toBe(false);
    expect(err.data).toMatchObject({ node: 'node-0', host: fleet.nodes[0]!.address, port: fleet.nodes[0]!.port, fingerprint, keyType: 'ssh-ed25519' });
    expect(err.message).toContain(fingerprint);
    expect(err.message).toContain('courier nodes trust node-0');
  });

  it('connects once the fetched host key is appended with formatKnownHostsLine', async () => {
    const node = fleet.registryNode(0);
    const key = await fetchHostKey(node, { connectTimeout: CONNECT_TIMEOUT });
    expect(key.keyType).toBe('ssh-ed25519');
    expect(key.fingerprint).toBe(await sshKeygenFingerprint(`${fleet.nodes[0]!.hostKeyPath}.pub`));
    const file = path.join(tmp, 'trust', 'known_hosts');
    await appendKnownHost(file, formatKnownHostsLine(node.ip, node.sshPort, key.keyBlob));
    const { stdout, exit } = await runChannel(await openSshChannel(node, echo(['0']), options(file)), 'hi\n');
    expect(stdout.toString()).toBe('hi\n');
    expect(exit).toEqual({ code: 0 });
  });

  it('matches hashed known_hosts entries written by ssh-keygen -H', async () => {
    const file = await trustedKnownHosts();
    await run('ssh-keygen', ['-H', '-f', file]);
    const text = await readFile(file, 'utf8');
    expect(text.startsWith('|1|')).toBe(true);
    expect(text).not.toContain(fleet.nodes[1]!.address);
    const { exit } = await runChannel(await openSshChannel(fleet.registryNode(1), echo(['0']), options(file)), '');
    expect(exit).toEqual({ code: 0 });
  });

  it('matches a plain [host]:port entry among other hosts and ports', async () => {
    const node = fleet.nodes[0]!;
    const pub = node.hostKeyPub.trim().split(/\s+/).slice(0, 2).join(' ');
    const other = fleet.nodes[1]!.hostKeyPub.trim().split(/\s+/).slice(0, 2).join(' ');
    const file = path.join(tmp, 'bracketed_known_hosts');
    // The right key under port 22 and under another port must not count; the bracketed one must.
    await writeFile(file, `# fleet\n\n[${node.address}]:${node.port + 1} ${other}\nexample.org,[${node.address}]:${node.port} ${pub}\n`);
    const { exit } = await runChannel(await openSshChannel(fleet.registryNode(0), echo(['0']), options(file)), '');
    expect(exit).toEqual({ code: 0 });
  });

  it('refuses a rotated host key as a mismatch that is not retried', async () => {
    const file = await trustedKnownHosts();
    const before = await sshKeygenFingerprint(`${fleet.nodes[1]!.hostKeyPath}.pub`);
    await fleet.rotateHostKey(1);
    const err = await rejection(openSshChannel(fleet.registryNode(1), 'true', options(file)));
    expect(err.code).toBe('HOST_KEY_MISMATCH');
    expect(err.retryable).toBe(false);
    expect(err.data.expected).toEqual([before]);
    expect(err.data.fingerprint).toBe(await sshKeygenFingerprint(`${fleet.nodes[1]!.hostKeyPath}.pub`));
  });

  it('refuses a host key that known_hosts marks @revoked', async () => {
    const file = await trustedKnownHosts();
    const [type, key] = fleet.nodes[0]!.hostKeyPub.trim().split(/\s+/);
    await appendKnownHost(file, `@revoked * ${type} ${key}`);
    const err = await rejection(openSshChannel(fleet.registryNode(0), 'true', options(file)));
    expect(err.code).toBe('HOST_KEY_MISMATCH');
    expect(err.data.revoked).toBe(true);
  });

  it('reports a stopped node as unreachable and retryable, and reaches it again after a restart', async () => {
    const file = await trustedKnownHosts();
    await fleet.stop(1);
    try {
      const err = await rejection(openSshChannel(fleet.registryNode(1), 'true', options(file)));
      expect(err.code).toBe('NODE_UNREACHABLE');
      expect(err.retryable).toBe(true);
      expect((await rejection(fetchHostKey(fleet.registryNode(1), { connectTimeout: CONNECT_TIMEOUT }))).code).toBe('NODE_UNREACHABLE');
    } finally {
      await fleet.start(1);
    }
    const { exit } = await runChannel(await openSshChannel(fleet.registryNode(1), echo(['0']), options(file)), '');
    expect(exit).toEqual({ code: 0 });
  });

  it('times out with SSH_TIMEOUT on a port that accepts TCP but never speaks SSH', async () => {
    const sockets: net.Socket[] = [];
    const server = net.createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as net.AddressInfo;
      const node = fleet.registryNode(0, { ip: '127.0.0.1', sshPort: port });
      const err = await rejection(openSshChannel(node, 'true', options(path.join(tmp, 'empty'), { connectTimeout: 500 })));
      expect(err.code).toBe('SSH_TIMEOUT');
      expect(err.retryable).toBe(true);
      expect((await rejection(fetchHostKey(node, { connectTimeout: 500 }))).code).toBe('SSH_TIMEOUT');
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('fails with AUTH_FAILED when the node does not accept the key', async () => {
    const key = path.join(tmp, 'stranger_ed25519');
    await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', key]);
    const err = await rejection(openSshChannel(fleet.registryNode(0), 'true', options(await trustedKnownHosts(), { identity: key })));
    expect(err.code).toBe('AUTH_FAILED');
    expect(err.retryable).toBe(false);
  });

  it('fails with SSH_KEY_MISSING for an unreadable identity or when there is neither identity nor agent', async () => {
    const file = await trustedKnownHosts();
    const missing = await rejection(openSshChannel(fleet.registryNode(0), 'true', options(file, { identity: path.join(tmp, 'nope') })));
    expect(missing.code).toBe('SSH_KEY_MISSING');
    const notAKey = path.join(tmp, 'not-a-key');
    await writeFile(notAKey, 'hello\n');
    expect((await rejection(openSshChannel(fleet.registryNode(0), 'true', options(file, { identity: notAKey })))).code).toBe('SSH_KEY_MISSING');
    vi.stubEnv('SSH_AUTH_SOCK', '');
    try {
      const none = await rejection(openSshChannel(fleet.registryNode(0), 'true', { knownHostsFile: file, connectTimeout: CONNECT_TIMEOUT }));
      expect(none.code).toBe('SSH_KEY_MISSING');
    } finally {
      vi.unstubAllEnvs();
    }
  });

  it('authenticates with a key held by an ssh-agent', async () => {
    const socket = path.join(tmp, 'agent.sock');
    const agent = spawn('ssh-agent', ['-D', '-a', socket], { stdio: 'ignore' });
    try {
      await waitFor(async () => run('ssh-add', [fleet.clientKeyPath], { env: { ...process.env, SSH_AUTH_SOCK: socket } }));
      const channel = await openSshChannel(fleet.registryNode(0), echo(['0']), { knownHostsFile: await trustedKnownHosts(), connectTimeout: CONNECT_TIMEOUT, agentSocket: socket });
      expect((await runChannel(channel, 'via agent\n')).stdout.toString()).toBe('via agent\n');
    } finally {
      agent.kill('SIGTERM');
    }
  });

  it('fails with AUTH_FAILED, not a retryable error, when an agent offers more wrong keys than sshd allows', async () => {
    const socket = path.join(tmp, 'many-keys.sock');
    const agent = spawn('ssh-agent', ['-D', '-a', socket], { stdio: 'ignore' });
    try {
      const env = { ...process.env, SSH_AUTH_SOCK: socket };
      // sshd's MaxAuthTries is 6: the 7th key makes it disconnect with "Too many authentication failures".
      for (let n = 0; n < 8; n++) {
        const key = path.join(tmp, `wrong_${n}`);
        await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', key]);
        await waitFor(async () => run('ssh-add', ['-q', key], { env }));
      }
      const err = await rejection(openSshChannel(fleet.registryNode(0), 'true', { knownHostsFile: await trustedKnownHosts(), connectTimeout: CONNECT_TIMEOUT, agentSocket: socket }));
      expect(err.code).toBe('AUTH_FAILED');
      expect(err.retryable).toBe(false);
    } finally {
      agent.kill('SIGTERM');
    }
  });

  it('rejects exit with CONNECTION_LOST when the connection drops mid-exec', async () => {
    const channel = await openSshChannel(fleet.registryNode(0), echo(['0']), options(await trustedKnownHosts()));
    const stdout = collect(channel.stdout);
    channel.stderr.resume();
    const echoed = waitForOutput(channel.stdout, 'first line');
    channel.stdin.write('first line\n');
    await echoed;
    await fleet.killSessions(0);
    const err = await rejection(channel.exit);
    expect(err.code).toBe('CONNECTION_LOST');
    expect(err.retryable).toBe(true);
    // stdout ends instead of leaving a reader waiting; late writes are dropped, not thrown.
    expect((await stdout).toString()).toBe('first line\n');
    channel.stdin.write('too late\n');
  });

  it('resolves exit with the signal that killed the remote command', async () => {
    const channel = await openSshChannel(fleet.registryNode(0), 'kill -TERM $$', options(await trustedKnownHosts()));
    expect((await runChannel(channel, '')).exit).toEqual({ code: null, signal: 'SIGTERM' });
  });

  it('rejects exit with CONNECTION_LOST when the session is closed before the agent exits', async () => {
    const channel = await openSshChannel(fleet.registryNode(0), echo(['0']), options(await trustedKnownHosts()));
    channel.stdout.resume();
    channel.stderr.resume();
    channel.close();
    const err = await rejection(channel.exit);
    expect(err.code).toBe('CONNECTION_LOST');
    expect(err.data.closedBy).toBe('controller');
  });

  it('cuts off a session that outlives sessionTimeout with SSH_TIMEOUT', async () => {
    const channel = await openSshChannel(fleet.registryNode(0), echo(['0']), options(await trustedKnownHosts(), { sessionTimeout: 300 }));
    channel.stdout.resume();
    channel.stderr.resume();
    const err = await rejection(channel.exit);
    expect(err.code).toBe('SSH_TIMEOUT');
    expect(err.data.phase).toBe('session');
  });

  it('runs sessions to several nodes at once over separate connections', async () => {
    const file = await trustedKnownHosts();
    const results = await Promise.all(
      [0, 1, 0, 1].map(async (i, n) => runChannel(await openSshChannel(fleet.registryNode(i), echo([String(n)]), options(file)), `node ${i} run ${n}\n`)),
    );
    expect(results.map((r) => [r.stdout.toString(), r.exit.code])).toEqual([
      ['node 0 run 0\n', 0],
      ['node 1 run 1\n', 1],
      ['node 0 run 2\n', 2],
      ['node 1 run 3\n', 3],
    ]);
  });
});

describe('the known_hosts lines courier writes', () => {
  it('are accepted by the stock OpenSSH client with strict host key checking, plain and hashed', async () => {
    for (const hashed of [false, true]) {
      const node = fleet.registryNode(0);
      const key = await fetchHostKey(node, { connectTimeout: CONNECT_TIMEOUT });
      const file = path.join(tmp, `openssh_known_hosts_${hashed}`);
      await appendKnownHost(file, formatKnownHostsLine(node.ip, node.sshPort, key.keyBlob, { hashed }));
      const { stdout } = await run('ssh', [
        '-F', '/dev/null',
        '-o', `UserKnownHostsFile=${file}`,
        '-o', 'GlobalKnownHostsFile=/dev/null',
        '-o', 'StrictHostKeyChecking=yes',
        '-o', 'BatchMode=yes',
        '-o', 'IdentitiesOnly=yes',
        '-i', fleet.clientKeyPath,
        '-p', String(node.sshPort),
        `${node.sshUser}@${node.ip}`,
        'echo accepted',
      ]);
      expect(stdout).toBe('accepted\n');
    }
  });
});

/** Retry `fn` until it resolves (the ssh-agent socket appears shortly after spawn). */
async function waitFor<T>(fn: () => Promise<T>, timeout = 10_000): Promise<T> {
  const deadline = Date.now() + timeout;
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}
