/** Site set-up commands: init, demo, nodes trust, agent. */
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import readline from 'node:readline/promises';
import { CourierError } from '../errors.js';
import { openSite } from '../pipeline/open-site.js';
import { readSource } from '../sources/read-source.js';
import { parseRegistry } from '../registry/parse-registry.js';
import { nodeKey } from '../registry/node-key.js';
import { appendKnownHost, checkHostKey, formatKnownHostsLine, readKnownHosts } from '../transport/known-hosts.js';
import { fetchHostKey } from '../transport/ssh-transport.js';
import { packagePath } from '../package-root.js';
import type { CommandContext } from './run-command.js';
import { exampleConfig, exampleRegistry } from './example-site.js';

/** `courier init [DIR]`: write a commented courier.yaml and an example registry; never overwrites. */
export async function initCommand(ctx: CommandContext, dir = '.'): Promise<number> {
  const target = path.resolve(dir);
  const configFile = path.join(target, 'courier.yaml');
  if (existsSync(configFile)) throw new CourierError('USAGE', `${configFile} already exists; init never overwrites a site`);
  await writeSite(target, {
    config: exampleConfig({ publicDomain: 'example.com' }),
    registry: exampleRegistry({ addresses: { 'edge-eu': '100.64.1.1', 'edge-us': '100.64.1.2', 'laptop-1': '100.64.2.1', 'worker-1': '100.64.3.1' } }),
  });
  ctx.out(`wrote ${configFile} and ${path.join(target, 'registry')}/`);
  ctx.out(`next: edit the registry, then \`courier render --config ${path.relative(process.cwd(), configFile) || 'courier.yaml'}\``);
  return 0;
}

/** Write courier.yaml and registry/ documents into `dir`. */
export async function writeSite(dir: string, site: { config: string; registry: Record<string, string> }): Promise<void> {
  await mkdir(path.join(dir, 'registry'), { recursive: true });
  await writeFile(path.join(dir, 'courier.yaml'), site.config, { flag: 'wx' });
  for (const [name, text] of Object.entries(site.registry)) await writeFile(path.join(dir, 'registry', name), text);
}

/** `courier nodes trust NODE`: show the node's host key fingerprint, ask, and record it in ssh.knownHosts. */
export async function trustCommand(ctx: CommandContext, name: string, opts: { yes?: boolean }): Promise<number> {
  const site = await openSite(ctx.options.config, ctx.logger);
  const registry = parseRegistry(await readSource(site.config), { publicDomain: site.config.traefik.publicDomain });
  // by store key, as --node: any spelling of a hostname-style name finds its node
  const node = registry.nodes.find((n) => nodeKey(n.name) === nodeKey(name));
  if (!node) throw new CourierError('NODE_NOT_FOUND', `node ${name} is not in the node registry (see \`courier nodes list\`)`, { node: name });
  if (node.transport === 'local') {
    ctx.out(`${node.name} uses the local transport: no host key to trust`);
    return 0;
  }
  const key = await fetchHostKey(node, { connectTimeout: site.config.ssh.connectTimeout });
  const known = await readKnownHosts(site.config.ssh.knownHosts);
  const check = checkHostKey(known, node.ip, node.sshPort, key.keyBlob);
  if (check.result === 'match') {
    ctx.out(`${node.name} (${node.ip}:${node.sshPort}) is already trusted: ${key.keyType} ${key.fingerprint}`);
    return 0;
  }
  if (check.result === 'mismatch') {
    throw new CourierError(
      'HOST_KEY_MISMATCH',
      `${node.name} (${node.ip}:${node.sshPort}) now presents ${key.keyType} ${key.fingerprint}, which differs from ${site.config.ssh.knownHosts}; if the node was reinstalled, remove its old line there first`,
      { node: node.name, fingerprint: key.fingerprint },
    );
  }
  ctx.out(`${node.name} (${node.ip}:${node.sshPort}) presents ${key.keyType} key ${key.fingerprint}`);
  if (!opts.yes) {
    if (!process.stdin.isTTY) throw new CourierError('USAGE', 'not a terminal: compare the fingerprint with the node, then run again with --yes');
    const rl = readline.createInterface({ input: process.stdin, output: process.stderr });
    const answer = await rl.question('Trust this key? Compare it with `ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub` on the node. [y/N] ');
    rl.close();
    if (!/^y(es)?$/i.test(answer.trim())) {
      ctx.out('not trusted');
      return 1;
    }
  }
  await appendKnownHost(site.config.ssh.knownHosts, formatKnownHostsLine(node.ip, node.sshPort, key.keyBlob));
  ctx.out(`trusted: recorded in ${site.config.ssh.knownHosts}`);
  return 0;
}

/** `courier agent`: print the node agent script (to install it on a node instead of sending it inline). */
export async function agentCommand(ctx: CommandContext): Promise<number> {
  ctx.out(await readFile(packagePath('node-agent', 'courier-agent'), 'utf8'));
  return 0;
}
