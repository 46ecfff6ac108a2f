/**
 * The SSH transport: one ssh2 connection and one exec per node session, with strict host-key
 * checking against known_hosts. Nothing is sent before the host key matched; an unknown or changed
 * key refuses the connection with an error saying how to trust the node. This stage does not log:
 * every failure is thrown (or rejects `exit`) as a CourierError wrapping the ssh2 error as `cause`.
 */
import { readFile } from 'node:fs/promises';
import ssh2 from 'ssh2';
import type { ClientChannel, ConnectConfig, ServerHostKeyAlgorithm } from 'ssh2';
import type { Node } from '../registry/model.js';
import { CourierError } from '../errors.js';
import { countingReadable, countingWritable, normalizeSignal, quietly, type AgentChannel, type AgentExit } from './agent-channel.js';
import { checkHostKey, fingerprintSha256, keyTypeOf, knownKeyTypes, readKnownHostsCached, type KnownHost } from './known-hosts.js';
import { describeTarget, hostKeyMismatchError, hostKeyUnknownError, timeoutError, wrapConnectError, type Ssh2Error, type SshTarget } from './ssh-errors.js';

/** How to reach and authenticate to a node over SSH (from courier.yaml's `ssh` section). */
export interface SshChannelOptions {
  /** Private key file; when unset, the ssh-agent at `agentSocket` (default `$SSH_AUTH_SOCK`) is used. */
  identity?: string;
  agentSocket?: string;
  /** known_hosts file host keys are checked against (and named in messages). */
  knownHostsFile: string;
  /** Bound in ms on TCP connect + SSH handshake + authentication + opening the exec. */
  connectTimeout: number;
  /** Bound in ms on the whole exec, from the moment it is open; unset = no bound. */
  sessionTimeout?: number;
  /** Already-parsed known_hosts entries (saves re-reading the file for every node of a push). */
  knownHosts?: KnownHost[];
  /** SSH keepalive interval in ms (ssh.keepAlive); a silent peer is dropped after 3 unanswered. */
  keepAliveInterval?: number;
  /** The agent release signature sent with upgrades to restricted nodes; unset: no upgrade is attempted. */
  agentSignature?: Buffer;
  /** Where an unsigned upgrade is warned about (once per node). */
  warn?: (data: Record<string, unknown>, message: string) => void;
}

/** A host key as `courier nodes trust` shows and stores it. */
export interface HostKey {
  keyType: string;
  keyBlob: Buffer;
  fingerprint: string;
}

// ssh2's default server host key order; the types known_hosts has for the host are moved first.
const HOST_KEY_ALGORITHMS: ServerHostKeyAlgorithm[] = ['ssh-ed25519', 'ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp384', 'ecdsa-sha2-nistp521', 'rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'];
// A silent peer (cable pulled, node frozen) is noticed after interval * (count + 1) ms.
const KEEPALIVE_INTERVAL = 15_000;
const KEEPALIVE_COUNT_MAX = 3;

/**
 * Open one SSH connection to `node` (node.ip, node.sshPort, node.sshUser) and exec `command`.
 * Resolves once the exec channel is open. Rejects with SSH_KEY_MISSING, HOST_KEY_UNKNOWN,
 * HOST_KEY_MISMATCH, NODE_UNREACHABLE, SSH_TIMEOUT, AUTH_FAILED or CONNECTION_LOST. Afterwards the
 * channel's `exit` rejects with CONNECTION_LOST when the connection ends before an exit status
 * arrives (a remote process killed by a signal resolves `{ code: null, signal }` instead), and with
 * SSH_TIMEOUT when `sessionTimeout` passes. The connection is closed when the exec ends.
 */
