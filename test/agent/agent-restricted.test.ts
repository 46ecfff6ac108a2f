/**
 * Restricted mode: the agent as the forced command of a restricted key, installed in
 * `<home>/.courier/` beside its targets file. Only its own commands run; only the targets fixed at
 * join are read or written; nothing the controller sends widens that. Also `upgrade` (signed
 * releases only, verified with ssh-keygen -Y against the pinned signer) and `revoke`.
 * Under every supported shell.
 */
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AGENT_SCRIPT, SHELLS, blobOid, busyboxAppletDir, frames, haves, listTree, makeRoot, put, results, shellEnv, type AgentRun, type Shell } from './run-agent.js';

/** Run the installed agent the way sshd runs a forced command: `sh <agent> restricted [COMMAND]`, with SSH_ORIGINAL_COMMAND. */
function runRestricted(shell: Shell, agent: string, command: string, input: Buffer | string = '', options: { asArgument?: boolean; env?: NodeJS.ProcessEnv } = {}): Promise<AgentRun> {
  const args = [...shell.args, agent, 'restricted', ...(options.asArgument ? [command] : [])];
  const child = spawn(shell.command, args, { env: shellEnv(shell, { ...options.env, ...(options.asArgument ? {} : { SSH_ORIGINAL_COMMAND: command }) }), stdio: ['pipe', 'pipe', 'pipe'] });
  child.stdin.on('error', () => undefined);
  child.stdin.end(input);
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout.on('data', (b: Buffer) => out.push(b));
  child.stderr.on('data', (b: Buffer) => err.push(b));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      const stdout = Buffer.concat(out).toString('utf8');
      resolve({ code, stdout, stderr: Buffer.concat(err).toString('utf8'), lines: stdout.split('\n').filter((l) => l !== '') });
    });
  });
}

