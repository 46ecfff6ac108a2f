/** Read-side commands that load the registry: render, dns, nodes list. */
import { openSite } from '../pipeline/open-site.js';
import { renderRevision } from '../pipeline/render-revision.js';
import { readSource } from '../sources/read-source.js';
import { parseRegistry } from '../registry/parse-registry.js';
import { renderDnsRecords } from '../render/render-dns-records.js';
import { withStateLock } from '../status/state-lock.js';
import type { CommandContext } from './run-command.js';
import { formatTable } from './format-table.js';

/** `courier render`: load, validate, render, commit; print the revision and what changed. */
export async function renderCommand(ctx: CommandContext): Promise<number> {
  const site = await openSite(ctx.options.config, ctx.logger);
  const { commit } = await withStateLock(site.config.state.lockFile, 'courier render', () => renderRevision(site, { trigger: 'manual render' }));
  if (ctx.options.json) {
    ctx.out(JSON.stringify({ revision: commit.revision, committed: commit.committed, parent: commit.parent ?? null, changes: commit.changes }, null, 2));
    return 0;
  }
  if (!commit.committed) {
    ctx.out(`revision ${commit.revision.slice(0, 12)}: unchanged`);
    return 0;
  }
  ctx.out(`revision ${commit.revision.slice(0, 12)}: ${commit.changes.length} node(s) changed`);
  for (const c of commit.changes) ctx.out(`  ${c.node} (${c.status}): ${c.artifacts.map((a) => `${a.name} ${a.change}`).join(', ')}`);
  return 0;
}

/** `courier dns`: every public host name with the VPS public IP(s) its A record should point at. */
export async function dnsCommand(ctx: CommandContext): Promise<number> {
  const site = await openSite(ctx.options.config, ctx.logger);
  const registry = parseRegistry(await readSource(site.config), { publicDomain: site.config.traefik.publicDomain });
  const records = renderDnsRecords(registry, site.settings);
  if (ctx.options.json) {
    ctx.out(JSON.stringify(records, null, 2));
    return 0;
  }
  if (records.length === 0) ctx.out('no public host names');
  else ctx.out(formatTable(['HOST', 'TYPE', 'POINTS AT', 'SERVICE', 'STRATEGY'], records.map((r) => [r.host, r.type, r.values.join(', '), r.service, r.strategy])));
  return 0;
}

/** `courier nodes list`: nodes by role with address and user. */
export async function nodesListCommand(ctx: CommandContext): Promise<number> {
  const site = await openSite(ctx.options.config, ctx.logger);
  const registry = parseRegistry(await readSource(site.config), { publicDomain: site.config.traefik.publicDomain });
  if (ctx.options.json) {
    ctx.out(JSON.stringify(registry.nodes, null, 2));
    return 0;
  }
  ctx.out(
    formatTable(
      ['ROLE', 'NAME', 'ADDRESS', 'USER', 'TRANSPORT', 'RESTRICTED'],
      registry.nodes.map((n) => [
        n.role,
        n.name,
        n.transport === 'ssh' ? `${n.ip}:${n.sshPort}` : n.ip,
        n.sshUser + (n.sudo ? ' (sudo)' : ''),
        n.transport + (n.root ? ` root=${n.root}` : ''),
        n.transport === 'local' ? '-' : n.restricted ? 'yes' : 'no (full shell)',
      ]),
    ),
  );
  const open = registry.nodes.filter((n) => n.transport === 'ssh' && !n.restricted).map((n) => n.name);
  if (open.length > 0) ctx.out(`warning: the control-plane key has a full shell on ${open.join(', ')}; \`courier nodes restrict NAME\` limits it to the agent`);
  return 0;
}
