/**
 * Kit for the join tests: a site whose registry starts without nodes, real users on an sshd fleet
 * with password authentication and the default ~/.ssh/authorized_keys, and the real OpenSSH `ssh`
 * client logging in with the control-plane key.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { SshdFleet } from '../support/sshd-fleet.js';
import { runProcess, type ProcessRun } from '../../controller/run-process.js';

export { runProcess, type ProcessRun };

const run = promisify(execFile);

/** A site for joins: files source, the fleet's client key as the control-plane key, an empty known_hosts. */
export interface JoinSite {
  dir: string;
  configFile: string;
  knownHostsFile: string;
  registryDir: string;
}

/** Where artifacts land below a node's root. */
export const HOSTS_PATH = '/etc/hosts';
export const TRAEFIK_PATH = '/srv/traefik/routes.yml';

/** Create the site (services so both roles render something). */
export async function createJoinSite(fleet: SshdFleet): Promise<JoinSite> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'courier-join-site-'));
  const registryDir = path.join(dir, 'registry');
  await mkdir(registryDir);
  await writeFile(
    path.join(registryDir, 'services.json'),
    JSON.stringify({ photos: { subdomain: 'photos', ip: '100.64.0.10', port: 2283, public: true }, grafana: { subdomain: 'grafana', ip: '100.64.0.11', port: 3000, public: false } }, null, 2),
  );
  await writeFile(path.join(registryDir, 'cluster-domain'), 'mycloud\n');
  const knownHostsFile = path.join(dir, 'known_hosts');
  await writeFile(knownHostsFile, '', { mode: 0o600 });
  const configFile = path.join(dir, 'courier.yaml');
  await writeFile(
    configFile,
    [
      'source:',
      '  type: files',
      '  path: registry',
      'state:',
      '  dir: state',
      'traefik:',
      `  path: ${TRAEFIK_PATH}`,
      '  publicDomain: example.com',
      'hosts:',
      `  path: ${HOSTS_PATH}`,
      'ssh:',
      `  identity: ${fleet.clientKeyPath}`,
      '  knownHosts: known_hosts',
      '  connectTimeout: 20s',
      '  sessionTimeout: 60s',
      'reconcile:',
      '  retries: 0',
      '  retryDelay: 100ms',
      '  debounce: 100ms',
      '  errorAfter: 50',
      'http:',
      '  listen: 127.0.0.1:0',
      'log:',
      '  level: warn',
      '',
    ].join('\n'),
  );
  return { dir, configFile, knownHostsFile, registryDir };
}

/** The SHA256 fingerprint of a public key file, as ssh-keygen -lf prints it. */
export async function fingerprintOf(pubFile: string): Promise<string> {
  const { stdout } = await run('ssh-keygen', ['-lf', pubFile]);
  return stdout.split(' ')[1]!;
}

/** What a process printed and how it ended. */
/** The OpenSSH client options: only this key, only this known_hosts, never a question or the user's config. */
export function sshArgs(fleet: SshdFleet, site: JoinSite, i: number, user: string): string[] {
  const node = fleet.nodes[i]!;
  return [
    '-F', '/dev/null',
    '-i', fleet.clientKeyPath,
    '-o', 'IdentitiesOnly=yes',
    '-o', 'IdentityAgent=none',
    '-o', `UserKnownHostsFile=${site.knownHostsFile}`,
    '-o', 'StrictHostKeyChecking=yes',
    '-o', 'BatchMode=yes',
    '-o', 'LogLevel=ERROR',
    '-p', String(node.port),
    `${user}@${node.address}`,
  ];
}

/** `ssh node <command...>` with the control-plane key. */
export function sshWithKey(fleet: SshdFleet, site: JoinSite, i: number, user: string, command: string[], input = ''): Promise<ProcessRun> {
  return runProcess('ssh', [...sshArgs(fleet, site, i, user), ...command], input);
}
