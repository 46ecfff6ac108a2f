/**
 * Registry editing commands, after MyNodeOne's scripts: nodes add/remove (node-registry-manager.sh
 * register), domains add/remove and vps add/remove (multi-domain-registry.sh register-domain,
 * register-vps and their unregister twins), routing set/remove (configure-routing), services
 * set/remove (service-registry.sh register). Each edits one document of the configured source and
 * writes it only when the whole registry still validates.
 */
import os from 'node:os';
import { loadConfig } from '../config/load-config.js';
import { CourierError } from '../errors.js';
import type { DocumentName, NodeRole, Routing } from '../registry/model.js';
import { editRegistry } from '../registry-edit/edit-registry.js';
import { openDocumentStore } from '../registry-edit/open-document-store.js';
import { addNode, removeNode } from '../registry-edit/edit-nodes.js';
import { addDomain, addVps, removeDomain, removeVps } from '../registry-edit/edit-domains.js';
import { removeRouting, setRouting } from '../registry-edit/edit-routing.js';
import { removeService, setService } from '../registry-edit/edit-services.js';
import type { DocumentChange, EditContext } from '../registry-edit/model.js';
import type { CommandContext } from './run-command.js';

/** `courier nodes add ROLE IP NAME USER`: add a node, or replace the one with that name. */
export async function nodesAddCommand(ctx: CommandContext, role: string, ip: string, name: string, user: string, opts: { port?: string; sudo?: boolean; root?: string; transport?: string }): Promise<number> {
  const input = {
    role: role as NodeRole,
    ip,
    name,
    sshUser: user,
    sshPort: opts.port === undefined ? undefined : parseWholeNumber(opts.port, '--port'),
    sudo: opts.sudo,
    root: opts.root,
    transport: opts.transport as 'ssh' | 'local' | undefined,
  };
  return runEdit(ctx, 'registry.json', (current, context) => addNode(current, input, context));
}

/** `courier nodes remove NAME`. */
export async function nodesRemoveCommand(ctx: CommandContext, name: string): Promise<number> {
  return runEdit(ctx, 'registry.json', (current, context) => removeNode(current, name, context));
}

/** `courier domains add DOMAIN [DESCRIPTION]`. */
export async function domainsAddCommand(ctx: CommandContext, domain: string, description: string | undefined): Promise<number> {
  return runEdit(ctx, 'domains.json', (current, context) => addDomain(current, domain, description, context));
}

/** `courier domains remove DOMAIN`. */
export async function domainsRemoveCommand(ctx: CommandContext, domain: string): Promise<number> {
  return runEdit(ctx, 'domains.json', (current, context) => removeDomain(current, domain, context));
}

/** `courier vps add TAILSCALE_IP PUBLIC_IP [LOCATION]`. */
export async function vpsAddCommand(ctx: CommandContext, tailscaleIp: string, publicIp: string, location: string | undefined): Promise<number> {
  return runEdit(ctx, 'domains.json', (current, context) => addVps(current, { tailscaleIp, publicIp, location }, context));
}

/** `courier vps remove TAILSCALE_IP`. */
export async function vpsRemoveCommand(ctx: CommandContext, tailscaleIp: string): Promise<number> {
  return runEdit(ctx, 'domains.json', (current, context) => removeVps(current, tailscaleIp, context));
}

/** `courier routing set SERVICE --domains a,b --vps ip1,ip2 [--strategy S]`. */
export async function routingSetCommand(ctx: CommandContext, service: string, opts: { domains?: string; vps?: string; strategy?: string }): Promise<number> {
  const input = {
    service,
    domains: opts.domains === undefined ? undefined : parseList(opts.domains, '--domains'),
    vpsNodes: opts.vps === undefined ? undefined : parseList(opts.vps, '--vps'),
    strategy: opts.strategy as Routing['strategy'] | undefined,
  };
  return runEdit(ctx, 'routing.json', (current, context) => setRouting(current, input, context));
}

/** `courier routing remove SERVICE`. */
export async function routingRemoveCommand(ctx: CommandContext, service: string): Promise<number> {
  return runEdit(ctx, 'routing.json', (current, context) => removeRouting(current, service, context));
}

/** `courier services set NAME [--subdomain S] [--ip IP] [--port P] [--public|--no-public] [--namespace NS]`. */
export async function servicesSetCommand(ctx: CommandContext, name: string, opts: { subdomain?: string; ip?: string; port?: string; public?: boolean; namespace?: string }): Promise<number> {
  const input = {
    name,
    subdomain: opts.subdomain,
    ip: opts.ip,
    port: opts.port === undefined ? undefined : parseWholeNumber(opts.port, '--port'),
    public: opts.public,
    namespace: opts.namespace,
  };
  return runEdit(ctx, 'services.json', (current, context) => setService(current, input, context));
}

/** `courier services remove NAME`. */
export async function servicesRemoveCommand(ctx: CommandContext, name: string): Promise<number> {
  return runEdit(ctx, 'services.json', (current, context) => removeService(current, name, context));
}

/** Load the site, edit one document of its source, and print what changed. */
async function runEdit(ctx: CommandContext, document: DocumentName, plan: (current: unknown, context: EditContext) => DocumentChange): Promise<number> {
  const config = await loadConfig(ctx.options.config);
  const store = await openDocumentStore(config);
  // One clock reading for the whole command: a retried attempt stamps the same time.
  const now = new Date();
  const actor = currentActor();
  const change = await editRegistry(store, { document, plan: (current, origin) => plan(current, { now, actor, origin }) }, { publicDomain: config.traefik.publicDomain });
  ctx.logger.info({ document: change.document, action: change.action, key: change.key }, 'registry edited');
  if (ctx.options.json) ctx.out(JSON.stringify({ document: change.document, action: change.action, key: change.key }));
  else ctx.out(describeChange(change));
  return 0;
}

/** The human line: `added node edge-3 (vps 100.64.1.3)`, or why nothing changed. */
export function describeChange(change: DocumentChange): string {
  if (change.action === 'unchanged') return `${change.kind} ${change.key} not found: nothing changed`;
  return `${change.action} ${change.kind} ${change.key}${change.detail === '' ? '' : ` ${change.detail}`}`;
}

/** MyNodeOne's `$(whoami)@$(hostname)`. */
function currentActor(): string {
  let user: string;
  try {
    user = os.userInfo().username;
  } catch {
    // No passwd entry (some containers): fall back to the environment.
    user = process.env.USER ?? 'courier';
  }
  return `${user}@${os.hostname()}`;
}

/** A whole number from a flag value (range checks are the registry's: a port outside 1-65535 is REGISTRY_INVALID). */
function parseWholeNumber(text: string, flag: string): number {
  if (!/^\d{1,9}$/.test(text.trim())) throw new CourierError('USAGE', `${flag} ${text}: expected a whole number`, { flag, value: text });
  return Number(text.trim());
}

/** A comma-separated list, blanks dropped; an empty list is a usage error. */
function parseList(text: string, flag: string): string[] {
  const items = text
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
  if (items.length === 0) throw new CourierError('USAGE', `${flag} ${JSON.stringify(text)}: expected a comma-separated list such as a.com,b.com`, { flag, value: text });
  return items;
}