export async function openSshChannel(node: Node, command: string, options: SshChannelOptions): Promise<AgentChannel> {
  const target: SshTarget = { node, host: node.ip, port: node.sshPort };
  const credentials = await loadCredentials(target, options);
  const entries = options.knownHosts ?? (await readKnownHostsCached(options.knownHostsFile));

  // The command (the inline agent: ~25 KB) is needed once; a listener that kept it would keep it
  // for the whole life of a warm session (25 MB over 1,000 sessions).
  let pendingCommand: string | undefined = command;
  return new Promise<AgentChannel>((resolve, reject) => {
    const client = new ssh2.Client();
    let hostKeyError: CourierError | undefined;
    let connected = false;
    let failed = false;
    // Set once the exec is open: from then on errors and close go to the session.
    let session: { onError(err: Ssh2Error): void; onClose(): void } | undefined;

    const fail = (err: CourierError) => {
      if (connected || failed) return;
      failed = true;
      clearTimeout(timer);
      client.destroy();
      reject(err);
    };
    // Our own timer as well as ssh2's readyTimeout: readyTimeout stops at authentication, this one
    // also covers opening the exec channel.
    const timer = setTimeout(() => fail(timeoutError(target, options.connectTimeout)), options.connectTimeout);

    client.on('error', (err: Ssh2Error) => {
      if (session) session.onError(err);
      else fail(hostKeyError ?? wrapConnectError(err, target, options.connectTimeout));
    });
    client.on('close', () => {
      if (session) session.onClose();
      else fail(hostKeyError ?? new CourierError('CONNECTION_LOST', `${describeTarget(target)}: the connection closed before the agent started`, { node: node.name, host: target.host, port: target.port }));
    });
    client.once('ready', () => {
      const toRun = pendingCommand ?? '';
      pendingCommand = undefined;
      client.exec(toRun, (err, channel) => {
        if (failed) {
          channel?.close();
          return;
        }
        if (err) {
          fail(new CourierError('CONNECTION_LOST', `${describeTarget(target)}: the node refused to start the agent: ${err.message}`, { node: node.name, host: target.host, port: target.port }, { cause: err }));
          return;
        }
        connected = true;
        clearTimeout(timer);
        const opened = wrapExecChannel(client, channel, target, options.sessionTimeout);
        session = opened.session;
        resolve(opened.channel);
      });
    });

    const config: ConnectConfig = {
      host: target.host,
      port: target.port,
      username: node.sshUser,
      ...credentials,
      readyTimeout: options.connectTimeout,
      keepaliveInterval: options.keepAliveInterval ?? KEEPALIVE_INTERVAL,
      keepaliveCountMax: KEEPALIVE_COUNT_MAX,
      hostVerifier: (key: Buffer): boolean => {
        const check = checkHostKey(entries, target.host, target.port, key);
        if (check.result === 'match') return true;
        const keyType = keyTypeOf(key);
        const fingerprint = fingerprintSha256(key);
        hostKeyError =
          check.result === 'unknown'
            ? hostKeyUnknownError(target, keyType, fingerprint, options.knownHostsFile)
            : hostKeyMismatchError(target, keyType, fingerprint, check.expected, check.revoked === true, options.knownHostsFile);
        // false aborts the key exchange: no authentication, no exec, nothing sent.
        return false;
      },
    };
    const preferred = hostKeyAlgorithms(knownKeyTypes(entries, target.host, target.port));
    if (preferred) config.algorithms = { serverHostKey: preferred };
    try {
      client.connect(config);
    } catch (err) {
      fail(new CourierError('SSH_KEY_MISSING', `${describeTarget(target)}: cannot use the configured key: ${(err as Error).message}`, { node: node.name }, { cause: err }));
    }
  });
}

/**
 * Connect to `node` just far enough to receive its host key, then abort the handshake (nothing is
 * authenticated or sent). For `courier nodes trust`: the operator compares the fingerprint.
 */
export async function fetchHostKey(node: Node, options: { connectTimeout: number }): Promise<HostKey> {
  const target: SshTarget = { node, host: node.ip, port: node.sshPort };
  return new Promise<HostKey>((resolve, reject) => {
    const client = new ssh2.Client();
    let hostKey: HostKey | undefined;
    let settled = false;
    const settle = (err?: CourierError) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      client.destroy();
      if (hostKey) resolve(hostKey);
      else reject(err ?? new CourierError('CONNECTION_LOST', `${describeTarget(target)}: the connection closed before the node sent its host key`, { node: node.name, host: target.host, port: target.port }));
    };
    const timer = setTimeout(() => settle(timeoutError(target, options.connectTimeout)), options.connectTimeout);
    client.on('error', (err: Ssh2Error) => settle(wrapConnectError(err, target, options.connectTimeout)));
    client.on('close', () => settle());
    client.connect({
      host: target.host,
      port: target.port,
      username: node.sshUser,
      readyTimeout: options.connectTimeout,
      hostVerifier: (key: Buffer): boolean => {
        hostKey = { keyType: keyTypeOf(key), keyBlob: Buffer.from(key), fingerprint: fingerprintSha256(key) };
        // Refusing the key ends the handshake here; settle() resolves with what was captured.
        setImmediate(() => settle());
        return false;
      },
    });
  });
}

/** The key file's bytes last checked as a usable private key (the file is still read every time). */
let lastUsableKey: Buffer | undefined;

