/**
 * The per-node part of `courier check`: the node's host key in ssh.knownHosts, the node reachable
 * with a working agent that could write its targets (asked with `courier-agent probe`, which
 * writes nothing), whether it is restricted, for a restricted node whether its installed agent is
 * this controller's release or will be upgraded to it, and how long ago it was last verified.
 * Nodes are probed in parallel, at most ssh.concurrency at once.
 */
import { createHash } from 'node:crypto';
import pLimit from 'p-limit';
import { ERROR_CODES, isCourierError, type ErrorCode } from '../errors.js';
import { verifyAgent } from '../join/agent-release.js';
import type { Config } from '../config/load-config.js';
import { ROLE_ARRAYS, type Node, type Registry } from '../registry/model.js';
import { readKnownHosts, knownKeyTypes, type KnownHost } from '../transport/known-hosts.js';
import { probeAgent, type AgentProbe } from '../transport/probe-agent.js';
import { agentVersionOf, compareAgentVersions } from '../transport/upgrade-agent.js';
import { readStatusFile, type StatusDocument } from '../status/status-file.js';
import { failure, type CheckResult } from './run-site-checks.js';

/** Every per-node check, node by node in registry order. */
export async function checkNodes(config: Config, registry: Registry, options: { agentScript: string; release: AgentRelease; now: Date; keyUsable: boolean }): Promise<CheckResult[]> {
  const knownHosts = await readKnownHosts(config.ssh.knownHosts).catch(() => [] as KnownHost[]);
  const status: StatusDocument = await readStatusFile(config.state.statusFile).catch(() => ({ version: 1 as const, nodes: {} }));
  const limit = pLimit(config.ssh.concurrency);
  const perNode = await Promise.all(
    registry.nodes.map((node) =>
      limit(async () => {
        const results: CheckResult[] = [];
        const known = node.transport === 'local' || knownKeyTypes(knownHosts, node.ip, node.sshPort).length > 0;
        if (node.transport === 'ssh') {
          results.push(
            known
              ? { check: 'known host', node: node.name, ok: true, detail: `${node.ip}:${node.sshPort} is in ${config.ssh.knownHosts}` }
              : { check: 'known host', node: node.name, ok: false, detail: `no host key for ${node.ip}:${node.sshPort} in ${config.ssh.knownHosts}`, fix: `Run \`courier nodes trust ${node.name}\` and compare the fingerprint with the node.` },
          );
        }
        const agent = known && options.keyUsable ? await checkAgent(config, node, options.agentScript) : { result: { check: 'agent', node: node.name, ok: false, detail: 'not tried: fix the SSH key and host key first' } };
        results.push(agent.result);
        results.push(checkRestricted(registry, node));
        if (agent.probe && node.restricted === true && node.transport === 'ssh') {
          const ours = agentVersionOf(options.agentScript);
          const behind = agent.probe.version !== ours && agent.probe.upgrades === 'signed';
          const trusted = behind ? await signedByPinned(agent.probe.signers, options.release) : undefined;
          results.push(checkRelease(node, agent.probe, ours, { signed: options.release.signaturePath !== undefined, trusted }));
        }
        results.push(checkVerified(config, node, status, options.now));
        return results;
      }),
    ),
  );
  return perNode.flat();
}

/** The targets a node's role writes. */
function targetsOf(config: Config, node: Node): string[] {
  return node.role === 'vps' ? [config.traefik.path] : [config.hosts.path];
}

/** Reachable, a working agent (version, hasher, tools) and every target writable; with the probe's answer when there was one. */
async function checkAgent(config: Config, node: Node, agentScript: string): Promise<{ result: CheckResult; probe?: AgentProbe }> {
  const transport = {
    identity: config.ssh.identity,
    agentSocket: process.env.SSH_AUTH_SOCK,
    knownHostsFile: config.ssh.knownHosts,
    connectTimeout: config.ssh.connectTimeout,
    sessionTimeout: Math.min(config.ssh.sessionTimeout, 60_000),
  };
  let probe;
  try {
    probe = await probeAgent(node, agentScript, targetsOf(config, node), transport);
  } catch (err) {
    return { result: failure('agent', err, node.name) };
  }
  const problems: string[] = [];
  if (!probe.hasher) problems.push('no sha1sum, shasum or openssl');
  if (probe.missingTools.length > 0) problems.push(`missing ${probe.missingTools.join(', ')}`);
  for (const t of probe.targets) if (!t.ok) problems.push(`${t.path}: ${t.reason}`);
  const targets = probe.targets.map((t) => `${t.path} ${t.ok ? `writable (${t.exists ? 'exists' : 'absent'})` : 'not writable'}`).join(', ');
  const detail = `courier-agent ${probe.version} on ${node.sshUser}@${node.ip}${node.sudo ? ' (sudo)' : ''}, hasher ${probe.hasher ?? 'none'}; ${targets}`;
  if (problems.length === 0) return { result: { check: 'agent', node: node.name, ok: true, detail }, probe };
  const result = {
    check: 'agent',
    node: node.name,
    ok: false,
    detail: `${detail}; ${problems.join('; ')}`,
    fix: `Install the missing tools on the node, and give ${node.sshUser} write access to the target's directory, or set "sudo": true for ${node.name} in registry.json (password-less sudo -n).`,
  };
  return { result, probe };
}

/**
 * A restricted node runs its installed agent, not the controller's: it is this controller's
 * release, or the next sync offers it the signed release (a node that takes signed upgrades checks
 * it against the signer pinned at join; a refusal is warned, AGENT_UNSIGNED, and the node keeps
 * its old agent).
 * Anything else is a node that stays on its old agent, and says what would move it.
 */
