/**
 * Agent upgrade over the protocol, for restricted nodes (they run the installed
 * `~/.courier/courier-agent`, not the inline script): `courier-agent upgrade <oid> <size> <sigsize>`,
 * then the new script and its release signature on stdin. The node checks the oid, the signature
 * against the release signer pinned at join (ssh-keygen -Y verify) and that sh parses it before
 * renaming it over the old one, so a node never runs half a script, nor one the release signer did
 * not sign; it answers `upgraded <oid>`. Without a signature the controller does not try: it warns
 * once per node and keeps working with the old agent, as it does when the node refuses the release.
 */
import { createHash } from 'node:crypto';
import type { Node } from '../registry/model.js';
import { CourierError, ERROR_CODES, isCourierError } from '../errors.js';
import type { AgentChannel } from './agent-channel.js';
import { openSshChannel, type SshChannelOptions } from './ssh-transport.js';

/** The AGENT_VERSION a script declares, or '' when it declares none. */
export function agentVersionOf(script: string): string {
  return /^AGENT_VERSION=([^\s]+)$/m.exec(script)?.[1] ?? '';
}

/** Order two dotted agent versions (`1.10.0` > `1.9.2`) numerically: negative when a is older; a part that is no number counts as 0. */
export function compareAgentVersions(a: string, b: string): number {
  const pa = a.split('.').map((x) => Number.parseInt(x, 10) || 0);
  const pb = b.split('.').map((x) => Number.parseInt(x, 10) || 0);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/** Git blob id of the script, as the agent computes it. */
export function scriptOid(script: string): string {
  const bytes = Buffer.from(script, 'utf8');
  return createHash('sha1').update(`blob ${bytes.length}\0`).update(bytes).digest('hex');
}

/** True when a restricted node reported an agent version other than the controller's script. */
export function needsUpgrade(node: Node, reportedVersion: string, script: string): boolean {
  return node.restricted === true && node.transport === 'ssh' && reportedVersion !== agentVersionOf(script);
}

// node name + oid of the script already warned about (once per node and release, per process)
const warned = new Set<string>();
const LEGACY_AGENT = "the node's agent predates signed releases and takes only unsigned upgrades, which this controller never sends; re-join the node with --agent-signer FILE";

/** Warn once per node and release (the daemon would otherwise repeat it every sync). */
function warnOnce(node: Node, oid: string, options: SshChannelOptions, data: Record<string, unknown>, message: string): void {
  const key = `${node.name}\0${oid}`;
  if (warned.has(key)) return;
  warned.add(key);
  options.warn?.({ node: node.name, ...data }, message);
}

/**
 * Replace the installed agent on a restricted node with `script` and its release signature;
 * AGENT_UNSIGNED when the node refuses the signature, AGENT_UPGRADE_FAILED for any other refusal.
 * `false` says nothing changed and that is not an error: the controller has no signature (warned
 * once per node, AGENT_UNSIGNED), the node takes no upgrades (joined without --agent-signer), or it
 * runs a newer agent already (no rollback, AGENT_DOWNGRADE); the node's agent keeps working where
 * it speaks the protocol.
 */
export async function upgradeAgent(node: Node, script: string, options: SshChannelOptions): Promise<boolean> {
  const bytes = Buffer.from(script, 'utf8');
  const oid = scriptOid(script);
  const signature = options.agentSignature;
  if (!signature || signature.length === 0) {
    warnOnce(
      node,
      oid,
      options,
      { code: 'AGENT_UNSIGNED', agentVersion: agentVersionOf(script), fix: 'sign the release: courier agent sign --key RELEASE_KEY (on the release machine), then ship node-agent/courier-agent.sig or set agent.signature' },
      "the restricted node runs another agent version, but this controller's agent has no release signature: not upgrading it",
    );
    return false;
  }
  const channel = await openSshChannel(node, `courier-agent upgrade ${oid} ${bytes.length} ${signature.length}`, options);
  try {
    await sendUpgrade(channel, Buffer.concat([bytes, signature]), oid, node.name);
    return true;
  } catch (err) {
    if (!isCourierError(err, 'AGENT_UPGRADE_FAILED') || err.data.off !== true) throw err;
    if (err.data.legacy === true) warnOnce(node, oid, options, { code: 'AGENT_UPGRADE_FAILED', fix: 're-join the node with --agent-signer FILE' }, LEGACY_AGENT);
    return false;
  }
}

/** Drive one upgrade exec on an open channel (the join uses its own sessions): write `bytes` (the script, then any signature), read, judge. */
export async function sendUpgrade(channel: AgentChannel, bytes: Buffer, oid: string, name: string): Promise<void> {
  let stdout = '';
  let stderr = '';
  channel.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
  channel.stderr.setEncoding('utf8').on('data', (c: string) => (stderr = (stderr + c).slice(-2000)));
  // the exit status can come before the last of stdout has passed the pipe: the answer is read whole
  const answered = new Promise<void>((resolve) => {
    channel.stdout.once('end', resolve);
    channel.stdout.once('close', resolve);
  });
  channel.stdin.end(bytes);
  let code: number | null = null;
  try {
    ({ code } = await channel.exit);
    await answered;
  } catch (err) {
    // a node that refuses answers at once and exits without reading the script, so the session can
    // end under the controller's write: its answer, when it came, is still the verdict
    if (!/(^|\n)error /.test(stdout)) {
      if (isCourierError(err)) throw err;
      throw new CourierError('AGENT_UPGRADE_FAILED', `${name}: the upgrade session failed: ${(err as Error).message}`, { node: name }, { cause: err });
    }
  }
  const lines = stdout.split('\n').filter((l) => l !== '');
  if (code === 0 && lines.includes(`upgraded ${oid}`)) return;
  // an agent from before signed releases knows only `upgrade OID SIZE`: its forced command refuses this one
  const legacy = !lines.some((l) => l.startsWith('error ')) && stderr.includes('refused: this key runs only courier-agent');
  const why = legacy
    ? `UPGRADE_OFF ${LEGACY_AGENT}`
    : (lines.find((l) => l.startsWith('error '))?.replace(/^error /, '') ?? (stderr.trim().split('\n').pop() || `exit status ${code}`));
  if (why.startsWith('AGENT_UNSIGNED')) throw new CourierError('AGENT_UNSIGNED', `${name}: the node refused agent ${oid.slice(0, 12)}: ${why}; the old agent is still in place`, { node: name, oid });
  // UPGRADE_OFF (joined without --agent-signer) and AGENT_DOWNGRADE (the node's agent is newer) keep a working agent
  throw new CourierError('AGENT_UPGRADE_FAILED', `${name}: the node refused agent ${oid.slice(0, 12)}: ${why}; the old agent is still in place`, { node: name, oid, off: /^(UPGRADE_OFF|AGENT_DOWNGRADE) /.test(why), legacy });
}

/** After an exchange: upgrade a restricted node's installed agent when it reported another version than `script`'s. */
export async function upgradeIfBehind(node: Node, reportedVersion: string, script: string, options: SshChannelOptions): Promise<void> {
  if (needsUpgrade(node, reportedVersion, script)) await upgradeOrKeep(node, script, options);
}

/**
 * Upgrade, and when that does not happen keep the node on its old agent, which just served an
 * exchange: the sync stands. A refusal by the node (AGENT_UNSIGNED: a signer it does not trust, as
 * while a new release signer is rolled out before the re-joins; AGENT_UPGRADE_FAILED) is warned once
 * per node, release and code; any other failure (the connection) on every attempt. The next sync
 * tries again while the versions differ.
 */
export async function upgradeOrKeep(node: Node, script: string, options: SshChannelOptions): Promise<boolean> {
  try {
    return await upgradeAgent(node, script, options);
  } catch (err) {
    if (!isCourierError(err)) throw err;
    const data = { code: err.code, agentVersion: agentVersionOf(script), fix: ERROR_CODES[err.code].fix };
    const message = `the agent upgrade did not happen (${err.message}); syncing with the node's old agent`;
    if (err.code === 'AGENT_UNSIGNED' || err.code === 'AGENT_UPGRADE_FAILED') warnOnce(node, `${scriptOid(script)}\0${err.code}`, options, data, message);
    else options.warn?.({ node: node.name, ...data }, message);
    return false;
  }
}

/**
 * After a failed exchange: an installed agent too old for this controller's protocol cannot even
 * report its version, so a restricted node that failed with AGENT_PROTOCOL gets the upgrade anyway
 * (oid- and signature-checked, idempotent); the next attempt then speaks the protocol. Its own failure is
 * dropped: the caller rethrows the exchange's error, which is what the operator needs to see.
 */
export async function upgradeAfterProtocolError(node: Node, err: unknown, script: string, options: SshChannelOptions): Promise<void> {
  if (node.restricted === true && node.transport === 'ssh' && isCourierError(err, 'AGENT_PROTOCOL')) await upgradeAgent(node, script, options).catch(() => undefined);
}
