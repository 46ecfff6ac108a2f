/**
 * Wrapping ssh2 errors into courier's codes, where they enter the transport stage. ssh2 tags most
 * errors with a `level` (client-socket, client-timeout, client-dns, client-authentication, agent,
 * handshake, protocol); socket errors carry the errno `code`.
 */
import type { Node } from '../registry/model.js';
import { CourierError } from '../errors.js';

/** ssh2's error shape: an Error with an optional `level` and errno or disconnect-reason `code`. */
export type Ssh2Error = Error & { level?: string; code?: string | number };

/** Where an error happened, for messages and `data`. */
export interface SshTarget {
  node: Node;
  host: string;
  port: number;
}

/** `node-1 (root@127.0.0.2:2222)` */
export function describeTarget({ node, host, port }: SshTarget): string {
  return `${node.name} (${node.sshUser}@${host}:${port})`;
}

// Socket errors that mean "nobody answered at that address" rather than "the session broke".
const UNREACHABLE_ERRNOS = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'EHOSTDOWN', 'ENETDOWN', 'EADDRNOTAVAIL', 'ENOTFOUND', 'EAI_AGAIN']);
// SSH_DISCONNECT_NO_MORE_AUTH_METHODS_AVAILABLE: the server gave up on our keys.
const DISCONNECT_NO_MORE_AUTH_METHODS = 14;

/** Map an error raised while connecting (before the exec channel is open) to a CourierError. */
export function wrapConnectError(err: Ssh2Error, target: SshTarget, connectTimeout: number): CourierError {
  const where = describeTarget(target);
  const data = { node: target.node.name, host: target.host, port: target.port, level: err.level, errno: err.code };
  const code = typeof err.code === 'string' ? err.code : undefined;
  switch (err.level) {
    case 'client-timeout':
      return timeoutError(target, connectTimeout, err);
    case 'client-dns':
      return new CourierError('NODE_UNREACHABLE', `${where}: cannot resolve the address: ${err.message}`, data, { cause: err });
    case 'client-authentication':
      return authError(target, err);
    case 'agent':
      return new CourierError('SSH_KEY_MISSING', `${where}: cannot use the ssh-agent (SSH_AUTH_SOCK): ${err.message}; start an agent with a key loaded, or set ssh.identity`, data, {
        cause: err,
      });
    case 'client-socket':
      if (code === 'ETIMEDOUT') return timeoutError(target, connectTimeout, err);
      if (code !== undefined && UNREACHABLE_ERRNOS.has(code)) {
        return new CourierError('NODE_UNREACHABLE', `${where}: ${code}: nothing answers on the SSH port; check that the node is up and its ip and ssh_port`, data, { cause: err });
      }
      return new CourierError('CONNECTION_LOST', `${where}: the connection broke during the SSH handshake: ${err.message}`, data, { cause: err });
    case 'protocol':
      // "Connection lost before handshake": something accepted the TCP connection and hung up.
      return new CourierError('NODE_UNREACHABLE', `${where}: the SSH port closed the connection before the SSH handshake: ${err.message}`, data, { cause: err });
    case 'handshake':
      return new CourierError('NODE_UNREACHABLE', `${where}: the SSH handshake failed: ${err.message}`, data, { cause: err, retryable: false });
    default:
      // A server DISCONNECT: "Too many authentication failures" comes as a protocol error.
      if (err.code === DISCONNECT_NO_MORE_AUTH_METHODS || /authentication/i.test(err.message)) return authError(target, err);
      return new CourierError('CONNECTION_LOST', `${where}: the connection ended before the agent started: ${err.message}`, data, { cause: err });
  }
}

/** SSH_TIMEOUT for the connect phase (TCP connect + handshake + authentication + opening the exec). */
export function timeoutError(target: SshTarget, connectTimeout: number, cause?: unknown): CourierError {
  return new CourierError(
    'SSH_TIMEOUT',
    `${describeTarget(target)}: no SSH session within ssh.connectTimeout (${connectTimeout} ms); check the node and the network, or raise ssh.connectTimeout`,
    { node: target.node.name, host: target.host, port: target.port, phase: 'connect', timeout: connectTimeout },
    cause === undefined ? {} : { cause },
  );
}

function authError(target: SshTarget, err: Error): CourierError {
  return new CourierError(
    'AUTH_FAILED',
    `${describeTarget(target)}: the node refused every key offered (${err.message}); install the control plane's public key in ${target.node.sshUser}'s authorized_keys there`,
    { node: target.node.name, host: target.host, port: target.port, user: target.node.sshUser },
    { cause: err },
  );
}

/** HOST_KEY_UNKNOWN: the message shows the fingerprint and how to trust the node. */
export function hostKeyUnknownError(target: SshTarget, keyType: string, fingerprint: string, knownHostsFile: string): CourierError {
  const name = target.node.name;
  return new CourierError(
    'HOST_KEY_UNKNOWN',
    `${describeTarget(target)}: host key not in ${knownHostsFile}; its ${keyType} key fingerprint is ${fingerprint}. ` +
      `Compare it with the node (\`ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub\` there), then run \`courier nodes trust ${name}\``,
    { node: name, host: target.host, port: target.port, fingerprint, keyType, knownHostsFile },
  );
}

/** HOST_KEY_MISMATCH: the key differs from (or is revoked in) known_hosts; nothing was sent. */
export function hostKeyMismatchError(
  target: SshTarget,
  keyType: string,
  fingerprint: string,
  expected: string[],
  revoked: boolean,
  knownHostsFile: string,
): CourierError {
  const name = target.node.name;
  const what = revoked
    ? `offered the host key ${fingerprint}, which ${knownHostsFile} marks @revoked`
    : `offered the ${keyType} host key ${fingerprint}, but ${knownHostsFile} has ${expected.join(', ')} for it`;
  return new CourierError(
    'HOST_KEY_MISMATCH',
    `${describeTarget(target)}: ${what}. Nothing was sent. If the node was reinstalled, remove its line from ${knownHostsFile} and run \`courier nodes trust ${name}\`; otherwise treat it as an attack`,
    { node: name, host: target.host, port: target.port, fingerprint, keyType, expected, revoked, knownHostsFile },
  );
}
