/**
 * The SSH connection `courier nodes join` / `restrict` / `remove --revoke` work over: one ssh2
 * connection, authenticated by the node's first access (a password, never stored or logged) or by
 * a key, on which several commands run one after another. The host key is pinned: it must have the
 * given SHA256 fingerprint, or the handshake is aborted before any password or command is sent.
 */
import ssh2 from 'ssh2';
import type { ClientChannel, ConnectConfig } from 'ssh2';
import { CourierError } from '../errors.js';
import type { Node } from '../registry/model.js';
import type { AgentChannel, AgentExit } from '../transport/agent-channel.js';
import { fingerprintSha256, keyTypeOf } from '../transport/known-hosts.js';
import { describeTarget, timeoutError, wrapConnectError, type Ssh2Error, type SshTarget } from '../transport/ssh-errors.js';
import type { HostKey } from '../transport/ssh-transport.js';

/** How to reach the node for a join. */
export interface JoinSessionOptions {
  name: string;
  host: string;
  port: number;
  user: string;
  auth: { password: string } | { privateKey: Buffer } | { agent: string };
  /** `SHA256:...` (the prefix may be left out): the only host keys accepted. */
  fingerprints: readonly string[];
  connectTimeout: number;
}

/** What one command printed and how it ended. */
export interface ExecResult {
  code: number | null;
  signal?: string;
  stdout: string;
  stderr: string;
}

/** An open join connection. */
export interface JoinSession {
  hostKey: HostKey;
  /** Run `command`, write `input` (then EOF) to its stdin, collect its output. */
  exec(command: string, input?: string | Buffer): Promise<ExecResult>;
  /** Start `command` and hand its streams over (the agent upgrade drives them itself). */
  open(command: string): Promise<AgentChannel>;
  close(): void;
}

/** `SHA256:abc` and `abc` name the same fingerprint. */
export function normalizeFingerprint(text: string): string {
  const trimmed = text.trim();
  return trimmed.startsWith('SHA256:') ? trimmed : `SHA256:${trimmed}`;
}

/** Connect and authenticate, pinned to `options.fingerprints`: HOST_KEY_MISMATCH (nothing sent), AUTH_FAILED, NODE_UNREACHABLE, SSH_TIMEOUT. */
export async function openJoinSession(options: JoinSessionOptions): Promise<JoinSession> {
  const node: Node = { name: options.name, role: 'worker', ip: options.host, sshUser: options.user, sshPort: options.port, sudo: false, transport: 'ssh' };
  const target: SshTarget = { node, host: options.host, port: options.port };
  const expected = options.fingerprints.map(normalizeFingerprint);
  const client = new ssh2.Client();
  let hostKey: HostKey | undefined;
  let mismatch: CourierError | undefined;

  await new Promise<void>((resolve, reject) => {
    let settled = false;
    const settle = (err?: CourierError) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (err) {
        client.destroy();
        reject(err);
      } else {
        resolve();
      }
    };
    const timer = setTimeout(() => settle(timeoutError(target, options.connectTimeout)), options.connectTimeout);
    client.on('ready', () => settle());
    client.on('error', (err: Ssh2Error) => settle(mismatch ?? wrapConnectError(err, target, options.connectTimeout)));
    client.on('close', () => settle(mismatch ?? new CourierError('CONNECTION_LOST', `${describeTarget(target)}: the connection closed during the handshake`, { node: options.name })));
    // Servers that ask for the password through keyboard-interactive (PAM) get it there.
    client.on('keyboard-interactive', (_name, _instructions, _lang, prompts, finish) => finish(prompts.map(() => ('password' in options.auth ? options.auth.password : ''))));
    const config: ConnectConfig = {
      host: options.host,
      port: options.port,
      username: options.user,
      readyTimeout: options.connectTimeout,
      ...('password' in options.auth ? { password: options.auth.password, tryKeyboard: true } : 'privateKey' in options.auth ? { privateKey: options.auth.privateKey } : { agent: options.auth.agent }),
      hostVerifier: (key: Buffer): boolean => {
        const fingerprint = fingerprintSha256(key);
        if (expected.includes(fingerprint)) {
          hostKey = { keyType: keyTypeOf(key), keyBlob: Buffer.from(key), fingerprint };
          return true;
        }
        mismatch = new CourierError(
          'HOST_KEY_MISMATCH',
          `${describeTarget(target)}: presents the ${keyTypeOf(key)} host key ${fingerprint}, not ${expected.join(' or ')} (--fingerprint, or ssh.knownHosts). Nothing was sent (no password, no command) and nothing was installed; check the fingerprint on the node's console (\`ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub\`)`,
          { node: options.name, fingerprint, expected },
        );
        return false;
      },
    };
    client.connect(config);
  });

  const open = (command: string): Promise<AgentChannel> =>
    new Promise((resolve, reject) => {
      client.exec(command, (err, channel) => {
        if (err) reject(new CourierError('CONNECTION_LOST', `${describeTarget(target)}: cannot start a command: ${err.message}`, { node: options.name }, { cause: err }));
        else resolve(wrapChannel(channel));
      });
    });

  return {
    hostKey: hostKey!,
    open,
    async exec(command, input) {
      const channel = await open(command);
      let stdout = '';
      let stderr = '';
      channel.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
      channel.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
      channel.stdin.end(input ?? '');
      const exit = await channel.exit;
      return { ...exit, stdout, stderr };
    },
    close: () => client.end(),
  };
}

/** One exec channel as an AgentChannel (no byte counts needed here). */
function wrapChannel(channel: ClientChannel): AgentChannel {
  let status: AgentExit | undefined;
  channel.on('exit', (code: number | null, signal?: string) => (status = code === null || code === undefined ? { code: null, signal: signal ?? 'UNKNOWN' } : { code }));
  const exit = new Promise<AgentExit>((resolve, reject) => {
    channel.on('close', () => (status ? resolve(status) : reject(new CourierError('CONNECTION_LOST', 'the command ended without an exit status'))));
  });
  exit.catch(() => undefined);
  return {
    stdin: channel,
    stdout: channel,
    stderr: channel.stderr,
    exit,
    close: () => channel.close(),
    bytesWritten: () => 0,
    bytesRead: () => 0,
  };
}
