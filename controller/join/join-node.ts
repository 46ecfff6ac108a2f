/**
 * `courier nodes join`: add a node from the control plane. Over the node's first access (a password,
 * or the restricted key a pasted `--print` command installed) it pins the host key, installs the
 * agent and the restricted key entry (and a sudoers drop-in checked by visudo), proves the key now
 * runs nothing but the agent, records the host key, registers the node and runs its first push.
 * Each step is reported as it is done; on any failure the steps done so far are undone, newest
 * first. The password lives only in memory for the duration of the command.
 */
import { CourierError, isCourierError } from '../errors.js';
import type { Site } from '../pipeline/open-site.js';
import { appendKnownHost, checkHostKey, formatKnownHostsLine, readKnownHosts } from '../transport/known-hosts.js';
import { fetchHostKey, type HostKey } from '../transport/ssh-transport.js';
import { scriptOid, sendUpgrade, agentVersionOf } from '../transport/upgrade-agent.js';
import { readControlPlaneKey, type ControlPlaneKey } from './control-plane-key.js';
import { INSTALL_SCRIPT, PROBE_SCRIPT, REMOVE_SUDOERS_SCRIPT, SUDOERS_SCRIPT, UNDO_SCRIPT, FINISH_SCRIPT, scriptCommand } from './node-scripts.js';
import { openJoinSession, type JoinSession } from './open-join-session.js';
import { removeKnownHost } from './remove-known-host.js';
import { restrictedEntry, sudoersDropIn, sudoersPath, targetPaths, targetsFile } from './restricted-entry.js';
import { allowedSignersLine } from './agent-release.js';
import { addNodeToRegistry, checkNodeRegistration, firstPush, loadNodes, removeNodeFromRegistry, removeVpsFromRegistry, proveRestricted, runUndo, type JoinIo, type NodeRegistration, type Undo } from './join-steps.js';

/** What `courier nodes join` was asked. */
export interface JoinRequest extends NodeRegistration {
  fingerprint?: string;
  /** First access by password; without it the join goes over the key a `--print` command installed. */
  password?: string;
  /** `--agent-signer`: the release signer's key (`<type> <base64>`), pinned on the node; unset: the node takes no agent upgrades over the key. */
  agentSigner?: string;
}

