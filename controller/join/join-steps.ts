/**
 * Steps the join, restrict and revoke commands share: reading the node registry, editing it
 * through the registry-edit stage, proving a key is restricted, and the first push.
 */
import os from 'node:os';
import { CourierError, isCourierError } from '../errors.js';
import type { Node, NodeRole } from '../registry/model.js';
import { parseRegistry } from '../registry/parse-registry.js';
import { readSource } from '../sources/read-source.js';
import type { Site } from '../pipeline/open-site.js';
import { renderRevision } from '../pipeline/render-revision.js';
import { syncNodes } from '../pipeline/sync-nodes.js';
import { withStateLock } from '../status/state-lock.js';
import type { HostKey } from '../transport/ssh-transport.js';
import { editRegistry, type RegistryDocumentStore } from '../registry-edit/edit-registry.js';
import { openDocumentStore } from '../registry-edit/open-document-store.js';
import { addNode, markNodeRestricted, removeNode } from '../registry-edit/edit-nodes.js';
import { addVps, removeVps } from '../registry-edit/edit-domains.js';
import type { DocumentChange, EditContext } from '../registry-edit/model.js';
import type { DocumentName } from '../registry/model.js';
import type { JoinSession } from './open-join-session.js';

/** How a join talks to the operator: one line per step done, and the host-key question. */
export interface JoinIo {
  step(text: string): void;
  confirmHostKey(key: HostKey): Promise<boolean>;
}

/** The registry's valid nodes, as they are now. */
export async function loadNodes(site: Site): Promise<Node[]> {
  return parseRegistry(await readSource(site.config), { publicDomain: site.config.traefik.publicDomain }).nodes;
}

/** One registry edit through the registry-edit stage (validated before it is written); `dryRun` validates and writes nothing. */
async function edit(site: Site, document: DocumentName, plan: (current: unknown, context: EditContext) => DocumentChange, dryRun = false): Promise<DocumentChange> {
  const real = await openDocumentStore(site.config);
  const store: RegistryDocumentStore = dryRun ? { read: (d) => real.read(d), write: async () => 'written' } : real;
  const now = new Date();
  const actor = `${safeUser()}@${os.hostname()}`;
  return editRegistry(store, { document, plan: (current, origin) => plan(current, { now, actor, origin }) }, { publicDomain: site.config.traefik.publicDomain });
}

function safeUser(): string {
  try {
    return os.userInfo().username;
  } catch {
    return process.env.USER ?? 'courier';
  }
}

/** An undo step: what it reverts, and how. */
export interface Undo {
  what: string;
  run: () => Promise<unknown>;
}

/** Run the undo steps done so far, newest first, reporting each; a failing one is reported and skipped. */
export async function runUndo(undo: readonly Undo[], io: JoinIo): Promise<void> {
  for (const step of [...undo].reverse()) {
    try {
      await step.run();
      io.step(`undone: ${step.what}`);
    } catch (undoErr) {
      io.step(`could not undo ${step.what}: ${(undoErr as Error).message}`);
    }
  }
}

/** What a join registers. */
export interface NodeRegistration {
  role: NodeRole;
  ip: string;
  name: string;
  user: string;
  port: number;
  sudo: boolean;
  root?: string;
  publicIp?: string;
}

/** Check, before anything is installed, that the registry edits of a join would validate (the source must be editable too). */
export async function checkNodeRegistration(site: Site, request: NodeRegistration): Promise<void> {
  if (request.role === 'vps' && request.publicIp) await edit(site, 'domains.json', (c, ctx) => addVps(c, { tailscaleIp: request.ip, publicIp: request.publicIp! }, ctx), true);
  await edit(site, 'registry.json', (c, ctx) => addNode(c, registrationInput(request), ctx), true);
}

function registrationInput(request: NodeRegistration) {
  return { role: request.role, ip: request.ip, name: request.name, sshUser: request.user, sshPort: request.port === 22 ? undefined : request.port, sudo: request.sudo, root: request.root, restricted: true };
}

