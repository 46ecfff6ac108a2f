/**
 * Ask a node's agent what `courier check` needs to know, writing nothing: `courier-agent probe`
 * over the node's transport (one connection, one exec, the agent sent inline as for a sync)
 * answers with its version, its hasher, whether its tools are there, and per target path whether
 * a sync could replace that file; a restricted node's agent also says whether it takes upgrades.
 */
import type { Readable } from 'node:stream';
import { CourierError } from '../errors.js';
import type { Node } from '../registry/model.js';
import { openAgentChannel, type TransportOptions } from './open-agent-channel.js';

/** One target path as the agent judged it. */
export type ProbedTarget = { path: string; ok: true; exists: boolean } | { path: string; ok: false; reason: string };

/** The agent's answer. */
export interface AgentProbe {
  version: string;
  /** `sha1sum`, `shasum`, `openssl`, or undefined when it has none. */
  hasher?: string;
  /** Commands the agent needs but did not find. */
  missingTools: string[];
  targets: ProbedTarget[];
  /** A restricted node's agent: whether the key may upgrade it (`signed`: joined with --agent-signer); undefined elsewhere, and from agents before 1.1.1. */
  upgrades?: 'signed' | 'off';
  /** With `upgrades: signed`: the release signers pinned on the node (public keys, `<type> <base64>`). */
  signers: string[];
}

/** Largest answer read (a few lines per target). */
const MAX_OUTPUT = 64 * 1024;

/** Probe `node`'s agent for `paths`; connection failures reject with the transport's CourierError, a garbled answer with AGENT_PROTOCOL. */
export async function probeAgent(node: Node, agentScript: string, paths: readonly string[], transport: TransportOptions): Promise<AgentProbe> {
  const args = ['probe', ...(node.root ? ['--root', node.root] : []), ...paths];
  const channel = await openAgentChannel(node, agentScript, args, transport);
  channel.stdin.end();
  const [stdout, stderr, exit] = await Promise.all([readAll(channel.stdout), readAll(channel.stderr), channel.exit]);
  return parseProbe(stdout, stderr, exit.code, node.name);
}

/** Parse the probe answer (exit 0 or 1); anything else is AGENT_PROTOCOL naming what the agent said. */
function parseProbe(stdout: string, stderr: string, code: number | null, node: string): AgentProbe {
  const lines = stdout.split('\n').filter((l) => l !== '');
  const error = lines.find((l) => l.startsWith('error '));
  const said = (error ?? stderr.trim().split('\n')[0] ?? '').slice(0, 300);
  const version = /^courier-agent (\S+)$/.exec(lines[0] ?? '')?.[1];
  if (error || version === undefined || (code !== 0 && code !== 1)) {
    const why = version === undefined && /usage:/.test(stderr) ? 'the agent does not know `probe` (an older courier-agent is installed on the node?)' : `the agent answered: ${said || `exit ${String(code)}`}`;
    throw new CourierError('AGENT_PROTOCOL', `${node}: cannot probe the agent: ${why}`, { node, exitCode: code });
  }
  const probe: AgentProbe = { version, missingTools: [], targets: [], signers: [] };
  for (const line of lines.slice(1)) {
    const [word, ...rest] = line.split(' ');
    if (word === 'hasher') probe.hasher = rest[0] === '-' ? undefined : rest[0];
    else if (word === 'tools' && rest[0] === 'missing') probe.missingTools = rest.slice(1);
    else if (word === 'target' && rest[1] === 'ok') probe.targets.push({ path: rest[0]!, ok: true, exists: rest[2] === 'exists' });
    else if (word === 'target' && rest[1] === 'fail') probe.targets.push({ path: rest[0]!, ok: false, reason: rest.slice(2).join(' ') });
    else if (word === 'upgrades' && (rest[0] === 'signed' || rest[0] === 'off')) probe.upgrades = rest[0];
    else if (word === 'signer' && rest.length === 2 && /^[a-z0-9@.-]+$/.test(rest[0]!) && /^[A-Za-z0-9+/]+={0,2}$/.test(rest[1]!)) probe.signers.push(`${rest[0]} ${rest[1]}`);
  }
  return probe;
}

/** Read a stream to a string, keeping at most MAX_OUTPUT bytes. */
function readAll(stream: Readable): Promise<string> {
  return new Promise((resolve) => {
    let text = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      if (text.length < MAX_OUTPUT) text += chunk;
    });
    stream.once('end', () => resolve(text));
    stream.once('error', () => resolve(text));
  });
}
