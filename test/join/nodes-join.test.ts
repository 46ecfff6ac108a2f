/**
 * `courier nodes join`, `nodes restrict` and `nodes remove --revoke` end to end: real users with
 * passwords on real sshd (password authentication, the default ~/.ssh/authorized_keys), the built
 * CLI, and the real OpenSSH client checking what the control-plane key can do afterwards.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chown, existsSync, readdirSync, readFileSync } from 'node:fs';
import { chmod, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
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
// the agent release keys, made with ssh-keygen (the release machine's; never committed)
let releaseKey: string;
let otherKey: string;

const sha = (text: string | Buffer) => createHash('sha256').update(text).digest('hex');
const registry = async () => JSON.parse(await readFile(path.join(site.registryDir, 'registry.json'), 'utf8')) as Record<string, Record<string, unknown>[]>;
const user = (i: number) => users[i]!;
const node = (i: number) => fleet.nodes[i]!;
/** Where node i's user has the installed agent. */
const installedAgent = (i: number) => path.join(user(i).home, '.courier', 'courier-agent');
/** An installed agent older than the controller's (upgrades are judged by version). */
const OLD_AGENT = AGENT_SCRIPT.replace(/^AGENT_VERSION=.*$/m, 'AGENT_VERSION=0.9.0');

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
  releaseKey = path.join(site.dir, 'release-key');
  otherKey = path.join(site.dir, 'other-key');
  for (const key of [releaseKey, otherKey]) await runProcess('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', path.basename(key), '-f', key]);
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
    child.kill('SIGTERM');
    await new Promise<void>((r) => targetServer.close(() => r()));
  }
}

/** `ssh-keygen -Y sign -f KEY -n courier-agent FILE` over `script`: the .sig's text. */
async function signWith(key: string, script: string): Promise<string> {
  const file = path.join(site.dir, `to-sign-${Math.random().toString(16).slice(2)}`);
  await writeFile(file, script);
  const signed = await runProcess('ssh-keygen', ['-Y', 'sign', '-f', key, '-n', 'courier-agent', file]);
  expect(signed.code).toBe(0);
  return readFile(`${file}.sig`, 'utf8');
}

/** A hand-crafted `courier-agent upgrade OID SIZE SIGSIZE` over the key on node i. */
function craftedUpgrade(i: number, script: string, sig: string) {
  return sshWithKey(fleet, site, i, user(i).name, ['courier-agent', 'upgrade', blobOid(script), String(Buffer.byteLength(script)), String(Buffer.byteLength(sig))], script + sig);
}

/** `courier check`'s verdict on node `name`'s installed agent release. */
async function releaseCheck(name: string, configFile = site.configFile) {
  const result = await runCourier(configFile, ['check', '--json']);
  const report = result.json as { checks?: { check: string; node?: string; ok: boolean; detail: string; fix?: string }[] } | undefined;
  const found = report?.checks?.find((c) => c.check === 'agent release' && c.node === name);
  if (!found) throw new Error(`no agent release check for ${name}: ${result.stdout} ${result.stderr}`);
  return found;
}

/** Add a service to services.json by write + rename, as an editor does (a watching daemon sees one change). */
async function addService(name: string, service: Record<string, unknown>) {
  const file = path.join(site.registryDir, 'services.json');
  const services = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
  const tmp = path.join(site.registryDir, '.services.json.tmp');
  await writeFile(tmp, JSON.stringify({ ...services, [name]: service }, null, 2));
  await rename(tmp, file);
}

async function push(name: string) {
  const result = await runCourier(site.configFile, ['push', '--node', name, '--json']);
  const [report] = result.json as { status: string; error: unknown }[];
  return { result, report };
}

