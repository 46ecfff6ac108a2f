import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BOOTSTRAP_MAX_BYTES, bootstrapCommand, bootstrapStub } from './bootstrap-command.js';
import { agentPath, forcedCommand, restrictedEntry, sudoersDropIn, targetPaths, targetsFile } from './restricted-entry.js';
import { allowedSignersLine } from './agent-release.js';
import { buildRestrictedCommand } from '../transport/open-agent-channel.js';
import { busyboxAppletDir } from '../../test/agent/run-agent.js';

const oid = (text: string) => createHash('sha1').update(`blob ${Buffer.byteLength(text)}\0`).update(text).digest('hex');
const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMXUdC9FFec6xM+GkhuSKMMUJMg6oeQAVBf6gPSY08CU';

describe('restricted entry', () => {
  it('forces the installed agent, quoting the sudo form for authorized_keys', () => {
    expect(restrictedEntry('/home/alice', false, KEY)).toBe(`restrict,command="/bin/sh /home/alice/.courier/courier-agent restricted" ${KEY} courier-control-plane`);
    expect(restrictedEntry('/home/alice/', true, KEY)).toBe(`restrict,command="sudo -n /bin/sh /home/alice/.courier/courier-agent restricted \\"$SSH_ORIGINAL_COMMAND\\"" ${KEY} courier-control-plane`);
    expect(forcedCommand('/root', false)).toBe('/bin/sh /root/.courier/courier-agent restricted');
  });

  it('refuses a home no file format can quote', () => {
    for (const home of ['/home/a b', '/home/"x', 'relative', '/home/a,b', '/home/../etc', '/home/a\nb']) expect(() => agentPath(home), home).toThrow(/JOIN_FAILED|characters/);
  });

  it('targets file and sudoers drop-in', () => {
    expect(targetsFile(['/etc/hosts'], '/srv/n1', 'no')).toBe('# courier: the only files the control-plane key may write on this node (fixed at join)\nroot /srv/n1\nallow /etc/hosts\nupgrade no\n');
    expect(targetsFile(['/etc/hosts'], undefined, 'signed')).toMatch(/\nallow \/etc\/hosts\nupgrade signed\n$/);
    expect(sudoersDropIn('alice', '/home/alice')).toContain('alice ALL=(root) NOPASSWD: COURIER_AGENT_ALICE\n');
    expect(() => sudoersDropIn('al ice', '/home/alice')).toThrow();
  });

  it('refuses targets that reach ~/.ssh or ~/.courier (a sync could rewrite the keys, the targets or the signer), naming the key and the fix', () => {
    const settings = (hosts: string, traefik = '~/traefik/routes.yml') => ({ hosts: { path: hosts }, traefik: { path: traefik, entryPoints: { web: 'web', websecure: 'websecure' }, certResolver: 'le' } });
    for (const [role, hosts, traefik, root] of [
      ['worker', '~/.courier/allowed_signers', undefined, undefined],
      ['worker', '~/.ssh/authorized_keys', undefined, undefined],
      ['worker', '/home/alice/.ssh/authorized_keys', undefined, undefined],
      ['worker', '/alice/.courier/targets', undefined, '/home'],
      ['vps', '/etc/hosts', '~/.courier/courier-agent', undefined],
      ['worker', '/hosts', undefined, '/home/alice/.ssh'],
    ] as const) {
      const s = settings(hosts, traefik);
      expect(() => targetPaths(role, s as never, root), `${hosts} ${traefik} ${root}`).toThrow(role === 'vps' ? /CONFIG_INVALID|traefik\.path: .*outside ~\/\.ssh and ~\/\.courier/ : /hosts\.path: target path .* reaches a \.(ssh|courier) directory.*set hosts\.path in courier\.yaml/);
    }
    expect(targetPaths('worker', settings('/etc/hosts') as never, '/srv/n1')).toEqual(['/etc/hosts']);
    expect(targetPaths('vps', settings('/etc/hosts', '~/traefik/.courier-ish/routes.yml') as never)).toEqual(['~/traefik/.courier-ish/routes.yml']);
  });

  it('the command a restricted node gets is the agent words without --root', () => {
    expect(buildRestrictedCommand(['sync', '--root', '/srv/n1', '--remove-legacy'])).toBe('courier-agent sync --remove-legacy');
  });
});

describe('--print bootstrap', () => {
  const input = {
    publicKey: KEY,
    targets: targetsFile(['~/traefik/config/mynodeone-routes.yml'], '/srv/nodes/edge-with-a-long-name', 'signed'),
    signers: allowedSignersLine(KEY),
    agentOid: 'f'.repeat(40),
    ip: '100.64.100.200',
    port: 65535,
    nextCommand: ['courier', '--config', '/etc/courier/courier.yaml', 'nodes', 'join', 'vps', '100.64.100.200', 'edge-with-a-long-name', 'ubuntu', '--port', '65535', '--root', '/srv/nodes/edge-with-a-long-name', '--public-ip', '203.0.113.200'],
  };

  it('is one line well under 2 KB that sh parses, with the release signer pinned', () => {
    const command = bootstrapCommand(input);
    expect(command).toContain('>~/.courier/allowed_signers');
    expect(bootstrapCommand({ ...input, signers: undefined })).toContain('rm -f ~/.courier/allowed_signers');
    expect(command).not.toContain('\n');
    expect(Buffer.byteLength(command)).toBeLessThan(BOOTSTRAP_MAX_BYTES);
    expect(spawnSync('dash', ['-n', '-c', command]).status).toBe(0);
  });

  it.each([['dash'], ['busybox sh']])('the stub under %s accepts only the pinned agent', (shell) => {
    const dir = mkdtempSync(join(tmpdir(), 'courier-stub-'));
    try {
      const agent = '#!/bin/sh\necho real agent\n';
      const stub = join(dir, 'courier-agent');
      writeFileSync(stub, bootstrapStub(oid(agent)));
      const [cmd, ...pre] = shell === 'dash' ? ['dash'] : ['/usr/bin/busybox', 'sh'];
      const run = (command: string, stdin = '') => spawnSync(cmd!, [...pre, stub, 'restricted'], { input: stdin, env: { ...process.env, ...(shell === 'dash' ? {} : { PATH: busyboxAppletDir() }), SSH_ORIGINAL_COMMAND: command }, encoding: 'utf8' });
      expect(run('courier-agent --version').stdout).toBe('courier-agent 0\n');
      const shell1 = run('id');
      expect(shell1.status).toBe(2);
      expect(shell1.stdout).toBe('');
      const other = '#!/bin/sh\necho evil\n';
      expect(run(`courier-agent upgrade ${oid(other)} ${other.length}`, other).status).toBe(2);
      expect(run(`courier-agent upgrade ${oid(agent)} ${other.length}`, other).stdout).toMatch(/^error AGENT_UPGRADE/);
      expect(readFileSync(stub, 'utf8')).toBe(bootstrapStub(oid(agent)));
      expect(run(`courier-agent upgrade ${oid(agent)} ${agent.length}`, agent).stdout).toBe(`upgraded ${oid(agent)}\n`);
      expect(readFileSync(stub, 'utf8')).toBe(agent);
      expect(execFileSync('sh', [stub], { encoding: 'utf8' })).toBe('real agent\n');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