describe.each(SHELLS)('courier-agent restricted mode under $name', (shell) => {
  let home: string;
  let root: string;
  let agent: string;
  const hosts = '10.0.0.1\tapp.mycloud.local\n';
  beforeEach(() => {
    home = makeRoot();
    root = join(home, 'root');
    mkdirSync(root);
    mkdirSync(join(home, '.courier'));
    agent = join(home, '.courier', 'courier-agent');
    writeFileSync(agent, AGENT_SCRIPT, { mode: 0o700 });
    writeFileSync(join(home, '.courier', 'targets'), `# fixed at join\nroot ${root}\nallow /etc/hosts\nallow ~/traefik/routes.yml\n`);
  });
  afterEach(() => rmSync(home, { recursive: true, force: true }));
  const run = (command: string, input?: Buffer | string, options?: { asArgument?: boolean }) => runRestricted(shell, agent, command, input, { ...options, env: { HOME: home } });

  it('refuses anything but the agent commands with one line on stderr and nothing on stdout', async () => {
    for (const command of ['id', '', 'sh -c id', 'courier-agent sync --root /', 'courier-agent sync --root=/', 'courier-agent sync; id', 'courier-agent restricted id', 'courier-agent verify --bogus', 'courier-agent upgrade x', 'courier-agent probe --root /', '/bin/sh -i']) {
      const result = await run(command);
      expect(result.code, command).toBe(2);
      expect(result.stdout, command).toBe('');
      expect(result.stderr.trim().split('\n'), command).toHaveLength(1);
      expect(result.stderr, command).toContain('refused: this key runs only courier-agent sync, verify, serve, probe, --version, upgrade or revoke');
    }
    expect(listTree(root)).toEqual([]);
  });

  it('writes an allowed target under the root fixed at join; a put or del elsewhere fails PATH_NOT_ALLOWED and writes nothing', async () => {
    writeFileSync(join(home, 'secret'), 'do not hash me\n');
    const input = frames(
      [
        ['/etc/hosts', 'block', blobOid(hosts)],
        ['/etc/cron.d/evil', 'file', blobOid('x\n')],
        ['/etc//hosts', 'block', blobOid(hosts)],
        ['/etc/./hosts', 'file', blobOid('x\n')],
        [join(home, 'secret'), 'file', '-'],
      ],
      [put('/etc/hosts', 'block', hosts), put('/etc/cron.d/evil', 'file', 'x\n'), put('/etc//hosts', 'block', hosts), put('/etc/./hosts', 'file', 'x\n'), { del: join(home, 'secret'), kind: 'file' }],
    );
    const result = await run('courier-agent sync --remove-legacy', input);
    expect(result.code).toBe(1);
    // outside the targets nothing is even read: the secret's hash does not leak
    expect(haves(result).map((h) => h[2])).toEqual(['-', '-', '-', '-', '-']);
    const lines = results(result);
    expect(lines[0]).toBe(`ok /etc/hosts ${blobOid(hosts)}`);
    for (const [i, p] of ['/etc/cron.d/evil', '/etc//hosts', '/etc/./hosts', join(home, 'secret')].entries()) expect(lines[i + 1]).toMatch(new RegExp(`^fail ${p.replace(/[./]/g, '\\$&')} PATH_NOT_ALLOWED .*/etc/hosts`));
    expect(result.lines.at(-1)).toBe('done 1 4');
    expect(listTree(root)).toEqual(['etc', 'etc/hosts']);
    expect(readFileSync(join(home, 'secret'), 'utf8')).toBe('do not hash me\n');
    expect(readdirCourier(home)).toEqual(['courier-agent', 'targets']);
  });

  it('a ~/ target expands to the login home, under the root', async () => {
    const yml = 'http: {}\n';
    const result = await run('courier-agent sync', frames([['~/traefik/routes.yml', 'file', blobOid(yml)]], [put('~/traefik/routes.yml', 'file', yml)]));
    expect(results(result)).toEqual([`ok ~/traefik/routes.yml ${blobOid(yml)}`]);
    expect(readFileSync(join(root, home, 'traefik/routes.yml'), 'utf8')).toBe(yml);
  });

  it('a symlink at an allowed target is not followed', async () => {
    mkdirSync(join(root, 'etc'));
    writeFileSync(join(home, 'elsewhere'), 'untouched\n');
    symlinkSync(join(home, 'elsewhere'), join(root, 'etc/hosts'));
    const result = await run('courier-agent sync', frames([['/etc/hosts', 'block', blobOid(hosts)]], [put('/etc/hosts', 'block', hosts)]));
    expect(results(result)[0]).toMatch(/^fail \/etc\/hosts WRITE_FAILED .*symbolic link/);
    expect(readFileSync(join(home, 'elsewhere'), 'utf8')).toBe('untouched\n');
  });

  it('takes the command as an argument (the sudo form of the forced command) with the same checks', async () => {
    expect((await run('courier-agent --version', '', { asArgument: true })).stdout).toMatch(/^courier-agent \d/);
    const refused = await run('id', '', { asArgument: true });
    expect(refused.code).toBe(2);
    expect(refused.stdout).toBe('');
  });

  it('probe judges the targets under the root fixed at join and says whether the key may upgrade the agent', async () => {
    const version = /^AGENT_VERSION=(\S+)$/m.exec(AGENT_SCRIPT)![1]!;
    const off = await run('courier-agent probe /etc/hosts /etc/passwd');
    expect(off.lines[0]).toBe(`courier-agent ${version}`);
    expect(off.lines).toContain('target /etc/hosts ok absent');
    expect(off.lines.find((l) => l.startsWith('target /etc/passwd '))).toMatch(/^target \/etc\/passwd fail PATH_NOT_ALLOWED /);
    expect(off.lines.at(-1)).toBe('upgrades off');
    writeFileSync(join(home, '.courier', 'targets'), `root ${root}\nallow /etc/hosts\nupgrade signed\n`);
    expect((await run('courier-agent probe /etc/hosts')).lines.at(-1)).toBe('upgrades signed');
    // with the release signer pinned: its public key, for courier check to verify the release against
    const key = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKpXn2QOmJfVIvbrUxh0qBiU9dBpGkP0XcTyl3H8yPjq';
    writeFileSync(join(home, '.courier', 'allowed_signers'), `courier-release namespaces="courier-agent" ${key}\n# another line\n`);
    expect((await run('courier-agent probe /etc/hosts')).lines.slice(-2)).toEqual(['upgrades signed', `signer ${key}`]);
    expect(listTree(root)).toEqual([]);
  });

  it('verify reads only the targets; without a targets file nothing runs', async () => {
    const verify = await run('courier-agent verify', frames([['/etc/hosts', 'block', blobOid(hosts)]]));
    expect(haves(verify)).toEqual([['/etc/hosts', 'block', '-']]);
    rmSync(join(home, '.courier', 'targets'));
    const missing = await run('courier-agent sync', frames([['/etc/hosts', 'block', blobOid(hosts)]]));
    expect(missing.code).toBe(2);
    expect(missing.stdout).toMatch(/^error RESTRICTED no targets file/);
  });

  describe('signed upgrades', () => {
    const next = AGENT_SCRIPT.replace(/^AGENT_VERSION=.*$/m, 'AGENT_VERSION=9.9.9');
    const upgrade = (script: string, sig: Buffer, env: NodeJS.ProcessEnv = {}) =>
      runRestricted(shell, agent, `courier-agent upgrade ${blobOid(script)} ${Buffer.byteLength(script)} ${sig.length}`, Buffer.concat([Buffer.from(script), sig]), { env: { HOME: home, ...withSshKeygen(shell), ...env } });
    beforeEach(() => {
      writeFileSync(join(home, '.courier', 'targets'), `root ${root}\nallow /etc/hosts\nupgrade signed\n`);
      writeFileSync(join(home, '.courier', 'allowed_signers'), `courier-release namespaces="courier-agent" ${release.publicKey}\n`);
    });

    it('replaces the agent atomically once the oid matches, the release signer signed it and sh parses it, keeping its mode', async () => {
      const ok = await upgrade(next, release.sign(next));
      expect(ok.lines, ok.stderr).toEqual([`upgraded ${blobOid(next)}`]);
      expect(readFileSync(agent, 'utf8')).toBe(next);
      expect(statSync(agent).mode & 0o777).toBe(0o700);
      expect((await run('courier-agent --version')).stdout.trim()).toBe('courier-agent 9.9.9');

      const wrongOid = await runRestricted(shell, agent, `courier-agent upgrade ${blobOid('other')} ${Buffer.byteLength(AGENT_SCRIPT)} 5`, `${AGENT_SCRIPT}12345`, { env: { HOME: home, ...withSshKeygen(shell) } });
      expect(wrongOid.code).toBe(2);
      expect(wrongOid.stdout).toMatch(/^error AGENT_UPGRADE received \d+ bytes hashing to/);
      const notSh = 'if then fi (\n';
      const broken = await upgrade(notSh, release.sign(notSh));
      expect(broken.stdout).toMatch(/^error AGENT_UPGRADE the new agent is not a sh script/);
      const sig = release.sign(next);
      const short = await runRestricted(shell, agent, `courier-agent upgrade ${blobOid(next)} ${Buffer.byteLength(next)} ${sig.length}`, Buffer.concat([Buffer.from(next), sig.subarray(0, 10)]), { env: { HOME: home, ...withSshKeygen(shell) } });
      expect(short.stdout).toMatch(/^error AGENT_PROTOCOL stream ended inside the signature/);
      expect(readFileSync(agent, 'utf8')).toBe(next);
      expect(readdirCourier(home)).toEqual(['allowed_signers', 'courier-agent', 'targets']);
    });

    it('refuses an upgrade signed by another key, or with no real signature: the agent stays byte for byte, no temp file is left', async () => {
      for (const sig of [other.sign(next), Buffer.from('not a signature\n'), release.sign(`${next}# one byte more\n`)]) {
        const refused = await upgrade(next, sig);
        expect(refused.code).toBe(2);
        expect(refused.lines).toHaveLength(1);
        expect(refused.stdout, JSON.stringify(refused.stdout)).toMatch(/^error AGENT_UNSIGNED the new agent is not signed by the release signer pinned in .*allowed_signers .*nothing was replaced/);
        expect(readFileSync(agent)).toEqual(Buffer.from(AGENT_SCRIPT));
        expect(readdirCourier(home)).toEqual(['allowed_signers', 'courier-agent', 'targets']);
      }
    });

    it('refuses when no signer is pinned, and names ssh-keygen when the node has none', async () => {
      rmSync(join(home, '.courier', 'allowed_signers'));
      const unpinned = await upgrade(next, release.sign(next));
      expect(unpinned.stdout).toMatch(/^error AGENT_UNSIGNED no release signer is pinned on this node/);
      writeFileSync(join(home, '.courier', 'allowed_signers'), `courier-release namespaces="courier-agent" ${release.publicKey}\n`);
      const noKeygen = await upgrade(next, release.sign(next), { PATH: toolsWithout('ssh-keygen') });
      expect(noKeygen.code).toBe(2);
      expect(noKeygen.stdout).toMatch(/^error AGENT_UPGRADE verifying the release needs OpenSSH >= 8\.1's ssh-keygen/);
      expect(readFileSync(agent, 'utf8')).toBe(AGENT_SCRIPT);
      expect(readdirCourier(home)).toEqual(['allowed_signers', 'courier-agent', 'targets']);
    });

    it('refuses an older or equal signed release (no rollback to an old signed agent)', async () => {
      const current = /^AGENT_VERSION=(.*)$/m.exec(AGENT_SCRIPT)![1]!;
      for (const version of ['0.0.1', current, '']) {
        const older = AGENT_SCRIPT.replace(/^AGENT_VERSION=.*$/m, version ? `AGENT_VERSION=${version}` : '');
        const refused = await upgrade(older, release.sign(older));
        expect(refused.code, version).toBe(2);
        const line = `error AGENT_DOWNGRADE the new agent (${version || 'no AGENT_VERSION'}) is not newer than this one (${current}); nothing was replaced`;
        expect(refused.lines, version).toEqual([line]);
      }
      const patch = AGENT_SCRIPT.replace(/^AGENT_VERSION=.*$/m, `AGENT_VERSION=${current}.10`);
      expect((await upgrade(patch, release.sign(patch))).lines).toEqual([`upgraded ${blobOid(patch)}`]);
      const back = AGENT_SCRIPT.replace(/^AGENT_VERSION=.*$/m, `AGENT_VERSION=${current}.9`);
      expect((await upgrade(back, release.sign(back))).stdout).toMatch(/^error AGENT_DOWNGRADE /);
      expect(readFileSync(agent, 'utf8')).toBe(patch);
    });

    it('the old unsigned 4-word form is refused with one clear line, whatever the targets say', async () => {
      const old = await run(`courier-agent upgrade ${blobOid(next)} ${Buffer.byteLength(next)}`, next);
      expect(old.code).toBe(2);
      expect(old.lines).toEqual([expect.stringMatching(/^error AGENT_UNSIGNED an unsigned upgrade \(courier-agent upgrade OID SIZE\) is refused/)]);
      expect(readFileSync(agent, 'utf8')).toBe(AGENT_SCRIPT);
    });
  });

  it('a node joined without --agent-signer (upgrade no, or no upgrade line) refuses any upgrade, signed or not', async () => {
    const next = AGENT_SCRIPT.replace(/^AGENT_VERSION=.*$/m, 'AGENT_VERSION=9.9.9');
    writeFileSync(join(home, '.courier', 'allowed_signers'), `courier-release namespaces="courier-agent" ${release.publicKey}\n`);
    for (const targets of [`root ${root}\nallow /etc/hosts\nupgrade no\n`, `root ${root}\nallow /etc/hosts\n`]) {
      writeFileSync(join(home, '.courier', 'targets'), targets);
      const sig = release.sign(next);
      const refused = await runRestricted(shell, agent, `courier-agent upgrade ${blobOid(next)} ${Buffer.byteLength(next)} ${sig.length}`, Buffer.concat([Buffer.from(next), sig]), { env: { HOME: home, ...withSshKeygen(shell) } });
      expect(refused.code).toBe(2);
      expect(refused.stdout).toMatch(/^error UPGRADE_OFF .*--agent-signer/);
      expect(readFileSync(agent, 'utf8')).toBe(AGENT_SCRIPT);
    }
  });

  it('revoke removes only courier restricted entries, byte for byte otherwise, then the agent and its targets', async () => {
    mkdirSync(join(home, '.ssh'));
    const keys = join(home, '.ssh', 'authorized_keys');
    const mine = `restrict,command="/bin/sh ${home}/.courier/courier-agent restricted" ssh-ed25519 AAAAC3Nza courier-control-plane\n`;
    writeFileSync(keys, `ssh-rsa AAAAB3 admin\r\n${mine}# keep me\nssh-ed25519 AAAAC3 last-without-lf`);
    chmodSync(keys, 0o600);
    const result = await run('courier-agent revoke');
    expect(result.lines, result.stderr).toEqual(['revoked 1']);
    expect(readFileSync(keys, 'utf8')).toBe('ssh-rsa AAAAB3 admin\r\n# keep me\nssh-ed25519 AAAAC3 last-without-lf');
    expect(statSync(keys).mode & 0o777).toBe(0o600);
    expect(existsSync(agent)).toBe(false);
    expect(existsSync(join(home, '.courier', 'targets'))).toBe(false);
    expect(existsSync(join(home, '.courier', 'allowed_signers'))).toBe(false);
  });
});

/** A release key made with ssh-keygen in a temp dir; `sign` is exactly `ssh-keygen -Y sign -f KEY -n courier-agent FILE`. */
function makeReleaseKey(dir: string, name: string) {
  const key = join(dir, name);
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', name, '-f', key]);
  const publicKey = readFileSync(`${key}.pub`, 'utf8').split(' ').slice(0, 2).join(' ');
  let n = 0;
  return {
    publicKey,
    sign(script: string): Buffer {
      const file = join(dir, `${name}-${++n}`);
      writeFileSync(file, script);
      execFileSync('ssh-keygen', ['-Y', 'sign', '-f', key, '-n', 'courier-agent', file], { stdio: 'ignore' });
      return readFileSync(`${file}.sig`);
    },
  };
}

const keyDir = mkdtempSync(join(tmpdir(), 'courier-release-'));
const release = makeReleaseKey(keyDir, 'release');
const other = makeReleaseKey(keyDir, 'other');
afterAll(() => rmSync(keyDir, { recursive: true, force: true }));

/** busybox runs with its applets only, plus OpenSSH's ssh-keygen (a node with busybox and OpenSSH, as on Alpine). */
function withSshKeygen(shell: Shell): NodeJS.ProcessEnv {
  if (!shell.appletsOnly) return {};
  const dir = join(keyDir, 'ssh-keygen-bin');
  if (!existsSync(dir)) {
    mkdirSync(dir);
    symlinkSync(execFileSync('sh', ['-c', 'command -v ssh-keygen'], { encoding: 'utf8' }).trim(), join(dir, 'ssh-keygen'));
  }
  return { PATH: `${busyboxAppletDir()}:${dir}` };
}

/** A PATH with the system's tools the agent needs, but `tool`. */
function toolsWithout(tool: string): string {
  const dir = join(keyDir, `without-${tool}`);
  if (!existsSync(dir)) {
    mkdirSync(dir);
    for (const t of ['cat', 'head', 'tail', 'mv', 'cp', 'chmod', 'mkdir', 'rm', 'wc', 'awk', 'dd', 'tee', 'sha1sum', 'sh', 'dash', 'bash', 'rmdir', 'sync']) {
      const found = execFileSync('sh', ['-c', `command -v ${t} || true`], { encoding: 'utf8' }).trim();
      if (found && t !== tool) symlinkSync(found, join(dir, t));
    }
  }
  return dir;
}

function readdirCourier(home: string): string[] {
  return listTree(join(home, '.courier'));
}
