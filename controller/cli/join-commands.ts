/** Node access commands: nodes join (by password, or `--print` then with the fingerprint), nodes restrict, nodes remove --revoke. */
import { readFile } from 'node:fs/promises';
import readline from 'node:readline/promises';
import { CourierError } from '../errors.js';
import { openSite } from '../pipeline/open-site.js';
import type { NodeRole } from '../registry/model.js';
import { bootstrapCommand, BOOTSTRAP_MAX_BYTES } from '../join/bootstrap-command.js';
import { readControlPlaneKey } from '../join/control-plane-key.js';
import { joinNode, type JoinRequest } from '../join/join-node.js';
import type { JoinIo } from '../join/join-steps.js';
import { restrictNode, revokeNode } from '../join/restrict-node.js';
import { targetPaths, targetsFile } from '../join/restricted-entry.js';
import { allowedSignersLine, readAgentSigner } from '../join/agent-release.js';
import { scriptOid } from '../transport/upgrade-agent.js';
import type { HostKey } from '../transport/ssh-transport.js';
import type { CommandContext } from './run-command.js';

/** `courier nodes join` flags. */
export interface JoinOptions {
  port?: string;
  sudo?: boolean;
  root?: string;
  fingerprint?: string;
  publicIp?: string;
  passwordFile?: string;
  askPassword?: boolean;
  print?: boolean;
  yes?: boolean;
  /** Commander's `--no-upgrade` (the default, kept as an alias): false when given. */
  upgrade?: boolean;
  /** `--agent-signer FILE`: the agent release signer's public key, pinned on the node. */
  agentSigner?: string;
}

/** The signer key of `--agent-signer FILE` (`<type> <base64>`), or undefined; `--no-upgrade` with it is a usage error. */
async function agentSignerOption(opts: { upgrade?: boolean; agentSigner?: string }): Promise<string | undefined> {
  if (opts.agentSigner === undefined) return undefined;
  if (opts.upgrade === false) throw new CourierError('USAGE', '--no-upgrade and --agent-signer contradict each other: leave out --no-upgrade to take signed agent upgrades, or --agent-signer to take none');
  return readAgentSigner(opts.agentSigner);
}

/** `courier nodes join ROLE IP NAME USER [...]`. */
export async function nodesJoinCommand(ctx: CommandContext, role: string, ip: string, name: string, user: string, opts: JoinOptions): Promise<number> {
  const port = opts.port === undefined ? 22 : parsePort(opts.port);
  if (opts.yes && !opts.fingerprint) throw new CourierError('USAGE', '--yes accepts a host key only together with --fingerprint SHA256:... (compare it on the node: ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub)');
  if (opts.passwordFile && opts.askPassword) throw new CourierError('USAGE', 'give either --password-file or --ask-password');
  if (opts.publicIp && role !== 'vps') throw new CourierError('USAGE', '--public-ip is for a vps node (its edge entry in domains.json)');
  const site = await openSite(ctx.options.config, ctx.logger);
  const agentSigner = await agentSignerOption(opts);
  const paths = targetPaths(role as NodeRole, site.settings, opts.root);

  if (opts.print) {
    if (opts.sudo) throw new CourierError('USAGE', '--print --sudo: the pasted command cannot write a sudoers drop-in; paste it as root, or join by password with --sudo');
    if (opts.passwordFile || opts.askPassword) throw new CourierError('USAGE', '--print is for nodes without password access; leave the password out');
    const key = await readControlPlaneKey(site.config);
    const next = ['courier', ...(ctx.options.config === 'courier.yaml' ? [] : ['--config', ctx.options.config]), 'nodes', 'join', role, ip, name, user];
    if (opts.port) next.push('--port', String(port));
    if (opts.root) next.push('--root', opts.root);
    if (opts.publicIp) next.push('--public-ip', opts.publicIp);
    const command = bootstrapCommand({
      publicKey: key.publicKey,
      targets: targetsFile(paths, opts.root, agentSigner ? 'signed' : 'no'),
      signers: agentSigner ? allowedSignersLine(agentSigner) : undefined,
      agentOid: scriptOid(site.agentScript),
      ip,
      port,
      nextCommand: next,
    });
    if (Buffer.byteLength(command) > BOOTSTRAP_MAX_BYTES) throw new CourierError('USAGE', `the bootstrap command would be ${Buffer.byteLength(command)} bytes (over ${BOOTSTRAP_MAX_BYTES}); shorten --root or the target paths${agentSigner && !agentSigner.startsWith('ssh-ed25519 ') ? ', or give an ed25519 --agent-signer (an RSA key is long)' : ''}`);
    // stdout holds the command and nothing else
    ctx.out(command);
    return 0;
  }

  const password = opts.passwordFile ? await readPasswordFile(opts.passwordFile) : opts.askPassword ? await askPassword(`password for ${user}@${ip}: `) : undefined;
  if (password === undefined && !opts.fingerprint) {
    throw new CourierError('USAGE', 'without a password (--password-file F or --ask-password) the join goes over the key a `--print` command installed, and needs --fingerprint SHA256:... (the printed line has it)');
  }
  const request: JoinRequest = { role: role as NodeRole, ip, name, user, port, sudo: opts.sudo === true, root: opts.root, fingerprint: opts.fingerprint, publicIp: opts.publicIp, password, agentSigner };
  await joinNode(site, request, terminalIo(ctx, opts.yes === true));
  return 0;
}

