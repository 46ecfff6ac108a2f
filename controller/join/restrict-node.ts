/**
 * `courier nodes restrict NAME` (a node courier already reaches with a full shell, as MyNodeOne's
 * are) and `courier nodes remove NAME --revoke`. Restrict installs the agent and swaps the key's
 * entry for the restricted one over the current access, keeping that connection open while a
 * second one proves the shell is gone, so a failed proof can still be undone; other lines of
 * authorized_keys stay byte for byte. Revoke asks the restricted agent to remove courier's entry,
 * then drops the known_hosts line and the registry entry.
 */
import { CourierError, isCourierError } from '../errors.js';
import type { Node } from '../registry/model.js';
import type { Site } from '../pipeline/open-site.js';
import { fingerprintSha256, hostMatches, readKnownHosts } from '../transport/known-hosts.js';
import { agentVersionOf } from '../transport/upgrade-agent.js';
import { readControlPlaneKey } from './control-plane-key.js';
import { FINISH_SCRIPT, INSTALL_SCRIPT, PROBE_SCRIPT, REMOVE_SUDOERS_SCRIPT, SUDOERS_SCRIPT, UNDO_SCRIPT, scriptCommand } from './node-scripts.js';
import { openJoinSession, type JoinSession } from './open-join-session.js';
import { removeKnownHost } from './remove-known-host.js';
import { restrictedEntry, sudoersDropIn, sudoersPath, targetPaths, targetsFile } from './restricted-entry.js';
import { allowedSignersLine } from './agent-release.js';
import { agentUpgradeStep } from './join-node.js';
import { loadNodes, markRestrictedInRegistry, proveRestricted, removeNodeFromRegistry, runUndo, type JoinIo, type Undo } from './join-steps.js';

/** Find an ssh node by name; NODE_NOT_FOUND otherwise. */
async function findSshNode(site: Site, name: string): Promise<Node> {
  const node = (await loadNodes(site)).find((n) => n.name === name);
  if (!node) throw new CourierError('NODE_NOT_FOUND', `node ${name} is not in the node registry (see \`courier nodes list\`)`, { node: name });
  if (node.transport !== 'ssh') throw new CourierError('USAGE', `${name} uses the local transport: there is no key to restrict`, { node: name });
  return node;
}

/** A session with the control-plane key, pinned to the host keys ssh.knownHosts has for the node. */
async function openKeySession(site: Site, node: Node): Promise<JoinSession> {
  const known = (await readKnownHosts(site.config.ssh.knownHosts)).filter((e) => e.marker === undefined && hostMatches(e.names, node.ip, node.sshPort));
  if (known.length === 0) throw new CourierError('HOST_KEY_UNKNOWN', `${node.name}: no host key in ${site.config.ssh.knownHosts}; run \`courier nodes trust ${node.name}\` first`, { node: node.name });
  const key = await readControlPlaneKey(site.config);
  return openJoinSession({ name: node.name, host: node.ip, port: node.sshPort, user: node.sshUser, auth: key.auth, fingerprints: known.map((e) => fingerprintSha256(e.key)), connectTimeout: site.config.ssh.connectTimeout });
}

