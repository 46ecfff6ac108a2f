/**
 * Signed agent releases. A release is the agent script plus a detached OpenSSH signature
 * (`ssh-keygen -Y sign -n courier-agent`, the `.sig` beside the script) made on a release machine
 * with a key that never lives on the control plane. A joined node pins the release signer's public
 * key in `~/.courier/allowed_signers` and the agent verifies every upgrade against it, so the
 * control-plane key alone cannot replace the agent.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { CourierError } from '../errors.js';
import { runProcess, type ProcessRun } from '../run-process.js';

const run = promisify(execFile);

/** The ssh-keygen -Y namespace of agent releases: a signature made for anything else never verifies. */
export const RELEASE_NAMESPACE = 'courier-agent';
/** The principal the node's allowed_signers names the release signer by. */
export const RELEASE_PRINCIPAL = 'courier-release';

const KEY_LINE = /^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(?:256|384|521)|sk-ssh-ed25519@openssh\.com|sk-ecdsa-sha2-nistp256@openssh\.com) ([A-Za-z0-9+/]+={0,2})(?:\s.*)?$/;

/** `<type> <base64>` of the OpenSSH public key in `file` (its comment dropped); USAGE naming `flag` and the fix otherwise. */
export async function readAgentSigner(file: string, flag = '--agent-signer'): Promise<string> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new CourierError('USAGE', `${flag} ${file}: cannot read it (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, { file }, { cause: err });
  }
  if (text.includes('PRIVATE KEY')) throw new CourierError('USAGE', `${flag} ${file}: that is a private key; give the release signer's public key (the .pub file), and keep the private key off the control plane`, { file });
  const line = text.split(/\r?\n/).map((l) => l.trim()).find((l) => l !== '' && !l.startsWith('#')) ?? '';
  const m = KEY_LINE.exec(line);
  if (!m) throw new CourierError('USAGE', `${flag} ${file}: not an OpenSSH public key line (expected \`ssh-ed25519 AAAA… comment\`, as in the release key's .pub file)`, { file });
  return `${m[1]} ${m[2]}`;
}

/** The node's ~/.courier/allowed_signers line for a signer key (`<type> <base64>`). */
export function allowedSignersLine(signer: string): string {
  return `${RELEASE_PRINCIPAL} namespaces="${RELEASE_NAMESPACE}" ${signer}`;
}

/** The release signature beside an agent script: `<script>.sig`. */
export function signaturePathFor(agentPath: string): string {
  return `${agentPath}.sig`;
}

/** The signature bytes at `file`, or undefined when there is none (an unsigned release). */
export async function readAgentSignature(file: string): Promise<Buffer | undefined> {
  try {
    return await readFile(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new CourierError('CONFIG_INVALID', `agent.signature ${file}: cannot read it (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, { file }, { cause: err });
  }
}

/**
 * Sign `agentPath` with the private key `keyFile` into `<agentPath>.sig` (ssh-keygen -Y sign -n
 * courier-agent, the message on stdin, so an old .sig is replaced atomically rather than asked
 * about); a passphrase is asked on the terminal by ssh-keygen. Returns the signer's fingerprint.
 */
export async function signAgent(keyFile: string, agentPath: string): Promise<{ signature: string; fingerprint: string }> {
  const target = signaturePathFor(agentPath);
  const temp = `${target}.courier-${process.pid}`;
  const message = await readFile(agentPath).catch((err: NodeJS.ErrnoException) => {
    throw new CourierError('USAGE', `--agent ${agentPath}: cannot read it (${err.code ?? err.message})`, { file: agentPath }, { cause: err });
  });
  const result = await sshKeygen(['-Y', 'sign', '-f', keyFile, '-n', RELEASE_NAMESPACE], message);
  if (result.code !== 0 || !result.stdout.includes('BEGIN SSH SIGNATURE')) {
    throw new CourierError('USAGE', `ssh-keygen -Y sign -f ${keyFile} refused: ${oneLine(result.stderr) || `exit ${result.code}`} (is --key the release's private key?)`, { file: keyFile });
  }
  try {
    await writeFile(temp, result.stdout, { mode: 0o644 });
    await rename(temp, target);
  } finally {
    await rm(temp, { force: true });
  }
  return { signature: target, fingerprint: await fingerprintOf(keyFile) };
}

/** Check `signature` over `agentPath` against the signer key (`<type> <base64>`), as a node does; AGENT_UNSIGNED when it does not verify. */
export async function verifyAgent(signer: string, agentPath: string, signature: string): Promise<void> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'courier-verify-'));
  try {
    const signers = path.join(dir, 'allowed_signers');
    await writeFile(signers, `${allowedSignersLine(signer)}\n`);
    const message = await readFile(agentPath);
    const result = await sshKeygen(['-Y', 'verify', '-f', signers, '-I', RELEASE_PRINCIPAL, '-n', RELEASE_NAMESPACE, '-s', signature], message);
    if (result.code !== 0) throw new CourierError('AGENT_UNSIGNED', `${signature} is not a signature of ${agentPath} by that signer: ${oneLine(result.stderr + result.stdout) || `exit ${result.code}`}`, { file: signature });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The SHA256 fingerprint ssh-keygen -lf prints for a key file (public, or private with its .pub). */
async function fingerprintOf(keyFile: string): Promise<string> {
  const { stdout } = await run('ssh-keygen', ['-lf', keyFile]);
  return stdout.split(' ')[1] ?? stdout.trim();
}

/** Run ssh-keygen with `input` on stdin (a passphrase prompt goes to the terminal, which ssh-keygen opens itself). */
async function sshKeygen(args: string[], input: Buffer): Promise<ProcessRun> {
  try {
    return await runProcess('ssh-keygen', args, input);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    throw new CourierError('USAGE', 'ssh-keygen not found: signing and verifying agent releases need OpenSSH >= 8.1', {}, { cause: err });
  }
}

function oneLine(text: string): string {
  return text.trim().split('\n').filter((l) => l.trim() !== '').join('; ');
}