/** Join a node; JOIN_FAILED (or the error of the failed step) after undoing what was installed. */
export async function joinNode(site: Site, request: JoinRequest, io: JoinIo): Promise<void> {
  const { config } = site;
  const undo: Undo[] = [];
  const sessions: JoinSession[] = [];
  try {
    // preflight: nothing is touched yet
    const nodes = await loadNodes(site);
    if (nodes.some((n) => n.name === request.name)) {
      throw new CourierError('USAGE', `node ${request.name} is already in the node registry; to convert a node courier already reaches, run \`courier nodes restrict ${request.name}\``, { node: request.name });
    }
    if (request.sudo && request.user === 'root') throw new CourierError('USAGE', '--sudo: the user is root already; leave --sudo out');
    if (request.sudo && request.password === undefined) throw new CourierError('USAGE', '--sudo needs the first access by password (--password-file or --ask-password): the drop-in is written with the user\'s sudo rights');
    await checkNodeRegistration(site, request);
    const key = await readControlPlaneKey(config);
    const paths = targetPaths(request.role, site.settings, request.root);
    const known = await readKnownHosts(config.ssh.knownHosts);

    // host key: pinned by --fingerprint, or shown and confirmed
    const fingerprint = request.fingerprint ?? (await confirmHostKey(request, config.ssh.connectTimeout, io));
    const session = await openJoinSession({ ...target(request), auth: request.password === undefined ? key.auth : { password: request.password }, fingerprints: [fingerprint], connectTimeout: config.ssh.connectTimeout });
    sessions.push(session);
    const hostKey = session.hostKey;
    if (checkHostKey(known, request.ip, request.port, hostKey.keyBlob).result === 'mismatch') {
      throw new CourierError('HOST_KEY_MISMATCH', `${config.ssh.knownHosts} already has another host key for ${request.ip}:${request.port}; if the node was reinstalled, remove that line first`, { node: request.name });
    }
    io.step(`connected to ${request.user}@${request.ip}:${request.port} with the ${request.password === undefined ? 'restricted key' : 'password'}; host key ${hostKey.keyType} ${hostKey.fingerprint} pinned`);

    // node side: the agent, its targets and the restricted entry
    if (request.password !== undefined) {
      await installOverPassword(session, request, key, paths, site.agentScript, undo, io);
    } else {
      await installOverBootstrap(session, site.agentScript, request.name, io);
    }

    // prove it: the key runs the agent and nothing else
    const keyed = request.password === undefined ? session : await openJoinSession({ ...target(request), auth: key.auth, fingerprints: [hostKey.fingerprint], connectTimeout: config.ssh.connectTimeout });
    if (keyed !== session) sessions.push(keyed);
    await proveRestricted(keyed, agentVersionOf(site.agentScript), request.name);
    io.step(`the control-plane key now runs only the agent ${agentVersionOf(site.agentScript)}: a shell command (\`id\`) is refused`);

    // control plane: known_hosts, registry, first push
    if (checkHostKey(known, request.ip, request.port, hostKey.keyBlob).result === 'unknown') {
      await appendKnownHost(config.ssh.knownHosts, formatKnownHostsLine(request.ip, request.port, hostKey.keyBlob));
      undo.push({ what: `the host key line in ${config.ssh.knownHosts}`, run: async () => void (await removeKnownHost(config.ssh.knownHosts, request.ip, request.port)) });
      io.step(`recorded the host key in ${config.ssh.knownHosts}`);
    }
    const added = await addNodeToRegistry(site, request);
    undo.push({ what: `node ${request.name} in the node registry`, run: () => removeNodeFromRegistry(site, request.name) });
    io.step(`registered ${request.role} node ${request.name} (restricted: true) in registry.json`);
    if (added.vps) {
      const vpsAdded = added.vps.action === 'added';
      if (vpsAdded) undo.push({ what: `VPS edge ${request.ip} in domains.json`, run: () => removeVpsFromRegistry(site, request.ip) });
      io.step(`${added.vps.action} the VPS edge ${request.ip} (public ${request.publicIp}) in domains.json`);
    }
    await firstPush(site, request.name, io);

    // done: the node's backups of authorized_keys go
    if (request.password !== undefined) await session.exec(scriptCommand(FINISH_SCRIPT, []));
    io.step(`joined ${request.name}`);
  } catch (err) {
    await runUndo(undo, io);
    // the admin pasted the key entry; the join cannot take it back over a key that only syncs
    if (request.password === undefined) io.step('left on the node: the restricted key entry the pasted command wrote (run the join again, or delete its line from ~/.ssh/authorized_keys there)');
    if (isCourierError(err)) throw err;
    throw new CourierError('JOIN_FAILED', `joining ${request.name} failed: ${(err as Error).message}`, { node: request.name }, { cause: err });
  } finally {
    for (const s of sessions) s.close();
  }
}

function target(request: JoinRequest): { name: string; host: string; port: number; user: string } {
  return { name: request.name, host: request.ip, port: request.port, user: request.user };
}

/** Show the host key (fetched without authenticating) and ask; the fingerprint to pin, or USAGE when refused. */
async function confirmHostKey(request: JoinRequest, connectTimeout: number, io: JoinIo): Promise<string> {
  const node = { name: request.name, role: request.role, ip: request.ip, sshUser: request.user, sshPort: request.port, sudo: false, transport: 'ssh' as const };
  const key: HostKey = await fetchHostKey(node, { connectTimeout });
  if (!(await io.confirmHostKey(key))) throw new CourierError('USAGE', `host key ${key.fingerprint} not confirmed: nothing was sent or installed`, { node: request.name });
  return key.fingerprint;
}