export function checkRelease(node: Node, probe: AgentProbe, ours: string, release: { signed: boolean; trusted?: boolean }): CheckResult {
  const base = { check: 'agent release', node: node.name };
  const installed = `the installed agent is ${probe.version}, this controller's is ${ours}`;
  if (probe.version === ours) return { ...base, ok: true, detail: `the installed agent is this controller's release (${ours})${probe.upgrades === 'signed' ? '; takes signed upgrades' : probe.upgrades === 'off' ? '; takes no upgrades (joined without --agent-signer)' : ''}` };
  if (compareAgentVersions(probe.version, ours) > 0) {
    return { ...base, ok: false, detail: `${installed}: newer, and a node never takes a downgrade`, fix: 'Upgrade courier on the control plane to the release the node runs.' };
  }
  if (probe.upgrades === 'off') {
    return { ...base, ok: false, detail: `${installed}; the node takes no agent upgrades over the key (joined without --agent-signer), so it keeps the old one`, fix: `Re-join the node with --agent-signer FILE (\`courier nodes remove ${node.name} --revoke\`, then \`courier nodes join ... --agent-signer FILE\`).` };
  }
  if (!release.signed) {
    return { ...base, ok: false, detail: `${installed}; this controller's agent has no release signature, so it does not offer the upgrade`, fix: 'Sign the release: `courier agent sign --key RELEASE_KEY` on the release machine, then ship node-agent/courier-agent.sig or set agent.signature.' };
  }
  if (release.trusted === false) {
    const pinned = probe.signers.map(fingerprintOfKey).join(', ');
    return {
      ...base,
      ok: false,
      detail: `${installed}; the release is not signed by the signer pinned on the node (${pinned}): the node refuses it and keeps its old agent`,
      fix: 'A new release signer: re-join the node with --agent-signer NEW_SIGNER.pub. Otherwise sign the release with the key the node pins (`courier agent sign --key RELEASE_KEY`).',
    };
  }
  if (release.trusted === true) return { ...base, ok: true, detail: `${installed}; the next sync upgrades it (signed by the signer pinned on the node)` };
  return { ...base, ok: true, detail: `${installed}; the next sync sends the signed release, which the node installs if its pinned signer made it` };
}

/** Where this controller's agent release is: the script, and its signature when there is one. */
export interface AgentRelease {
  agentPath: string;
  signaturePath?: string;
}

/** Whether the release signature verifies against one of the node's pinned signers; undefined when that cannot be told (no signature, no signers reported, no ssh-keygen here). */
async function signedByPinned(signers: readonly string[], release: AgentRelease): Promise<boolean | undefined> {
  if (!release.signaturePath || signers.length === 0) return undefined;
  for (const signer of signers) {
    try {
      await verifyAgent(signer, release.agentPath, release.signaturePath);
      return true;
    } catch (err) {
      if (!isCourierError(err, 'AGENT_UNSIGNED')) return undefined;
    }
  }
  return false;
}

/** `SHA256:…` of a public key given as `<type> <base64>`, as ssh-keygen -l prints it. */
function fingerprintOfKey(key: string): string {
  const blob = Buffer.from(key.split(' ')[1] ?? '', 'base64');
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

/** Restricted (forced-command key) or not, from the node entry's `restricted` field. */
function checkRestricted(registry: Registry, node: Node): CheckResult {
  // `restricted` comes with `courier nodes restrict`; until the model carries it, read the entry
  const modelled = (node as Node & { restricted?: unknown }).restricted;
  const entries = (registry.documents['registry.json'] as Record<string, { name?: unknown; restricted?: unknown }[] | undefined> | undefined)?.[ROLE_ARRAYS[node.role]];
  const restricted = modelled === true || entries?.find((e) => e.name === node.name)?.restricted === true;
  return {
    check: 'restricted',
    node: node.name,
    ok: true,
    detail: restricted
      ? 'restricted: the control plane key runs only the agent on this node'
      : `not restricted: the control plane key opens a shell on this node${node.transport === 'ssh' ? ` (\`courier nodes restrict ${node.name}\` limits it to the agent)` : ' (local transport)'}`,
  };
}

/** Verified recently: active, and last verified within two reconcile intervals. */
function checkVerified(config: Config, node: Node, status: StatusDocument, now: Date): CheckResult {
  const st = status.nodes[node.name];
  const base = { check: 'verified', node: node.name };
  if (!st?.last_sync) return { ...base, ok: false, detail: 'never verified', fix: `Run \`courier push --node ${node.name}\` (or let the daemon reconcile).` };
  const age = formatAge(now.getTime() - Date.parse(st.last_sync));
  const at = st.revision ? ` at revision ${st.revision.slice(0, 12)}` : '';
  if (st.status !== 'active') {
    const code = st.last_error?.code;
    const fix = code && code in ERROR_CODES ? ERROR_CODES[code as ErrorCode].fix : `Run \`courier verify --node ${node.name}\`.`;
    return { ...base, ok: false, detail: `${st.status} after ${st.failures} failure(s); last verified ${age} ago${at}${st.last_error ? `; last error ${st.last_error.code}: ${st.last_error.message}` : ''}`, fix };
  }
  if (now.getTime() - Date.parse(st.last_sync) > 2 * config.reconcile.interval) {
    return { ...base, ok: false, detail: `last verified ${age} ago${at}, more than twice reconcile.interval`, fix: `Is the daemon running? \`courier verify --node ${node.name}\` checks it now.` };
  }
  return { ...base, ok: true, detail: `last verified ${age} ago${at}` };
}

/** `42s`, `5m`, `3h`, `2d`. */
function formatAge(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.round(s / 60)}m`;
  if (s < 172_800) return `${Math.round(s / 3600)}h`;
  return `${Math.round(s / 86_400)}d`;
}