describe('courier agent sign and verify (release side)', () => {
  it('signs a copy of the agent into <agent>.sig, prints the signer, verifies with its key and not with another; the site sends that signature', async () => {
    const copy = path.join(site.dir, 'courier-agent');
    await writeFile(copy, AGENT_SCRIPT);
    const signed = await runCourier(site.configFile, ['agent', 'sign', '--key', releaseKey, '--agent', copy]);
    expect(signed.stderr).toBe('');
    expect(signed.code).toBe(0);
    expect(signed.stdout).toContain(`into ${copy}.sig`);
    expect(signed.stdout).toContain(`signer ${await fingerprintOf(`${releaseKey}.pub`)}`);
    expect(readFileSync(`${copy}.sig`, 'utf8')).toMatch(/^-----BEGIN SSH SIGNATURE-----\n/);
    // signing again replaces the old signature (no question)
    expect((await runCourier(site.configFile, ['agent', 'sign', '--key', releaseKey, '--agent', copy])).code).toBe(0);

    const good = await runCourier(site.configFile, ['agent', 'verify', '--signer', `${releaseKey}.pub`, '--agent', copy]);
    expect(good.code).toBe(0);
    expect(good.stdout).toMatch(/^good: /);
    const wrong = await runCourier(site.configFile, ['agent', 'verify', '--signer', `${otherKey}.pub`, '--agent', copy]);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain('AGENT_UNSIGNED');
    await writeFile(path.join(site.dir, 'tampered'), `${AGENT_SCRIPT}# more\n`);
    const tampered = await runCourier(site.configFile, ['agent', 'verify', '--signer', `${releaseKey}.pub`, '--agent', path.join(site.dir, 'tampered'), '--signature', `${copy}.sig`]);
    expect(tampered.code).toBe(1);
    const privateAsSigner = await runCourier(site.configFile, ['agent', 'verify', '--signer', releaseKey, '--agent', copy]);
    expect(privateAsSigner.code).toBe(2);
    expect(privateAsSigner.stderr).toContain('that is a private key');

    // the controller finds the release signature through agent.signature
    await writeFile(site.configFile, `${await readFile(site.configFile, 'utf8')}agent:\n  signature: courier-agent.sig\n`);
  }, CLI_TEST_TIMEOUT);
});

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

  it('refuses targets that reach ~/.ssh or ~/.courier, and --no-upgrade with --agent-signer, before anything is installed', async () => {
    const intoKeys = await runCourier(site.configFile, ['nodes', 'join', 'worker', node(PR).address, 'pr-node', user(PR).name, '--root', `${user(PR).home}/.ssh`, '--print']);
    expect(intoKeys.code).toBe(2);
    expect(intoKeys.stderr).toMatch(/CONFIG_INVALID: hosts\.path: target path \/etc\/hosts under --root .*\.ssh reaches a \.ssh directory.*outside ~\/\.ssh and ~\/\.courier/);
    expect(intoKeys.stdout).toBe('');
    const both = await runCourier(site.configFile, ['nodes', 'join', 'worker', node(PR).address, 'pr-node', user(PR).name, '--print', '--no-upgrade', '--agent-signer', `${releaseKey}.pub`]);
    expect(both.code).toBe(2);
    expect(both.stderr).toContain('--no-upgrade and --agent-signer contradict');
    expect(existsSync(path.join(user(PR).home, '.ssh'))).toBe(false);
  }, CLI_TEST_TIMEOUT);

  it('--yes without --fingerprint is a usage error', async () => {
    const result = await runCourier(site.configFile, ['nodes', 'join', 'worker', node(PW).address, 'pw-node', user(PW).name, '--password-file', passwordFile, '--yes']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--fingerprint');
  }, CLI_TEST_TIMEOUT);

  it('joins by password with --sudo: agent, restricted entry, visudo-checked drop-in, known_hosts, registry, first push', async () => {
    const fingerprint = await fingerprintOf(`${node(PW).hostKeyPath}.pub`);
    const result = await runCourier(site.configFile, ['nodes', 'join', 'worker', node(PW).address, 'pw-node', user(PW).name, '--port', String(node(PW).port), '--root', node(PW).root, '--sudo', '--password-file', passwordFile, '--fingerprint', fingerprint, '--yes', '--agent-signer', `${releaseKey}.pub`]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`host key ssh-ed25519 ${fingerprint} pinned`);
    expect(result.stdout).toContain('checked with visudo -c');
    expect(result.stdout).toMatch(/first push: pw-node converged/);
    expect(result.stdout + result.stderr).not.toContain(user(PW).password);

    const home = user(PW).home;
    expect(readFileSync(path.join(home, '.courier', 'courier-agent'), 'utf8')).toBe(AGENT_SCRIPT);
    expect(readFileSync(path.join(home, '.courier', 'targets'), 'utf8')).toContain(`allow ${HOSTS_PATH}\nupgrade signed\n`);
    const releasePub = readFileSync(`${releaseKey}.pub`, 'utf8').split(' ').slice(0, 2).join(' ');
    expect(readFileSync(path.join(home, '.courier', 'allowed_signers'), 'utf8')).toBe(`courier-release namespaces="courier-agent" ${releasePub}\n`);
    expect(result.stdout).toContain('pinned the agent release signer ssh-ed25519');
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

  it('upgrades an installed agent whose version differs with the signed release; refuses one signed by another key, an unsigned one and the old 4-word form', async () => {
    const installed = installedAgent(PW);
    await writeFile(installed, OLD_AGENT);
    const before = await sshWithKey(fleet, site, PW, user(PW).name, ['courier-agent', '--version']);
    expect(before.stdout.trim()).toBe('courier-agent 0.9.0');
    const { report } = await push('pw-node');
    expect(report).toMatchObject({ status: 'converged' });
    expect(sha(readFileSync(installed))).toBe(sha(AGENT_SCRIPT));
    const after = await sshWithKey(fleet, site, PW, user(PW).name, ['courier-agent', '--version']);
    expect(after.stdout.trim()).toMatch(/^courier-agent 1\./);

    // what a stolen control-plane key can send: none of it replaces the agent (which runs as root here)
    const evil = `${AGENT_SCRIPT}id >/tmp/courier-evil-upgrade\n`;
    const byOther = await craftedUpgrade(PW, evil, await signWith(otherKey, evil));
    expect(byOther.stdout).toMatch(/^error AGENT_UNSIGNED the new agent is not signed by the release signer pinned in .*allowed_signers/m);
    const garbage = await craftedUpgrade(PW, evil, '-----BEGIN SSH SIGNATURE-----\nnope\n-----END SSH SIGNATURE-----\n');
    expect(garbage.stdout).toMatch(/^error AGENT_UNSIGNED /m);
    const reused = await craftedUpgrade(PW, evil, await signWith(releaseKey, AGENT_SCRIPT));
    expect(reused.stdout).toMatch(/^error AGENT_UNSIGNED /m);
    const fourWords = await sshWithKey(fleet, site, PW, user(PW).name, ['courier-agent', 'upgrade', blobOid(evil), String(Buffer.byteLength(evil))], evil);
    expect(fourWords.stdout).toMatch(/^error AGENT_UNSIGNED an unsigned upgrade/m);
    expect(readFileSync(installed)).toEqual(Buffer.from(AGENT_SCRIPT));
    expect(existsSync('/tmp/courier-evil-upgrade')).toBe(false);
    expect(readdirSync(path.dirname(installed)).sort()).toEqual(['allowed_signers', 'courier-agent', 'targets']);
  }, CLI_TEST_TIMEOUT);

  it('without a release signature the controller does not offer the upgrade: it warns AGENT_UNSIGNED and keeps syncing with the old agent', async () => {
    const installed = installedAgent(PW);
    await writeFile(installed, OLD_AGENT);
    const unsigned = path.join(site.dir, 'courier-unsigned.yaml');
    await writeFile(unsigned, (await readFile(site.configFile, 'utf8')).replace('agent:\n  signature: courier-agent.sig\n', ''));
    // courier check says so before any push: unsigned, the node stays behind; signed, the next sync upgrades it
    const version = /^AGENT_VERSION=(\S+)$/m.exec(AGENT_SCRIPT)![1]!;
    expect(await releaseCheck('pw-node', unsigned)).toMatchObject({ ok: false, detail: `the installed agent is 0.9.0, this controller's is ${version}; this controller's agent has no release signature, so it does not offer the upgrade`, fix: expect.stringContaining('courier agent sign --key') });
    expect(await releaseCheck('pw-node')).toMatchObject({ ok: true, detail: `the installed agent is 0.9.0, this controller's is ${version}; the next sync upgrades it (signed by the signer pinned on the node)` });
    const result = await runCourier(unsigned, ['--log-level', 'warn', 'push', '--node', 'pw-node', '--json']);
    const [report] = result.json as { status: string }[];
    expect(report).toMatchObject({ status: 'converged' });
    expect(result.stderr).toContain('AGENT_UNSIGNED');
    expect(result.stderr).toContain('courier agent sign');
    expect(readFileSync(installed, 'utf8')).toBe(OLD_AGENT);
    await writeFile(installed, AGENT_SCRIPT);
    expect(await releaseCheck('pw-node')).toMatchObject({ ok: true, detail: `the installed agent is this controller's release (${version}); takes signed upgrades` });
  }, CLI_TEST_TIMEOUT);

  it('an installed agent too old for the protocol is upgraded after the failed exchange; the next push converges', async () => {
    const installed = installedAgent(PW);
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
    const printed = await runCourier(site.configFile, ['nodes', 'join', 'vps', node(PR).address, 'pr-node', user(PR).name, '--port', String(node(PR).port), '--root', node(PR).root, '--public-ip', '203.0.113.7', '--agent-signer', `${releaseKey}.pub`, '--print']);
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
    // a first try whose first push fails (the root is read-only for the user) leaves the agent installed through the stub
    await chmod(node(PR).root, 0o555);
    const failed = await runCourier(site.configFile, words.slice(3));
    await chmod(node(PR).root, 0o755);
    expect(failed.code).toBe(1);
    expect(failed.stdout).toContain('over the restricted key');
    expect(failed.stdout).toContain('undone: node pr-node in the node registry');
    expect(readFileSync(installedAgent(PR), 'utf8')).toBe(AGENT_SCRIPT);
    // running the printed line again finds it in place (no unsigned upgrade is sent to a real agent)
    const joined = await runCourier(site.configFile, words.slice(3));
    expect(joined.stderr).toBe('');
    expect(joined.code).toBe(0);
    expect(joined.stdout).toMatch(/the agent \S+ is installed already/);
    expect(readFileSync(installedAgent(PR), 'utf8')).toBe(AGENT_SCRIPT);
    expect(readFileSync(path.join(user(PR).home, '.courier', 'targets'), 'utf8')).toMatch(/\nupgrade signed\n$/);
    expect(readFileSync(path.join(user(PR).home, '.courier', 'allowed_signers'), 'utf8')).toMatch(/^courier-release namespaces="courier-agent" ssh-ed25519 \S+\n$/);
    const domains = JSON.parse(await readFile(path.join(site.registryDir, 'domains.json'), 'utf8')) as { vps_nodes: unknown[] };
    expect(domains.vps_nodes).toEqual([expect.objectContaining({ tailscale_ip: node(PR).address, public_ip: '203.0.113.7' })]);
    expect(readFileSync(path.join(node(PR).root, TRAEFIK_PATH), 'utf8')).toContain('photos.example.com');

    await expectRestricted(PR, TRAEFIK_PATH);
    const { report } = await push('pr-node');
    expect(report).toMatchObject({ status: 'converged' });
    const dns = await runCourier(site.configFile, ['dns', '--json']);
    expect(JSON.stringify(dns.json)).toContain('203.0.113.7');

    // the signer the paste pinned takes the signed release
    const installed = installedAgent(PR);
    await writeFile(installed, OLD_AGENT);
    expect((await push('pr-node')).report).toMatchObject({ status: 'converged' });
    expect(readFileSync(installed, 'utf8')).toBe(AGENT_SCRIPT);
    // a node with a newer agent refuses the controller's older release (AGENT_DOWNGRADE): not an error, it keeps its agent
    const newer = AGENT_SCRIPT.replace(/^AGENT_VERSION=.*$/m, 'AGENT_VERSION=99.0.0');
    await writeFile(installed, newer);
    expect((await push('pr-node')).report).toMatchObject({ status: 'converged' });
    expect(readFileSync(installed, 'utf8')).toBe(newer);
    // an agent from before signed releases (its forced command knows only `upgrade OID SIZE`): kept, and the push says to re-join
    const legacy = AGENT_SCRIPT.replace(/^AGENT_VERSION=.*$/m, 'AGENT_VERSION=1.0.0').replace('upgrade:5)', 'upgrade:5-unknown)');
    await writeFile(installed, legacy);
    const kept = await push('pr-node');
    expect(kept.report).toMatchObject({ status: 'converged' });
    expect(kept.result.stderr).toContain('predates signed releases');
    expect(kept.result.stderr).toContain('--agent-signer');
    expect(readFileSync(installed, 'utf8')).toBe(legacy);
    await writeFile(installed, AGENT_SCRIPT);
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

    // restricted without --agent-signer: no upgrade over the key, however signed; an older agent keeps syncing
    expect(readFileSync(path.join(u.home, '.courier', 'targets'), 'utf8')).toMatch(/\nupgrade no\n$/);
    expect(existsSync(path.join(u.home, '.courier', 'allowed_signers'))).toBe(false);
    const installed = path.join(u.home, '.courier', 'courier-agent');
    await writeFile(installed, OLD_AGENT);
    const refused = await craftedUpgrade(RS, AGENT_SCRIPT, await signWith(releaseKey, AGENT_SCRIPT));
    expect(refused.stdout).toMatch(/^error UPGRADE_OFF .*--agent-signer/m);
    const behind = await releaseCheck('rs-node');
    expect(behind).toMatchObject({ ok: false, fix: expect.stringContaining('--agent-signer FILE') });
    expect(behind.detail).toMatch(/^the installed agent is 0\.9\.0, this controller's is .*; the node takes no agent upgrades over the key \(joined without --agent-signer\)/);
    expect((await push('rs-node')).report).toMatchObject({ status: 'converged' });
    expect(readFileSync(installed, 'utf8')).toBe(OLD_AGENT);
    await writeFile(installed, AGENT_SCRIPT);
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

    const result = await runCourier(site.configFile, ['nodes', 'restrict', 'su-node', '--agent-signer', `${releaseKey}.pub`]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const dropIn = `/etc/sudoers.d/zz-courier-${u.name}`;
    expect((await runProcess('visudo', ['-c', '-f', dropIn])).code).toBe(0);
    expect(readFileSync(path.join(u.home, '.ssh', 'authorized_keys'), 'utf8')).toMatch(/^restrict,command="sudo -n \/bin\/sh /);
    expect(readFileSync(path.join(u.home, '.courier', 'targets'), 'utf8')).toMatch(/\nupgrade signed\n$/);
    expect(result.stdout).toContain(`pinned the agent release signer ssh-ed25519 in ${u.home}/.courier/allowed_signers`);
    await expectRestricted(SU, HOSTS_PATH);
    // a change reaches the root-owned target through the restricted sudo command
    const services = JSON.parse(await readFile(path.join(site.registryDir, 'services.json'), 'utf8')) as Record<string, unknown>;
    await writeFile(path.join(site.registryDir, 'services.json'), JSON.stringify({ ...services, notes: { subdomain: 'notes', ip: '100.64.0.13', port: 80, public: false } }, null, 2));
    expect((await push('su-node')).report).toMatchObject({ status: 'converged' });
    expect(readFileSync(path.join(node(SU).root, HOSTS_PATH), 'utf8')).toContain('notes.mycloud.local');
  }, CLI_TEST_TIMEOUT);

  it('the daemon converges the restricted nodes and pushes an edit to them (warm sessions)', async () => {
    // warm sessions meet older agents: pr-node (signer pinned) takes the signed release, rs-node (none) keeps its own
    const prAgent = installedAgent(PR);
    const rsAgent = installedAgent(RS);
    await writeFile(prAgent, OLD_AGENT);
    await writeFile(rsAgent, OLD_AGENT);
    const daemon = await startDaemonProcess(site.configFile);
    try {
      await expect.poll(async () => (await fetch(`${daemon.url}/readyz`)).status, { timeout: 60_000, interval: 200 }).toBe(200);
      const names = ['pw-node', 'pr-node', 'rs-node', 'su-node'];
      expect((await daemon.status()).nodes.filter((n) => names.includes(n.node)).map((n) => n.status)).toEqual(['active', 'active', 'active', 'active']);
      await addService('wiki', { subdomain: 'wiki', ip: '100.64.0.12', port: 80, public: true });
      await expect.poll(() => readFileSync(path.join(node(RS).root, HOSTS_PATH), 'utf8'), { timeout: 60_000, interval: 200 }).toContain('wiki.mycloud.local');
      await expect.poll(() => readFileSync(path.join(node(PW).root, HOSTS_PATH), 'utf8'), { timeout: 60_000, interval: 200 }).toContain('wiki.mycloud.local');
      await expect.poll(() => readFileSync(path.join(node(SU).root, HOSTS_PATH), 'utf8'), { timeout: 60_000, interval: 200 }).toContain('wiki.mycloud.local');
      await expect.poll(() => readFileSync(path.join(node(PR).root, TRAEFIK_PATH), 'utf8'), { timeout: 60_000, interval: 200 }).toContain('wiki.example.com');
      await expect.poll(async () => (await daemon.status()).nodes.filter((n) => names.includes(n.node)).every((n) => n.status === 'active' && n.current), { timeout: 60_000, interval: 200 }).toBe(true);
      expect(readFileSync(prAgent, 'utf8')).toBe(AGENT_SCRIPT);
      expect(readFileSync(rsAgent, 'utf8')).toBe(OLD_AGENT);
    } finally {
      expect((await daemon.stop()).code).toBe(0);
    }
    await writeFile(rsAgent, AGENT_SCRIPT);
  }, CLI_TEST_TIMEOUT);

  it('a daemon without a release signature serves older agents as they are and warns once per node (warm sessions)', async () => {
    const prAgent = installedAgent(PR);
    await writeFile(prAgent, OLD_AGENT);
    const unsigned = path.join(site.dir, 'courier-unsigned-daemon.yaml');
    await writeFile(unsigned, (await readFile(site.configFile, 'utf8')).replace('agent:\n  signature: courier-agent.sig\n', ''));
    const daemon = await startDaemonProcess(unsigned);
    try {
      await expect.poll(async () => (await fetch(`${daemon.url}/readyz`)).status, { timeout: 60_000, interval: 200 }).toBe(200);
      await expect.poll(async () => (await daemon.status()).nodes.find((n) => n.node === 'pr-node')?.status, { timeout: 60_000, interval: 200 }).toBe('active');
      await expect.poll(() => daemon.stderr().includes('AGENT_UNSIGNED'), { timeout: 60_000, interval: 200 }).toBe(true);
      const warnings = daemon.stderr().split('\n').filter((l) => l.includes('AGENT_UNSIGNED') && l.includes('pr-node'));
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toContain('courier agent sign');
      expect(readFileSync(prAgent, 'utf8')).toBe(OLD_AGENT);
    } finally {
      expect((await daemon.stop()).code).toBe(0);
    }
    await writeFile(prAgent, AGENT_SCRIPT);
  }, CLI_TEST_TIMEOUT);

  it('a release signed by a key the nodes do not trust (a new signer before the re-joins) is refused by them; push and daemon keep syncing on the old agent and warn once per node', async () => {
    const pwAgent = installedAgent(PW);
    const prAgent = installedAgent(PR);
    await writeFile(pwAgent, OLD_AGENT);
    await writeFile(prAgent, OLD_AGENT);
    await writeFile(path.join(site.dir, 'other-agent.sig'), await signWith(otherKey, AGENT_SCRIPT));
    const rotated = path.join(site.dir, 'courier-rotated.yaml');
    await writeFile(rotated, (await readFile(site.configFile, 'utf8')).replace('signature: courier-agent.sig', 'signature: other-agent.sig'));
    try {
      // courier check tells before any sync: the release is not by the signer the node pins
      const before = await releaseCheck('pw-node', rotated);
      expect(before).toMatchObject({ ok: false, fix: expect.stringContaining('--agent-signer NEW_SIGNER.pub') });
      expect(before.detail).toContain(`the release is not signed by the signer pinned on the node (${await fingerprintOf(`${releaseKey}.pub`)}): the node refuses it and keeps its old agent`);
      // cold: the exchange converged the node; the refused upgrade after it does not undo that
      const result = await runCourier(rotated, ['--log-level', 'warn', 'push', '--node', 'pw-node', '--json']);
      expect((result.json as { status: string }[])[0], result.stderr).toMatchObject({ status: 'converged' });
      const refusal = result.stderr.split('\n').filter((l) => l.includes('AGENT_UNSIGNED'));
      expect(refusal).toHaveLength(1);
      expect(refusal[0]).toContain('not signed by the release signer pinned');
      expect(refusal[0]).toContain("syncing with the node's old agent");
      expect(readFileSync(pwAgent, 'utf8')).toBe(OLD_AGENT);

      // warm: the session is opened again on the old agent and serves it
      const daemon = await startDaemonProcess(rotated);
      try {
        await expect.poll(async () => (await fetch(`${daemon.url}/readyz`)).status, { timeout: 60_000, interval: 200 }).toBe(200);
        await expect.poll(async () => (await daemon.status()).nodes.filter((n) => n.node === 'pr-node' || n.node === 'pw-node').map((n) => n.status), { timeout: 60_000, interval: 200 }).toEqual(['active', 'active']);
        await addService('forum', { subdomain: 'forum', ip: '100.64.0.14', port: 80, public: true });
        await expect.poll(() => readFileSync(path.join(node(PR).root, TRAEFIK_PATH), 'utf8'), { timeout: 60_000, interval: 200 }).toContain('forum.example.com');
        await expect.poll(() => readFileSync(path.join(node(PW).root, HOSTS_PATH), 'utf8'), { timeout: 60_000, interval: 200 }).toContain('forum.mycloud.local');
        for (const name of ['pr-node', 'pw-node']) {
          expect(daemon.stderr().split('\n').filter((l) => l.includes('AGENT_UNSIGNED') && l.includes(name)), name).toHaveLength(1);
        }
        expect(readFileSync(prAgent, 'utf8')).toBe(OLD_AGENT);
        expect(readFileSync(pwAgent, 'utf8')).toBe(OLD_AGENT);
      } finally {
        expect((await daemon.stop()).code).toBe(0);
      }
    } finally {
      await writeFile(pwAgent, AGENT_SCRIPT);
      await writeFile(prAgent, AGENT_SCRIPT);
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
    expect(existsSync(path.join(u.home, '.courier', 'targets'))).toBe(false);
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
    expect(existsSync(path.join(user(PW).home, '.courier', 'allowed_signers'))).toBe(false);
    expect(readFileSync(path.join(user(PW).home, '.ssh', 'authorized_keys'), 'utf8')).toBe('');
  }, CLI_TEST_TIMEOUT);
});