/** Over the password: probe, install (agent, targets, restricted entry), the sudoers drop-in; each with its undo. */
async function installOverPassword(session: JoinSession, request: JoinRequest, key: ControlPlaneKey, paths: string[], script: string, undo: Undo[], io: JoinIo): Promise<void> {
  const probe = await session.exec(PROBE_SCRIPT);
  const [home = '', uid = ''] = probe.stdout.split('\n');
  if (probe.code !== 0 || home === '') throw new CourierError('JOIN_FAILED', `${request.name}: cannot read the user's home directory: ${probe.stderr.trim()}`, { node: request.name });
  if (request.sudo && uid === '0') throw new CourierError('USAGE', `--sudo: ${request.user} is uid 0 already; leave --sudo out`);

  const entry = restrictedEntry(home, request.sudo, key.publicKey);
  const signers = request.agentSigner ? allowedSignersLine(request.agentSigner) : '';
  const install = await session.exec(scriptCommand(INSTALL_SCRIPT, [entry, key.blob, targetsFile(paths, request.root, request.agentSigner ? 'signed' : 'no'), signers]), script);
  const made = install.stdout.split('\n');
  undo.push({
    what: 'the agent, its targets and the restricted entry on the node (authorized_keys restored)',
    run: async () => void (await session.exec(scriptCommand(UNDO_SCRIPT, [made.includes('made-agent-dir') ? 'yes' : 'no', made.includes('made-ssh-dir') ? 'yes' : 'no']))),
  });
  if (install.code !== 0 || !made.includes('installed')) throw new CourierError('JOIN_FAILED', `${request.name}: installing the agent failed: ${install.stderr.trim() || `exit ${install.code}`}`, { node: request.name, step: 'install' });
  io.step(`installed the agent at ${home}/.courier/courier-agent, writing only: ${paths.join(', ')}${request.root ? ` under ${request.root}` : ''}`);
  io.step(`added the restricted entry to ${home}/.ssh/authorized_keys (restrict,command=...: no pty, no forwarding, only the agent)`);
  io.step(agentUpgradeStep(home, request.agentSigner));

  if (request.sudo) {
    const file = sudoersPath(request.user);
    const sudo = `sudo -S -p '' `;
    const result = await session.exec(scriptCommand(SUDOERS_SCRIPT, [file, sudoersDropIn(request.user, home)], sudo), `${request.password}\n`);
    if (result.code !== 0 || !result.stdout.includes('visudo-ok')) {
      throw new CourierError('JOIN_FAILED', `${request.name}: the sudoers drop-in was not installed: ${result.stderr.replace(/\[sudo\][^\n]*/g, '').trim() || `exit ${result.code}`}`, { node: request.name, step: 'sudoers' });
    }
    undo.push({ what: `the sudoers drop-in ${file}`, run: async () => void (await session.exec(scriptCommand(REMOVE_SUDOERS_SCRIPT, [file], sudo), `${request.password}\n`)) });
    io.step(`wrote ${file}, checked with visudo -c: the key may run exactly the agent as root`);
  }
}

/** The report line on agent upgrades: the pinned release signer, or none (upgrades off). */
export function agentUpgradeStep(home: string, signer: string | undefined): string {
  return signer
    ? `pinned the agent release signer ${signer.split(' ')[0]} in ${home}/.courier/allowed_signers: the node takes only agent upgrades it signed`
    : 'agent upgrades over the key are off (no --agent-signer): a new agent comes only by re-joining over other access';
}

/** Over the bootstrap stub a `--print` command left: replace it with the agent (the stub accepts only the pinned oid). */
async function installOverBootstrap(session: JoinSession, script: string, name: string, io: JoinIo): Promise<void> {
  const before = await session.exec('courier-agent --version');
  if (before.code !== 0) throw new CourierError('JOIN_FAILED', `${name}: the restricted key does not reach an agent: ${before.stderr.trim() || before.stdout.trim()}; paste the printed command on the node first`, { node: name });
  // a second run after a failed one: the stub is gone already and the agent in place
  if (before.stdout.trim() === `courier-agent ${agentVersionOf(script)}`) {
    io.step(`the agent ${agentVersionOf(script)} is installed already`);
    return;
  }
  const bytes = Buffer.from(script, 'utf8');
  const oid = scriptOid(script);
  await sendUpgrade(await session.open(`courier-agent upgrade ${oid} ${bytes.length}`), bytes, oid, name);
  io.step(`installed the agent ${agentVersionOf(script)} (oid ${oid.slice(0, 12)}) over the restricted key, replacing ${before.stdout.trim()}`);
}