/** Restrict an existing node's key; undone (authorized_keys restored over the still-open session) when the proof fails. */
export async function restrictNode(site: Site, name: string, io: JoinIo, options: { agentSigner?: string } = {}): Promise<void> {
  const node = await findSshNode(site, name);
  if (node.restricted) throw new CourierError('USAGE', `${name} is restricted already`, { node: name });
  const key = await readControlPlaneKey(site.config);
  const paths = targetPaths(node.role, site.settings, node.root);
  const version = agentVersionOf(site.agentScript);
  const sudo = node.sudo ? 'sudo -n ' : '';
  const session = await openKeySession(site, node);
  const undo: Undo[] = [];
  try {
    io.step(`connected to ${node.sshUser}@${node.ip}:${node.sshPort} with the control-plane key (full shell); host key ${session.hostKey.fingerprint} as in ssh.knownHosts`);
    const probe = await session.exec(PROBE_SCRIPT);
    const home = probe.stdout.split('\n')[0] ?? '';
    if (probe.code !== 0 || home === '') throw new CourierError('JOIN_FAILED', `${name}: cannot read the user's home directory: ${probe.stderr.trim()}`, { node: name });

    const signers = options.agentSigner ? allowedSignersLine(options.agentSigner) : '';
    const install = await session.exec(scriptCommand(INSTALL_SCRIPT, [restrictedEntry(home, node.sudo, key.publicKey), key.blob, targetsFile(paths, node.root, options.agentSigner ? 'signed' : 'no'), signers]), site.agentScript);
    const made = install.stdout.split('\n');
    undo.push({ what: 'authorized_keys and ~/.courier on the node', run: () => session.exec(scriptCommand(UNDO_SCRIPT, [made.includes('made-agent-dir') ? 'yes' : 'no', 'no'])) });
    if (install.code !== 0 || !made.includes('installed')) throw new CourierError('JOIN_FAILED', `${name}: installing the agent failed: ${install.stderr.trim() || `exit ${install.code}`}`, { node: name, step: 'install' });
    io.step(`installed the agent at ${home}/.courier/courier-agent, writing only: ${paths.join(', ')}${node.root ? ` under ${node.root}` : ''}`);
    io.step(`replaced the control-plane key's entry in ${home}/.ssh/authorized_keys by the restricted one; other entries unchanged`);
    io.step(agentUpgradeStep(home, options.agentSigner));

    if (node.sudo) {
      const file = sudoersPath(node.sshUser);
      const result = await session.exec(scriptCommand(SUDOERS_SCRIPT, [file, sudoersDropIn(node.sshUser, home)], sudo));
      if (result.code !== 0 || !result.stdout.includes('visudo-ok')) throw new CourierError('JOIN_FAILED', `${name}: the sudoers drop-in was not installed: ${result.stderr.trim() || `exit ${result.code}`}`, { node: name, step: 'sudoers' });
      undo.push({ what: `the sudoers drop-in ${file}`, run: () => session.exec(scriptCommand(REMOVE_SUDOERS_SCRIPT, [file], sudo)) });
      io.step(`wrote ${file}, checked with visudo -c`);
    }

    // a second connection: the key must now reach the agent only
    const keyed = await openKeySession(site, node);
    try {
      await proveRestricted(keyed, version, name);
    } finally {
      keyed.close();
    }
    io.step(`proved on a new connection: the key runs the agent ${version} and \`id\` is refused (no shell)`);
    await markRestrictedInRegistry(site, name);
    io.step(`marked ${name} restricted: true in registry.json`);
    await session.exec(scriptCommand(FINISH_SCRIPT, []));
    io.step(`restricted ${name}`);
  } catch (err) {
    await runUndo(undo, io);
    if (isCourierError(err)) throw err;
    throw new CourierError('JOIN_FAILED', `restricting ${name} failed: ${(err as Error).message}`, { node: name }, { cause: err });
  } finally {
    session.close();
  }
}

/** Revoke a restricted node's key (over that key), then drop its known_hosts lines and its registry entry. */
export async function revokeNode(site: Site, name: string, io: JoinIo): Promise<void> {
  const node = await findSshNode(site, name);
  if (!node.restricted) {
    throw new CourierError('USAGE', `${name} is not restricted: its key has a full shell, so courier will not edit its authorized_keys blindly; remove the key there by hand, or run \`courier nodes restrict ${name}\` first`, { node: name });
  }
  const session = await openKeySession(site, node);
  try {
    const result = await session.exec('courier-agent revoke');
    const line = result.stdout.split('\n').find((l) => l.startsWith('revoked '));
    if (result.code !== 0 || !line) throw new CourierError('JOIN_FAILED', `${name}: the agent did not revoke the key: ${(result.stdout + result.stderr).trim() || `exit ${result.code}`}`, { node: name, step: 'revoke' });
    io.step(`removed ${line.slice('revoked '.length)} restricted entr${line.endsWith(' 1') ? 'y' : 'ies'} from the node's authorized_keys, and the agent`);
  } finally {
    session.close();
  }
  const lines = await removeKnownHost(site.config.ssh.knownHosts, node.ip, node.sshPort);
  io.step(`removed ${lines} line(s) for ${node.ip}:${node.sshPort} from ${site.config.ssh.knownHosts}`);
  await removeNodeFromRegistry(site, name);
  io.step(`removed node ${name} from registry.json`);
}