/** `courier nodes restrict NAME`. */
export async function nodesRestrictCommand(ctx: CommandContext, name: string, opts: { upgrade?: boolean; agentSigner?: string } = {}): Promise<number> {
  const agentSigner = await agentSignerOption(opts);
  const site = await openSite(ctx.options.config, ctx.logger);
  await restrictNode(site, name, terminalIo(ctx, false), { agentSigner });
  return 0;
}

/** `courier nodes remove NAME --revoke`. */
export async function nodesRevokeCommand(ctx: CommandContext, name: string): Promise<number> {
  const site = await openSite(ctx.options.config, ctx.logger);
  await revokeNode(site, name, terminalIo(ctx, false));
  return 0;
}

/** Steps as lines on stdout; the host key question on the terminal (refused without one). */
function terminalIo(ctx: CommandContext, yes: boolean): JoinIo {
  return {
    step: (text) => ctx.out(`- ${text}`),
    async confirmHostKey(key: HostKey) {
      ctx.out(`- the node presents the ${key.keyType} host key ${key.fingerprint}`);
      if (yes) throw new CourierError('USAGE', '--yes accepts a host key only together with --fingerprint');
      if (!process.stdin.isTTY) throw new CourierError('USAGE', `not a terminal: compare ${key.fingerprint} with the node (ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub), then run again with --fingerprint ${key.fingerprint}`);
      const rl = readline.createInterface({ input: process.stdin, output: process.stderr });
      const answer = await rl.question('Is this the node\'s key? Compare it on the node with `ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub`. [y/N] ');
      rl.close();
      return /^y(es)?$/i.test(answer.trim());
    },
  };
}

/** The first line of the file: the password (never logged, never stored). */
async function readPasswordFile(file: string): Promise<string> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new CourierError('USAGE', `--password-file ${file}: cannot read it (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, { file }, { cause: err });
  }
  const password = text.split(/\r?\n/)[0] ?? '';
  if (password === '') throw new CourierError('USAGE', `--password-file ${file}: the first line is empty`, { file });
  return password;
}

/** Ask on the terminal without echo. */
async function askPassword(prompt: string): Promise<string> {
  const stdin = process.stdin;
  if (!stdin.isTTY) throw new CourierError('USAGE', '--ask-password needs a terminal; use --password-file F in scripts');
  process.stderr.write(prompt);
  stdin.setRawMode(true);
  stdin.resume();
  stdin.setEncoding('utf8');
  return new Promise((resolve, reject) => {
    let typed = '';
    const onData = (chunk: string) => {
      for (const ch of chunk) {
        if (ch === '\r' || ch === '\n') {
          finish();
          resolve(typed);
          return;
        }
        if (ch === '\u0003') {
          finish();
          reject(new CourierError('USAGE', 'cancelled'));
          return;
        }
        if (ch === '\u007f') typed = typed.slice(0, -1);
        else typed += ch;
      }
    };
    const finish = () => {
      stdin.off('data', onData);
      stdin.setRawMode(false);
      stdin.pause();
      process.stderr.write('\n');
    };
    stdin.on('data', onData);
  });
}

function parsePort(text: string): number {
  const port = Number(text);
  if (!/^\d{1,5}$/.test(text) || port < 1 || port > 65535) throw new CourierError('USAGE', `--port ${text}: expected a port (1-65535)`, { flag: '--port', value: text });
  return port;
}
