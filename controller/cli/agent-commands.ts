/** Agent release commands: `courier agent sign` (on the release machine) and `courier agent verify` (anywhere). */
import path from 'node:path';
import { packagePath } from '../package-root.js';
import { readAgentSigner, signAgent, signaturePathFor, verifyAgent } from '../join/agent-release.js';
import { agentVersionOf } from '../transport/upgrade-agent.js';
import { readFile } from 'node:fs/promises';
import type { CommandContext } from './run-command.js';

/** The agent script a command works on: `--agent PATH`, default the one shipped with courier. */
function agentFile(agent: string | undefined): string {
  return agent ? path.resolve(agent) : packagePath('node-agent', 'courier-agent');
}

/** `courier agent sign --key FILE [--agent PATH]`: write `<agent>.sig` and print the signer's fingerprint. */
export async function agentSignCommand(ctx: CommandContext, opts: { key: string; agent?: string }): Promise<number> {
  const agent = agentFile(opts.agent);
  const { signature, fingerprint } = await signAgent(opts.key, agent);
  const version = agentVersionOf(await readFile(agent, 'utf8'));
  ctx.out(`signed ${agent} (agent ${version || 'without AGENT_VERSION'}) into ${signature}`);
  ctx.out(`signer ${fingerprint} (pin its .pub on nodes with --agent-signer)`);
  return 0;
}

/** `courier agent verify --signer FILE [--agent PATH] [--signature PATH]`: exit 0 only when the signature is the signer's. */
export async function agentVerifyCommand(ctx: CommandContext, opts: { signer: string; agent?: string; signature?: string }): Promise<number> {
  const agent = agentFile(opts.agent);
  const signature = opts.signature ? path.resolve(opts.signature) : signaturePathFor(agent);
  const signer = await readAgentSigner(opts.signer, '--signer');
  await verifyAgent(signer, agent, signature);
  ctx.out(`good: ${signature} is a courier-agent signature of ${agent} by ${signer.split(' ')[0]} ${opts.signer}`);
  return 0;
}