/** Private key from `identity`, else the ssh-agent; neither → SSH_KEY_MISSING. */
async function loadCredentials(target: SshTarget, options: SshChannelOptions): Promise<{ privateKey: Buffer } | { agent: string }> {
  const where = describeTarget(target);
  if (options.identity) {
    let privateKey: Buffer;
    try {
      privateKey = await readFile(options.identity);
    } catch (err) {
      throw new CourierError('SSH_KEY_MISSING', `${where}: cannot read the private key ${options.identity} (ssh.identity): ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { node: target.node.name, identity: options.identity }, { cause: err });
    }
    // the same bytes were found usable before: ssh2 parses them again on connect anyway
    if (lastUsableKey !== undefined && lastUsableKey.equals(privateKey)) return { privateKey };
    const parsed = ssh2.utils.parseKey(privateKey);
    if (parsed instanceof Error || (Array.isArray(parsed) ? parsed[0] : parsed)?.isPrivateKey() !== true) {
      const reason = parsed instanceof Error ? parsed.message : 'not a private key';
      throw new CourierError(
        'SSH_KEY_MISSING',
        `${where}: ${options.identity} (ssh.identity) is not a usable private key (${reason}); a passphrase-protected key must be loaded into an ssh-agent instead`,
        { node: target.node.name, identity: options.identity },
        parsed instanceof Error ? { cause: parsed } : {},
      );
    }
    lastUsableKey = privateKey;
    return { privateKey };
  }
  const agent = options.agentSocket ?? process.env.SSH_AUTH_SOCK;
  if (agent) return { agent };
  throw new CourierError('SSH_KEY_MISSING', `${where}: no SSH key: ssh.identity is not set and there is no ssh-agent (SSH_AUTH_SOCK)`, { node: target.node.name });
}

/** The server host key algorithm list with the known types first, or undefined when none are known. */
function hostKeyAlgorithms(knownTypes: string[]): ServerHostKeyAlgorithm[] | undefined {
  if (knownTypes.length === 0) return undefined;
  const first = knownTypes.flatMap((type) => (type === 'ssh-rsa' ? ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'] : [type])).filter((a): a is ServerHostKeyAlgorithm => (HOST_KEY_ALGORITHMS as string[]).includes(a));
  return [...new Set([...first, ...HOST_KEY_ALGORITHMS])];
}

/** Turn an open ssh2 exec channel into an AgentChannel, and say how connection events end it. */
function wrapExecChannel(
  client: InstanceType<typeof ssh2.Client>,
  channel: ClientChannel,
  target: SshTarget,
  sessionTimeout: number | undefined,
): { channel: AgentChannel; session: { onError(err: Ssh2Error): void; onClose(): void } } {
  const where = describeTarget(target);
  const data = { node: target.node.name, host: target.host, port: target.port };
  let open = true;
  let exitStatus: AgentExit | undefined;
  let lastError: Ssh2Error | undefined;
  let closedByUs = false;
  let timedOut = false;
  let settle: (outcome: AgentExit | CourierError) => void = () => undefined;

  const stdin = countingWritable(channel, () => open && channel.writable);
  const stdout = countingReadable();
  const stderr = countingReadable();
  channel.pipe(stdout.stream);
  channel.stderr.pipe(stderr.stream);
  // Errors on the channel streams surface through `exit`.
  channel.on('error', (err: Ssh2Error) => (lastError ??= err));
  channel.stderr.on('error', (err: Ssh2Error) => (lastError ??= err));
  channel.on('exit', (code: number | null, signal?: string) => {
    exitStatus = code === null || code === undefined ? { code: null, signal: normalizeSignal(signal ?? 'UNKNOWN') } : { code };
  });

  const exit = quietly(
    new Promise<AgentExit>((resolve, reject) => {
      settle = (outcome) => {
        settle = () => undefined;
        open = false;
        clearTimeout(timer);
        if (outcome instanceof CourierError) reject(outcome);
        else resolve(outcome);
      };
    }),
  );

  // The exec is over (or the connection is gone): settle `exit`, end the streams, drop the connection.
  const finish = () => {
    if (!open) return;
    if (exitStatus && !timedOut) {
      settle(exitStatus);
    } else if (timedOut) {
      settle(
        new CourierError('SSH_TIMEOUT', `${where}: the agent session ran longer than ssh.sessionTimeout (${sessionTimeout} ms) and was cut off; raise ssh.sessionTimeout if the node is just slow`, {
          ...data,
          phase: 'session',
          timeout: sessionTimeout,
        }),
      );
    } else {
      const why = closedByUs ? 'the session was closed before the agent finished' : `the connection ended before the agent finished${lastError ? `: ${lastError.message}` : ''}`;
      settle(new CourierError('CONNECTION_LOST', `${where}: ${why}`, { ...data, closedBy: closedByUs ? 'controller' : 'connection' }, lastError ? { cause: lastError } : {}));
    }
    // Without an exit status the rest of the output does not matter: end the streams now so a
    // reader never waits on a dead connection. With one, ssh2 ends them once they are drained.
    if (!exitStatus) {
      for (const [source, sink] of [
        [channel, stdout.stream],
        [channel.stderr, stderr.stream],
      ] as const) {
        if (!sink.writableEnded) {
          source.unpipe(sink);
          sink.end();
        }
      }
    }
    client.end();
  };

  const timer =
    sessionTimeout !== undefined && sessionTimeout > 0
      ? setTimeout(() => {
          timedOut = true;
          client.destroy();
          finish();
        }, sessionTimeout)
      : undefined;

  // 'close' follows exit-status and EOF; the streams may still hold unread data, which stays readable.
  channel.on('close', finish);

  return {
    channel: {
      stdin: stdin.stream,
      stdout: stdout.stream,
      stderr: stderr.stream,
      exit,
      close() {
        if (!open) return;
        closedByUs = true;
        client.end();
      },
      bytesWritten: stdin.count,
      bytesRead: stdout.count,
    },
    session: {
      onError(err) {
        lastError ??= err;
        client.destroy();
      },
      onClose: finish,
    },
  };
}
