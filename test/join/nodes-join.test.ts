/**
 * `courier nodes join`, `nodes restrict` and `nodes remove --revoke` end to end: real users with
 * passwords on real sshd (password authentication, the default ~/.ssh/authorized_keys), the built
 * CLI, and the real OpenSSH client checking what the control-plane key can do afterwards.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chown, existsSync, readFileSync } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSshdFleet, type SshdFleet } from '../support/sshd-fleet.js';
import { createTestUser, type TestUser } from '../support/test-user.js';
import { runCourier, CLI_TEST_TIMEOUT } from '../integration/run-courier.js';
import { startDaemonProcess } from '../daemon/daemon-site.js';
import { AGENT_SCRIPT, blobOid, frames, put } from '../agent/run-agent.js';
import { createJoinSite, fingerprintOf, HOSTS_PATH, runProcess, sshArgs, sshWithKey, TRAEFIK_PATH, type JoinSite } from './join-support.js';

const chownAsync = promisify(chown);
const PW = 0; // joined by password, with --sudo
const PR = 1; // joined with --print, then the fingerprint (a VPS)
const RS = 2; // an existing full-shell node, restricted
const SU = 3; // an existing full-shell node with password-less sudo (MyNodeOne's sudo: true), restricted

let fleet: SshdFleet;
let site: JoinSite;
const users: TestUser[] = [];
let passwordFile: string;
let prPasswordFile: string;

const sha = (text: string | Buffer) => createHash('sha256').update(text).digest('hex');
const registry = async () => JSON.parse(await readFile(path.join(site.registryDir, 'registry.json'), 'utf8')) as Record<string, Record<string, unknown>[]>;
const user = (i: number) => users[i]!;
const node = (i: number) => fleet.nodes[i]!;

beforeAll(async () => {
  users.push(await createTestUser('courier-join-pw', 'pw-Secret-41'), await createTestUser('courier-join-pr', 'pr-Secret-42'), await createTestUser('courier-join-rs', 'rs-Secret-43'), await createTestUser('courier-join-su', 'su-Secret-44'));
  fleet = await startSshdFleet(4, { passwordAuth: true, defaultAuthorizedKeys: true });
  // the sudo node's root stays root's: only the agent run through sudo can write there
  for (let i = 0; i < 3; i++) await chownAsync(node(i).root, user(i).uid, user(i).gid);
  site = await createJoinSite(fleet);
  passwordFile = path.join(site.dir, 'password');
  await writeFile(passwordFile, `${user(PW).password}\n`, { mode: 0o600 });
  prPasswordFile = path.join(site.dir, 'password-pr');
  await writeFile(prPasswordFile, `${user(PR).password}\n`, { mode: 0o600 });
  // the node user may use sudo with its password, as on a fresh VPS
  await writeFile(`/etc/sudoers.d/courier-test-${user(PW).name}`, `${user(PW).name} ALL=(ALL) ALL\n`, { mode: 0o440 });
  await writeFile(`/etc/sudoers.d/courier-test-${user(SU).name}`, `${user(SU).name} ALL=(ALL) NOPASSWD: ALL\n`, { mode: 0o440 });
});

afterAll(async () => {
  await fleet?.stopAll();
  for (const u of users) {
    await rm(`/etc/sudoers.d/courier-test-${u.name}`, { force: true });
    await rm(`/etc/sudoers.d/zz-courier-${u.name}`, { force: true });
    await u.remove();
  }
  if (site) await rm(site.dir, { recursive: true, force: true });
});

/** What the control-plane key can do on node i: no shell, no forwarding, no file outside the targets. */
async function expectRestricted(i: number, target: string) {
  const id = await sshWithKey(fleet, site, i, user(i).name, ['id']);
  expect(id.stdout).not.toMatch(/uid=/);
  expect(id.stderr).toContain("refused: this key runs only courier-agent");
  expect(id.code).not.toBe(0);
  const widened = await sshWithKey(fleet, site, i, user(i).name, ['courier-agent', 'sync', '--root', '/']);
  expect(widened.stderr).toContain('refused');

  // a hand-crafted put outside the targets: refused, and nothing is written
  const outside = '/etc/cron.d/courier-evil';
  const crafted = await sshWithKey(fleet, site, i, user(i).name, ['courier-agent', 'sync'], frames([[outside, 'file', blobOid('x\n')]], [put(outside, 'file', 'x\n')]).toString('latin1'));
  expect(crafted.stdout).toContain(`have ${outside} file -`);
  expect(crafted.stdout).toMatch(new RegExp(`^fail ${outside} PATH_NOT_ALLOWED `, 'm'));
  expect(existsSync(path.join(node(i).root, outside))).toBe(false);
  expect(existsSync(outside)).toBe(false);
  const dotdot = await sshWithKey(fleet, site, i, user(i).name, ['courier-agent', 'sync'], frames([[`${target}/../../passwd`, 'file', '-']]).toString('latin1'));
  expect(dotdot.stdout).toMatch(/^error AGENT_PROTOCOL .*'\.\.'/m);

  await expectForwardingRefused(i);
}

