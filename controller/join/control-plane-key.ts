/**
 * The control plane's own key, as a join needs it: the public half for the node's authorized_keys,
 * and the credentials to log in with it afterwards (ssh.identity, else the ssh-agent's first key).
 */
import { readFile } from 'node:fs/promises';
import ssh2 from 'ssh2';
import type { Config } from '../config/load-config.js';
import { CourierError } from '../errors.js';

/** The key: `<type> <base64>` for authorized_keys, its base64 blob alone, and how to authenticate with it. */
export interface ControlPlaneKey {
  publicKey: string;
  blob: string;
  auth: { privateKey: Buffer } | { agent: string };
}

/** Read ssh.identity (or ask the ssh-agent at SSH_AUTH_SOCK); SSH_KEY_MISSING when neither gives a key. */
export async function readControlPlaneKey(config: Config): Promise<ControlPlaneKey> {
  if (config.ssh.identity) {
    let privateKey: Buffer;
    try {
      privateKey = await readFile(config.ssh.identity);
    } catch (err) {
      throw new CourierError('SSH_KEY_MISSING', `cannot read the private key ${config.ssh.identity} (ssh.identity): ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { identity: config.ssh.identity }, { cause: err });
    }
    const parsed = ssh2.utils.parseKey(privateKey);
    const key = Array.isArray(parsed) ? parsed[0] : parsed;
    if (key === undefined || key instanceof Error || !key.isPrivateKey()) {
      throw new CourierError('SSH_KEY_MISSING', `${config.ssh.identity} (ssh.identity) is not a usable private key; a passphrase-protected key must be loaded into an ssh-agent instead`, { identity: config.ssh.identity });
    }
    const blob = key.getPublicSSH().toString('base64');
    return { publicKey: `${key.type} ${blob}`, blob, auth: { privateKey } };
  }
  const socket = process.env.SSH_AUTH_SOCK;
  if (!socket) throw new CourierError('SSH_KEY_MISSING', 'no control-plane key: ssh.identity is not set and there is no ssh-agent (SSH_AUTH_SOCK)');
  const keys = await new Promise<ReturnType<typeof ssh2.utils.parseKey>[]>((resolve, reject) => {
    new ssh2.OpenSSHAgent(socket).getIdentities((err, found) => (err ? reject(err) : resolve((found ?? []) as ReturnType<typeof ssh2.utils.parseKey>[])));
  }).catch((err: unknown) => {
    throw new CourierError('SSH_KEY_MISSING', `cannot list the ssh-agent's keys (SSH_AUTH_SOCK): ${(err as Error).message}`, {}, { cause: err });
  });
  const first = keys[0];
  if (first === undefined || first instanceof Error || Array.isArray(first)) throw new CourierError('SSH_KEY_MISSING', 'the ssh-agent (SSH_AUTH_SOCK) holds no key; add one with ssh-add or set ssh.identity');
  const blob = first.getPublicSSH().toString('base64');
  return { publicKey: `${first.type} ${blob}`, blob, auth: { agent: socket } };
}
