/** `courier check`: is the site ready to push? Config, registry, render, SSH key and host keys, without writing anything. */
import { access } from 'node:fs/promises';
import { loadConfig } from '../config/load-config.js';
import { CourierError } from '../errors.js';
import { renderSettings } from '../pipeline/open-site.js';
import { parseRegistry } from '../registry/parse-registry.js';
import { loadTemplates } from '../render/load-templates.js';
import { renderRegistry } from '../render/render-registry.js';
import { readSource } from '../sources/read-source.js';
import { hostMatches, readKnownHosts } from '../transport/known-hosts.js';
import type { CommandContext } from './run-command.js';

/**
 * `courier check`: load the config, read and validate the registry, render every node (Traefik
 * files schema-checked) and look for the SSH key and each node's host key; commits nothing, takes
 * no lock, connects to no node. Exit 0 when all is ready, 2 for a bad config, registry or missing
 * key, 1 when some node has no trusted host key yet (listed with the command that trusts it).
 */
export async function checkCommand(ctx: CommandContext): Promise<number> {
  const config = await loadConfig(ctx.options.config);
  const registry = parseRegistry(await readSource(config), { publicDomain: config.traefik.publicDomain });
  const rendered = renderRegistry(registry, renderSettings(config), await loadTemplates());
  if (config.ssh.identity !== undefined) {
    await access(config.ssh.identity).catch((err: unknown) => {
      throw new CourierError('SSH_KEY_MISSING', `ssh.identity ${config.ssh.identity} cannot be read; set ssh.identity to the private key courier uses for the nodes`, { identity: config.ssh.identity }, { cause: err });
    });
  }
  const known = await readKnownHosts(config.ssh.knownHosts);
  const untrusted = registry.nodes.filter((n) => n.transport === 'ssh' && !known.some((e) => e.marker === undefined && hostMatches(e.names, n.ip, n.sshPort)));
  const result = {
    registryValid: true,
    nodes: rendered.nodes.length,
    services: registry.services.length,
    clusterDomain: registry.clusterDomain,
    identity: config.ssh.identity ?? 'ssh-agent',
    untrusted: untrusted.map((n) => n.name),
  };
  if (ctx.options.json) {
    ctx.out(JSON.stringify(result, null, 2));
  } else {
    ctx.out(`registry valid: ${result.services} services, ${result.nodes} nodes rendered, cluster domain ${result.clusterDomain}`);
    ctx.out(`ssh identity: ${result.identity}`);
    if (untrusted.length === 0) ctx.out(`host keys: every node is trusted in ${config.ssh.knownHosts}`);
    for (const node of untrusted) ctx.out(`untrusted: ${node.name} (${node.ip}:${node.sshPort}): run \`courier nodes trust ${node.name} --config ${ctx.options.config}\``);
  }
  return untrusted.length === 0 ? 0 : 1;
}
