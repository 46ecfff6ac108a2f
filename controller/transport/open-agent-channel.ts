/**
 * Start the node agent on a node: build the inline `sh -c '<agent>' courier-agent <args>` command
 * (nothing is installed on nodes) and run it over the node's transport (ssh or local).
 */
import type { Node } from '../registry/model.js';
import type { AgentChannel } from './agent-channel.js';
import { openLocalChannel } from './local-transport.js';
import { openSshChannel, type SshChannelOptions } from './ssh-transport.js';

/** Transport settings for a push: the SSH options (the local transport uses only sessionTimeout). */
export type TransportOptions = SshChannelOptions;

// Words the shell reads literally without quotes; everything else is single-quoted.
const SAFE_WORD = /^[A-Za-z0-9_@%+=:,./-]+$/;

/** Quote one word for a POSIX shell: `'...'` with each `'` written as `'\''`. */
export function shellQuote(word: string): string {
  if (SAFE_WORD.test(word)) return word;
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

/**
 * The command that runs `agentScript` inline: `sh -c '<script>' courier-agent <args...>`, the
 * script and every argument shell-quoted, prefixed with `sudo -n ` when the node wants sudo (-n:
 * fail rather than wait for a password prompt nobody will answer). The node's login shell must be
 * a POSIX shell, which parses the quotes; `courier-agent` becomes the script's `$0`.
 */
export function buildAgentCommand(agentScript: string, args: readonly string[], options: { sudo: boolean }): string {
  const words = ['sh', '-c', inlineScript(agentScript), 'courier-agent', ...args.map(shellQuote)];
  return `${options.sudo ? 'sudo -n ' : ''}${words.join(' ')}`;
}

/**
 * The command sent to a restricted node: just the agent's own words (`courier-agent sync
 * --remove-legacy`). Its forced command runs the installed agent, which refuses anything else, and
 * the root is fixed on the node at join, so `--root` is never sent; sudo, when the node has it, is
 * part of the forced command.
 */
export function buildRestrictedCommand(args: readonly string[]): string {
  const words: string[] = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--root') i++;
    else words.push(shellQuote(args[i]!));
  }
  return ['courier-agent', ...words].join(' ');
}

let lastInline: { script: string; quoted: string } | undefined;

/**
 * The agent as it travels inline, shell-quoted: without its comment lines, blank lines and
 * indentation (outside the one here-document, whose text is kept as written). The login shell and
 * then `sh` parse the whole command on every cold session, and a warm session's channel keeps it:
 * about 40% fewer bytes to send, parse and hold. The installed agent is the full script.
 */
export function inlineScript(agentScript: string): string {
  if (lastInline?.script === agentScript) return lastInline.quoted;
  const kept: string[] = [];
  let hereEnd: string | undefined;
  for (const line of agentScript.split('\n')) {
    if (hereEnd !== undefined) {
      kept.push(line);
      if (line === hereEnd) hereEnd = undefined;
      continue;
    }
    const trimmed = line.trimStart();
    if (trimmed === '' || trimmed.startsWith('#')) continue;
    kept.push(trimmed);
    hereEnd = /<<-?\s*'?([A-Z]+)'?\s*$/.exec(trimmed)?.[1];
  }
  const quoted = `'${kept.join('\n').replace(/'/g, `'\\''`)}'`;
  lastInline = { script: agentScript, quoted };
  return quoted;
}

/** Open an agent channel to `node` over its transport (`ssh` or `local`) running `agentScript` with `args`. */
export async function openAgentChannel(node: Node, agentScript: string, args: readonly string[], options: TransportOptions): Promise<AgentChannel> {
  const command = node.restricted === true && node.transport === 'ssh' ? buildRestrictedCommand(args) : buildAgentCommand(agentScript, args, { sudo: node.sudo });
  if (node.transport === 'local') {
    return openLocalChannel(command, { name: node.name, ...(options.sessionTimeout === undefined ? {} : { sessionTimeout: options.sessionTimeout }) });
  }
  return openSshChannel(node, command, options);
}