/** Register the joined node (`restricted: true`) and, for a VPS with a public IP, its edge in domains.json. */
export async function addNodeToRegistry(site: Site, request: NodeRegistration): Promise<{ node: DocumentChange; vps?: DocumentChange }> {
  // domains.json first: routing may name the edge only once it exists, and a VPS node needs no edge to validate
  const vps = request.role === 'vps' && request.publicIp ? await edit(site, 'domains.json', (c, ctx) => addVps(c, { tailscaleIp: request.ip, publicIp: request.publicIp! }, ctx)) : undefined;
  try {
    const node = await edit(site, 'registry.json', (c, ctx) => addNode(c, registrationInput(request), ctx));
    return { node, vps };
  } catch (err) {
    if (vps?.action === 'added') await removeVpsFromRegistry(site, request.ip);
    throw err;
  }
}

/** Remove a node from registry.json. */
export async function removeNodeFromRegistry(site: Site, name: string): Promise<void> {
  await edit(site, 'registry.json', (c, ctx) => removeNode(c, name, ctx));
}

/** Remove a VPS edge from domains.json. */
export async function removeVpsFromRegistry(site: Site, ip: string): Promise<void> {
  await edit(site, 'domains.json', (c, ctx) => removeVps(c, ip, ctx));
}

/** Mark an existing node restricted in registry.json. */
export async function markRestrictedInRegistry(site: Site, name: string): Promise<DocumentChange> {
  return edit(site, 'registry.json', (c, ctx) => markNodeRestricted(c, name, ctx));
}

/** The key session must reach the agent (`--version` = `version`) and be refused a shell command, printing no uid. */
export async function proveRestricted(session: JoinSession, version: string, name: string): Promise<void> {
  const agent = await session.exec('courier-agent --version');
  if (agent.code !== 0 || agent.stdout.trim() !== `courier-agent ${version}`) {
    throw new CourierError('JOIN_FAILED', `${name}: the restricted key does not reach the agent ${version}: ${(agent.stdout + agent.stderr).trim() || `exit ${agent.code}`}`, { node: name, step: 'prove' });
  }
  const shell = await session.exec('id');
  if (shell.code === 0 || /uid=/.test(shell.stdout + shell.stderr)) {
    throw new CourierError('JOIN_FAILED', `${name}: the control-plane key still runs shell commands (\`id\` answered); authorized_keys has another entry for it`, { node: name, step: 'prove' });
  }
}

/** The node's first push (render, commit, sync only this node); with a daemon holding the state lock, the daemon pushes it. */
export async function firstPush(site: Site, name: string, io: JoinIo): Promise<void> {
  try {
    const report = await withStateLock(site.config.state.lockFile, `courier nodes join ${name}`, async () => {
      const { registry, rendered, commit } = await renderRevision(site, { trigger: `nodes join ${name}` });
      const node = registry.nodes.find((n) => n.name === name);
      if (!node) throw new CourierError('NODE_NOT_FOUND', `node ${name} is not in the registry after the join`, { node: name });
      const artifacts = rendered.nodes.find((r) => r.node.name === name)?.artifacts ?? [];
      const [result] = await syncNodes(site, [node], commit.revision, 'push', { desired: () => ({ revision: commit.revision, artifacts }) });
      return result!;
    });
    if (report.status !== 'converged') {
      throw new CourierError('JOIN_FAILED', `${name}: the first push did not converge (${report.status}${report.error ? `: ${report.error.code} ${report.error.message}` : ''})`, { node: name, step: 'push' });
    }
    io.step(`first push: ${name} converged at revision ${report.revision.slice(0, 12)} (${report.changed.join(', ') || 'nothing to change'})`);
  } catch (err) {
    if (!isCourierError(err, 'LOCKED')) throw err;
    io.step(`first push: the running daemon holds the state lock and pushes ${name} itself`);
  }
}