/** `ssh -N -L`: the tunnel's connection is refused by sshd (restrict = no port forwarding); the target never sees it. */
async function expectForwardingRefused(i: number) {
  let reached = 0;
  const targetServer = net.createServer((s) => {
    reached++;
    s.destroy();
  });
  await new Promise<void>((r) => targetServer.listen(0, '127.0.0.1', r));
  const targetPort = (targetServer.address() as net.AddressInfo).port;
  const localPort = await new Promise<number>((resolve) => {
    const probe = net.createServer().listen(0, '127.0.0.1', () => {
      const p = (probe.address() as net.AddressInfo).port;
      probe.close(() => resolve(p));
    });
  });
  const child = spawn('ssh', ['-N', '-o', 'LogLevel=INFO', '-o', 'ExitOnForwardFailure=yes', '-L', `127.0.0.1:${localPort}:127.0.0.1:${targetPort}`, ...sshArgs(fleet, site, i, user(i).name)], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  try {
    // until the tunnel listens, connecting fails; once it does, sshd's refusal shows on ssh's stderr
    for (let attempt = 0; attempt < 400 && !/prohibited|open failed/.test(stderr); attempt++) {
      await new Promise<void>((resolve) => {
        const s = net.connect(localPort, '127.0.0.1');
        s.on('error', () => resolve());
        s.on('close', () => resolve());
      });
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(stderr).toMatch(/administratively prohibited|open failed/);
    expect(reached).toBe(0);
  } finally {
    if (child.pid) process.kill(child.pid, 'SIGTERM');
    await new Promise<void>((r) => targetServer.close(() => r()));
  }
}

async function push(name: string) {
  const result = await runCourier(site.configFile, ['push', '--node', name, '--json']);
  const [report] = result.json as { status: string; error: unknown }[];
  return { result, report };
}

describe('courier nodes join', () => {
  it('refuses a wrong --fingerprint before sending the password, and installs nothing', async () => {
    const wrong = 'SHA256:' + 'A'.repeat(43);
    const result = await runCourier(site.configFile, ['nodes', 'join', 'worker', node(PW).address, 'pw-node', user(PW).name, '--port', String(node(PW).port), '--root', node(PW).root, '--password-file', passwordFile, '--fingerprint', wrong, '--yes']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('HOST_KEY_MISMATCH');
    expect(result.stderr).toContain(wrong);
    expect(existsSync(path.join(user(PW).home, '.ssh'))).toBe(false);
    expect(existsSync(path.join(user(PW).home, '.courier'))).toBe(false);
    expect(existsSync(path.join(site.registryDir, 'registry.json'))).toBe(false);
    expect(await readFile(site.knownHostsFile, 'utf8')).toBe('');
  }, CLI_TEST_TIMEOUT);

  it('--yes without --fingerprint is a usage error', async () => {
    const result = await runCourier(site.configFile, ['nodes', 'join', 'worker', node(PW).address, 'pw-node', user(PW).name, '--password-file', passwordFile, '--yes']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--fingerprint');
  }, CLI_TEST_TIMEOUT);

  it('joins by password with --sudo: agent, restricted entry, visudo-checked drop-in, known_hosts, registry, first push', async () => {
    const fingerprint = await fingerprintOf(`${node(PW).hostKeyPath}.pub`);
    const result = await runCourier(site.configFile, ['nodes', 'join', 'worker', node(PW).address, 'pw-node', user(PW).name, '--port', String(node(PW).port), '--root', node(PW).root, '--sudo', '--password-file', passwordFile, '--fingerprint', fingerprint, '--yes']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`host key ssh-ed25519 ${fingerprint} pinned`);
    expect(result.stdout).toContain('checked with visudo -c');
    expect(result.stdout).toMatch(/first push: pw-node converged/);
    expect(result.stdout + result.stderr).not.toContain(user(PW).password);

    const home = user(PW).home;
    expect(readFileSync(path.join(home, '.courier', 'courier-agent'), 'utf8')).toBe(AGENT_SCRIPT);
    expect(readFileSync(path.join(home, '.courier', 'targets'), 'utf8')).toContain(`allow ${HOSTS_PATH}`);
    expect(existsSync(path.join(home, '.courier', 'authorized_keys.absent'))).toBe(false);
    const keys = readFileSync(path.join(home, '.ssh', 'authorized_keys'), 'utf8');
    expect(keys).toMatch(new RegExp(`^restrict,command="sudo -n /bin/sh ${home}/.courier/courier-agent restricted \\\\"\\$SSH_ORIGINAL_COMMAND\\\\"" ssh-ed25519 \\S+ courier-control-plane\\n$`));
    const dropIn = `/etc/sudoers.d/zz-courier-${user(PW).name}`;
    expect(readFileSync(dropIn, 'utf8')).toContain(`NOPASSWD: COURIER_AGENT_COURIER_JOIN_PW`);
    expect((await runProcess('visudo', ['-c', '-f', dropIn])).code).toBe(0);
    expect(await readFile(site.knownHostsFile, 'utf8')).toBe(`${fleet.knownHostsLine(PW)}\n`);
    const entry = (await registry()).worker_nodes!.find((n) => n.name === 'pw-node');
    expect(entry).toMatchObject({ ip: node(PW).address, ssh_user: user(PW).name, sudo: true, root: node(PW).root, restricted: true });
    // the agent ran as root through the drop-in
    const hosts = readFileSync(path.join(node(PW).root, HOSTS_PATH), 'utf8');
    expect(hosts).toContain('photos.mycloud.local');

    await expectRestricted(PW, HOSTS_PATH);
    const { report } = await push('pw-node');
    expect(report).toMatchObject({ status: 'converged', error: null });
  }, CLI_TEST_TIMEOUT);

  it('upgrades an installed agent whose version differs, checked by oid, replaced in place', async () => {
    const installed = path.join(user(PW).home, '.courier', 'courier-agent');
    await writeFile(installed, AGENT_SCRIPT.replace(/^AGENT_VERSION=.*$/m, 'AGENT_VERSION=0.9.0'));
    const before = await sshWithKey(fleet, site, PW, user(PW).name, ['courier-agent', '--version']);
    expect(before.stdout.trim()).toBe('courier-agent 0.9.0');
    const { report } = await push('pw-node');
    expect(report).toMatchObject({ status: 'converged' });
    expect(sha(readFileSync(installed))).toBe(sha(AGENT_SCRIPT));
    const after = await sshWithKey(fleet, site, PW, user(PW).name, ['courier-agent', '--version']);
    expect(after.stdout.trim()).toMatch(/^courier-agent 1\./);
    // a script with the wrong oid is refused and the agent stays
    const bad = await sshWithKey(fleet, site, PW, user(PW).name, ['courier-agent', 'upgrade', blobOid('something else'), '5'], 'echo!');
    expect(bad.stdout).toMatch(/^error AGENT_UPGRADE /m);
    expect(sha(readFileSync(installed))).toBe(sha(AGENT_SCRIPT));
  }, CLI_TEST_TIMEOUT);

  it('an installed agent too old for the protocol is upgraded after the failed exchange; the next push converges', async () => {
    const installed = path.join(user(PW).home, '.courier', 'courier-agent');
    await writeFile(installed, AGENT_SCRIPT.replace(/^PROTOCOL=1$/m, 'PROTOCOL=0').replace(/^AGENT_VERSION=.*$/m, 'AGENT_VERSION=0.1.0'));
    const first = await push('pw-node');
    expect(first.report).toMatchObject({ status: 'failed', error: { code: 'AGENT_PROTOCOL' } });
    expect(sha(readFileSync(installed))).toBe(sha(AGENT_SCRIPT));
    expect((await push('pw-node')).report).toMatchObject({ status: 'converged' });
  }, CLI_TEST_TIMEOUT);

  it('a registry entry that would not validate is refused before anything is installed', async () => {
    const fingerprint = await fingerprintOf(`${node(PR).hostKeyPath}.pub`);
    const result = await runCourier(site.configFile, ['nodes', 'join', 'worker', node(PR).address, 'bad/name', user(PR).name, '--port', String(node(PR).port), '--password-file', prPasswordFile, '--fingerprint', fingerprint]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('REGISTRY_INVALID');
    expect(result.stdout).toBe('');
    expect(existsSync(path.join(user(PR).home, '.ssh'))).toBe(false);
  }, CLI_TEST_TIMEOUT);

  it('without a terminal, an unpinned host key is shown but not accepted, and nothing is installed', async () => {
    const result = await runCourier(site.configFile, ['nodes', 'join', 'worker', node(PR).address, 'pr-node', user(PR).name, '--port', String(node(PR).port), '--password-file', prPasswordFile]);
    expect(result.code).toBe(2);
    const fingerprint = await fingerprintOf(`${node(PR).hostKeyPath}.pub`);
    expect(result.stdout).toContain(`host key ${fingerprint}`);
    expect(result.stderr).toContain(`--fingerprint ${fingerprint}`);
    expect(existsSync(path.join(user(PR).home, '.ssh'))).toBe(false);
  }, CLI_TEST_TIMEOUT);

  it('on a terminal, an unpinned host key is shown and asked about; "n" installs nothing', async () => {
    const cli = ['dist/courier/main.js', '--config', site.configFile, 'nodes', 'join', 'worker', node(PR).address, 'pr-node', user(PR).name, '--port', String(node(PR).port), '--password-file', prPasswordFile];
    // script(1) gives the CLI a pseudo-terminal; the answer waits in its input buffer
    const result = await runProcess('script', ['-qec', [process.execPath, ...cli].join(' '), '/dev/null'], 'n\n');
    const fingerprint = await fingerprintOf(`${node(PR).hostKeyPath}.pub`);
    expect(result.stdout).toContain(`host key ${fingerprint}`);
    expect(result.stdout).toContain("Is this the node's key?");
    expect(result.stdout).toContain('not confirmed: nothing was sent or installed');
    expect(existsSync(path.join(user(PR).home, '.ssh'))).toBe(false);
  }, CLI_TEST_TIMEOUT);

  it('a failed step undoes the steps before it: --sudo without sudo rights', async () => {
    const fingerprint = await fingerprintOf(`${node(PR).hostKeyPath}.pub`);
    const result = await runCourier(site.configFile, ['nodes', 'join', 'worker', node(PR).address, 'pr-node', user(PR).name, '--port', String(node(PR).port), '--root', node(PR).root, '--sudo', '--password-file', prPasswordFile, '--fingerprint', fingerprint]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('JOIN_FAILED');
    expect(result.stderr).toContain('sudoers drop-in was not installed');
    expect(result.stdout).toContain('undone: the agent, its targets and the restricted entry');
    expect(result.stdout + result.stderr).not.toContain(user(PR).password);
    expect(existsSync(path.join(user(PR).home, '.ssh'))).toBe(false);
    expect(existsSync(path.join(user(PR).home, '.courier'))).toBe(false);
    expect(existsSync(`/etc/sudoers.d/zz-courier-${user(PR).name}`)).toBe(false);
    expect((await registry()).worker_nodes!.some((n) => n.name === 'pr-node')).toBe(false);
  }, CLI_TEST_TIMEOUT);

  it('a failed first push undoes everything: node files, known_hosts line, registry entry', async () => {
    const fingerprint = await fingerprintOf(`${node(PR).hostKeyPath}.pub`);
    const unwritable = path.join(node(PR).dir, 'root-owned');
    await mkdir(unwritable, { mode: 0o755 });
    const knownBefore = await readFile(site.knownHostsFile, 'utf8');
    const registryBefore = await readFile(path.join(site.registryDir, 'registry.json'), 'utf8');
    const result = await runCourier(site.configFile, ['nodes', 'join', 'worker', node(PR).address, 'pr-node', user(PR).name, '--port', String(node(PR).port), '--root', unwritable, '--password-file', prPasswordFile, '--fingerprint', fingerprint]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/JOIN_FAILED: pr-node: the first push did not converge \(failed: AGENT_FAILED .*WRITE_FAILED/);
    expect(result.stdout).toContain('undone: node pr-node in the node registry');
    expect(result.stdout).toContain('undone: the host key line');
    expect(await readFile(site.knownHostsFile, 'utf8')).toBe(knownBefore);
    expect(JSON.parse(await readFile(path.join(site.registryDir, 'registry.json'), 'utf8'))).toMatchObject({ worker_nodes: JSON.parse(registryBefore).worker_nodes });
    expect(existsSync(path.join(user(PR).home, '.ssh'))).toBe(false);
    expect(existsSync(path.join(user(PR).home, '.courier'))).toBe(false);
  }, CLI_TEST_TIMEOUT);

  it('--print gives one short sh command; run as the node user, then the printed join line finishes on the control plane', async () => {
    const printed = await runCourier(site.configFile, ['nodes', 'join', 'vps', node(PR).address, 'pr-node', user(PR).name, '--port', String(node(PR).port), '--root', node(PR).root, '--public-ip', '203.0.113.7', '--print']);
    expect(printed.code).toBe(0);
    expect(printed.stderr).toBe('');
    const command = printed.stdout.replace(/\n$/, '');
    expect(command).not.toContain('\n');
    expect(Buffer.byteLength(command)).toBeLessThan(2048);
    expect(command.startsWith('sh -c ')).toBe(true);

    const pasted = await runProcess('su', ['-', user(PR).name, '-c', command]);
    expect(pasted.stderr).toBe('');
    expect(pasted.code).toBe(0);
    const fingerprint = await fingerprintOf(`${node(PR).hostKeyPath}.pub`);
    expect(pasted.stdout).toContain(`host key: ${fingerprint}`);
    const next = pasted.stdout.trim().split('\n').pop()!;
    expect(next).toBe(`courier --config ${site.configFile} nodes join vps ${node(PR).address} pr-node ${user(PR).name} --port ${node(PR).port} --root ${node(PR).root} --public-ip 203.0.113.7 --fingerprint ${fingerprint}`);
    // the key reaches only the bootstrap stub so far
    expect((await sshWithKey(fleet, site, PR, user(PR).name, ['id'])).stdout).not.toMatch(/uid=/);

    const words = next.split(' ');
    const joined = await runCourier(site.configFile, words.slice(3));
    expect(joined.stderr).toBe('');
    expect(joined.code).toBe(0);
    expect(joined.stdout).toContain('over the restricted key');
    expect(readFileSync(path.join(user(PR).home, '.courier', 'courier-agent'), 'utf8')).toBe(AGENT_SCRIPT);
    const domains = JSON.parse(await readFile(path.join(site.registryDir, 'domains.json'), 'utf8')) as { vps_nodes: unknown[] };
    expect(domains.vps_nodes).toEqual([expect.objectContaining({ tailscale_ip: node(PR).address, public_ip: '203.0.113.7' })]);
    expect(readFileSync(path.join(node(PR).root, TRAEFIK_PATH), 'utf8')).toContain('photos.example.com');

    await expectRestricted(PR, TRAEFIK_PATH);
    const { report } = await push('pr-node');
    expect(report).toMatchObject({ status: 'converged' });
    const dns = await runCourier(site.configFile, ['dns', '--json']);
    expect(JSON.stringify(dns.json)).toContain('203.0.113.7');
  }, CLI_TEST_TIMEOUT);
});

describe('courier nodes restrict and remove --revoke', () => {
  const others = ['ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKpXn2QOmJfVIvbrUxh0qBiU9dBpGkP0XcTyl3H8yPjq admin@laptop\n', '# a comment the admin wrote\n', 'from="10.0.0.0/8" ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC backup'];
  let original: string;

  it('replaces the full-shell entry by the restricted one, keeps the other entries byte for byte, and the shell is gone', async () => {
    const u = user(RS);
    const cp = readFileSync(`${fleet.clientKeyPath}.pub`, 'utf8').trim();
    await mkdir(path.join(u.home, '.ssh'), { mode: 0o700 });
    original = others[0]! + `${cp}\n` + others[1]! + others[2]!;
    await writeFile(path.join(u.home, '.ssh', 'authorized_keys'), original, { mode: 0o600 });
    await runProcess('chown', ['-R', `${u.uid}:${u.gid}`, path.join(u.home, '.ssh')]);
    await writeFile(site.knownHostsFile, (await readFile(site.knownHostsFile, 'utf8')) + `${fleet.knownHostsLine(RS)}\n`);
    const added = await runCourier(site.configFile, ['nodes', 'add', 'worker', node(RS).address, 'rs-node', u.name, '--port', String(node(RS).port), '--root', node(RS).root]);
    expect(added.code).toBe(0);
    // MyNodeOne's way: the key has a shell and the agent travels inline
    expect((await sshWithKey(fleet, site, RS, u.name, ['id'])).stdout).toMatch(/uid=/);
    expect((await push('rs-node')).report).toMatchObject({ status: 'converged' });
    const listed = await runCourier(site.configFile, ['nodes', 'list']);
    expect(listed.stdout).toMatch(/rs-node .* no \(full shell\)/);
    expect(listed.stdout).toContain('warning: the control-plane key has a full shell on rs-node');

    const result = await runCourier(site.configFile, ['nodes', 'restrict', 'rs-node']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('`id` is refused');
    const keys = readFileSync(path.join(u.home, '.ssh', 'authorized_keys'), 'utf8');
    const lines = keys.split('\n');
    expect(lines.slice(0, 3)).toEqual([others[0]!.trim(), others[1]!.trim(), others[2]!]);
    expect(lines[3]).toBe(`restrict,command="/bin/sh ${u.home}/.courier/courier-agent restricted" ${cp.split(' ').slice(0, 2).join(' ')} courier-control-plane`);
    expect(keys).not.toContain(`\n${cp}\n`);
    expect(existsSync(path.join(u.home, '.courier', 'authorized_keys.before'))).toBe(false);

    await expectRestricted(RS, HOSTS_PATH);
    expect((await push('rs-node')).report).toMatchObject({ status: 'converged' });
    expect((await runCourier(site.configFile, ['nodes', 'list'])).stdout).toMatch(/rs-node .* yes/);
  }, CLI_TEST_TIMEOUT);

  it('restricts a sudo node: the drop-in is written with its sudo -n, checked by visudo, and the agent still runs as root', async () => {
    const u = user(SU);
    const cp = readFileSync(`${fleet.clientKeyPath}.pub`, 'utf8').trim();
    await mkdir(path.join(u.home, '.ssh'), { mode: 0o700 });
    await writeFile(path.join(u.home, '.ssh', 'authorized_keys'), `${cp}\n`, { mode: 0o600 });
    await runProcess('chown', ['-R', `${u.uid}:${u.gid}`, path.join(u.home, '.ssh')]);
    await writeFile(site.knownHostsFile, (await readFile(site.knownHostsFile, 'utf8')) + `${fleet.knownHostsLine(SU)}\n`);
    expect((await runCourier(site.configFile, ['nodes', 'add', 'worker', node(SU).address, 'su-node', u.name, '--port', String(node(SU).port), '--root', node(SU).root, '--sudo'])).code).toBe(0);
    expect((await push('su-node')).report).toMatchObject({ status: 'converged' });

    const result = await runCourier(site.configFile, ['nodes', 'restrict', 'su-node']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const dropIn = `/etc/sudoers.d/zz-courier-${u.name}`;
    expect((await runProcess('visudo', ['-c', '-f', dropIn])).code).toBe(0);
    expect(readFileSync(path.join(u.home, '.ssh', 'authorized_keys'), 'utf8')).toMatch(/^restrict,command="sudo -n \/bin\/sh /);
    await expectRestricted(SU, HOSTS_PATH);
    // a change reaches the root-owned target through the restricted sudo command
    const services = JSON.parse(await readFile(path.join(site.registryDir, 'services.json'), 'utf8')) as Record<string, unknown>;
    await writeFile(path.join(site.registryDir, 'services.json'), JSON.stringify({ ...services, notes: { subdomain: 'notes', ip: '100.64.0.13', port: 80, public: false } }, null, 2));
    expect((await push('su-node')).report).toMatchObject({ status: 'converged' });
    expect(readFileSync(path.join(node(SU).root, HOSTS_PATH), 'utf8')).toContain('notes.mycloud.local');
  }, CLI_TEST_TIMEOUT);

  it('the daemon converges the restricted nodes and pushes an edit to them (cold sessions)', async () => {
    const daemon = await startDaemonProcess(site.configFile);
    try {
      await expect.poll(async () => (await fetch(`${daemon.url}/readyz`)).status, { timeout: 60_000, interval: 200 }).toBe(200);
      const names = ['pw-node', 'pr-node', 'rs-node', 'su-node'];
      expect((await daemon.status()).nodes.filter((n) => names.includes(n.node)).map((n) => n.status)).toEqual(['active', 'active', 'active', 'active']);
      const services = JSON.parse(await readFile(path.join(site.registryDir, 'services.json'), 'utf8')) as Record<string, unknown>;
      const tmp = path.join(site.registryDir, '.services.json.tmp');
      await writeFile(tmp, JSON.stringify({ ...services, wiki: { subdomain: 'wiki', ip: '100.64.0.12', port: 80, public: true } }, null, 2));
      await rename(tmp, path.join(site.registryDir, 'services.json'));
      await expect.poll(() => readFileSync(path.join(node(RS).root, HOSTS_PATH), 'utf8'), { timeout: 60_000, interval: 200 }).toContain('wiki.mycloud.local');
      await expect.poll(() => readFileSync(path.join(node(PW).root, HOSTS_PATH), 'utf8'), { timeout: 60_000, interval: 200 }).toContain('wiki.mycloud.local');
      await expect.poll(() => readFileSync(path.join(node(SU).root, HOSTS_PATH), 'utf8'), { timeout: 60_000, interval: 200 }).toContain('wiki.mycloud.local');
      await expect.poll(() => readFileSync(path.join(node(PR).root, TRAEFIK_PATH), 'utf8'), { timeout: 60_000, interval: 200 }).toContain('wiki.example.com');
      await expect.poll(async () => (await daemon.status()).nodes.filter((n) => names.includes(n.node)).every((n) => n.status === 'active' && n.current), { timeout: 60_000, interval: 200 }).toBe(true);
    } finally {
      expect((await daemon.stop()).code).toBe(0);
    }
  }, CLI_TEST_TIMEOUT);

  it('remove --revoke takes the entry off the node, the known_hosts line and the registry entry', async () => {
    const u = user(RS);
    const result = await runCourier(site.configFile, ['nodes', 'remove', 'rs-node', '--revoke']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const keys = readFileSync(path.join(u.home, '.ssh', 'authorized_keys'), 'utf8');
    expect(keys).toBe(others[0]! + others[1]! + others[2]! + '\n');
    expect(existsSync(path.join(u.home, '.courier', 'courier-agent'))).toBe(false);
    expect(await readFile(site.knownHostsFile, 'utf8')).not.toContain(`[${node(RS).address}]:${node(RS).port}`);
    expect((await registry()).worker_nodes!.some((n) => n.name === 'rs-node')).toBe(false);
    const denied = await runProcess('ssh', [...sshArgs(fleet, site, RS, u.name).map((a) => (a.startsWith('StrictHostKeyChecking') ? 'StrictHostKeyChecking=no' : a)), 'id']);
    expect(denied.code).toBe(255);
    expect(denied.stderr).toMatch(/Permission denied/);
  }, CLI_TEST_TIMEOUT);

  it('--revoke on a sudo node removes its drop-in too', async () => {
    const result = await runCourier(site.configFile, ['nodes', 'remove', 'pw-node', '--revoke']);
    expect(result.code).toBe(0);
    expect(existsSync(`/etc/sudoers.d/zz-courier-${user(PW).name}`)).toBe(false);
    expect(readFileSync(path.join(user(PW).home, '.ssh', 'authorized_keys'), 'utf8')).toBe('');
  }, CLI_TEST_TIMEOUT);
});


