/**
 * `courier check`, like `flux check`: every precondition of a working site, each judged ✓ or ✗
 * with the fix. In order: the config, the registry, the SSH key, then per node (known host key,
 * reachable with a working agent that could write its targets, restricted or not, a restricted
 * node's agent release, time since it
 * was last verified), a running daemon and its health, and the state directory. Read-only: it
 * takes no lock, writes nothing on the control plane and nothing on the nodes.
 */
import { access, constants, readFile, stat, statfs } from 'node:fs/promises';
import path from 'node:path';
import ssh2 from 'ssh2';
import { ERROR_CODES, isCourierError } from '../errors.js';
import { loadConfig, type Config } from '../config/load-config.js';
import { parseRegistry } from '../registry/parse-registry.js';
import type { Registry } from '../registry/model.js';
import { readSource } from '../sources/read-source.js';
import { readHttpToken } from '../http/read-http-token.js';
import { checkNodes } from './check-nodes.js';
import { packagePath } from '../package-root.js';
import { readAgentSignature, signaturePathFor } from '../join/agent-release.js';

/** One judged check. */
export interface CheckResult {
  /** What was checked: `config`, `registry`, `ssh key`, `known host`, `agent`, `restricted`, `agent release`, `verified`, `daemon`, `state dir`. */
  check: string;
  /** The node it is about, for per-node checks. */
  node?: string;
  ok: boolean;
  /** What was found. */
  detail: string;
  /** How to fix it (failed checks). */
  fix?: string;
}

/** Every check's result; `ok` only when all passed. */
export interface CheckReport {
  ok: boolean;
  checks: CheckResult[];
}

/** Free space below this in the state directory is a failed check. */
export const MIN_FREE_BYTES = 64 * 1024 * 1024;

/** Run every check for the site whose config is `configFile`; never throws for what it checks. */
export async function runSiteChecks(configFile: string, options: { now?: Date; agentScript: string }): Promise<CheckReport> {
  const checks: CheckResult[] = [];
  const done = () => ({ ok: checks.every((c) => c.ok), checks });

  // config: nothing else can be judged without it
  let config: Config;
  try {
    config = await loadConfig(configFile);
    checks.push({ check: 'config', ok: true, detail: `${config.file} is valid` });
  } catch (err) {
    checks.push(failure('config', err));
    return done();
  }

  // registry
  let registry: Registry | undefined;
  try {
    registry = parseRegistry(await readSource(config), { publicDomain: config.traefik.publicDomain });
    checks.push({ check: 'registry', ok: true, detail: `valid: ${registry.nodes.length} node(s), ${registry.services.length} service(s) from the ${config.source.type} source` });
  } catch (err) {
    checks.push(failure('registry', err));
  }

  // the SSH key (only when some node is reached over SSH)
  const sshNodes = registry?.nodes.filter((n) => n.transport === 'ssh') ?? [];
  const key = sshNodes.length > 0 ? await checkSshKey(config) : undefined;
  if (key) checks.push(key);

  // per node: known host key, agent and targets, restricted, last verified
  if (registry) {
    const agentPath = packagePath('node-agent', 'courier-agent');
    const signaturePath = config.agent.signature ?? signaturePathFor(agentPath);
    const signature = await readAgentSignature(signaturePath).catch(() => undefined);
    const release = { agentPath, signaturePath: (signature?.length ?? 0) > 0 ? signaturePath : undefined };
    checks.push(...(await checkNodes(config, registry, { agentScript: options.agentScript, release, now: options.now ?? new Date(), keyUsable: key?.ok ?? true })));
  }

  // the daemon and the state directory
  checks.push(await checkDaemon(config));
  checks.push(await checkStateDir(config));
  return done();
}

/** A failed check from an error: its message, and the fix of its code. */
export function failure(check: string, err: unknown, node?: string): CheckResult {
  if (isCourierError(err)) return { check, ...(node ? { node } : {}), ok: false, detail: `${err.code}: ${err.message}`, fix: ERROR_CODES[err.code].fix };
  return { check, ...(node ? { node } : {}), ok: false, detail: (err as Error)?.message ?? String(err) };
}

/** ssh.identity readable and a private key without passphrase, or an ssh-agent socket. */
async function checkSshKey(config: Config): Promise<CheckResult> {
  const fix = ERROR_CODES.SSH_KEY_MISSING.fix;
  const identity = config.ssh.identity;
  if (identity) {
    let text: Buffer;
    try {
      text = await readFile(identity);
    } catch (err) {
      return { check: 'ssh key', ok: false, detail: `cannot read ${identity} (ssh.identity): ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, fix };
    }
    const parsed = ssh2.utils.parseKey(text);
    const first = Array.isArray(parsed) ? parsed[0] : parsed;
    if (parsed instanceof Error || first?.isPrivateKey() !== true) {
      return { check: 'ssh key', ok: false, detail: `${identity} (ssh.identity) is not a usable private key${parsed instanceof Error ? ` (${parsed.message})` : ''}`, fix: 'A passphrase-protected key must be loaded into an ssh-agent instead (unset ssh.identity); otherwise point ssh.identity at the private key file.' };
    }
    return { check: 'ssh key', ok: true, detail: `${identity} is a readable ${first.type} private key` };
  }
  const socket = process.env.SSH_AUTH_SOCK;
  if (!socket) return { check: 'ssh key', ok: false, detail: 'ssh.identity is not set and there is no ssh-agent (SSH_AUTH_SOCK)', fix };
  try {
    if (!(await stat(socket)).isSocket()) throw new Error('not a socket');
    return { check: 'ssh key', ok: true, detail: `the ssh-agent at ${socket}` };
  } catch (err) {
    return { check: 'ssh key', ok: false, detail: `SSH_AUTH_SOCK ${socket}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, fix };
  }
}

/** A daemon answering on http.listen: /healthz, /readyz, and (with a token) the token accepted. */
async function checkDaemon(config: Config): Promise<CheckResult> {
  if (!config.http.enabled) return { check: 'daemon', ok: false, detail: 'http.enabled is false: a running daemon cannot be seen', fix: 'Set http.enabled: true so courier check, courier reconcile and Prometheus can reach the daemon.' };
  const base = `http://${config.http.listen.replace(/^0\.0\.0\.0:/, '127.0.0.1:').replace(/^\[::\]:/, '[::1]:')}`;
  const start = 'Start it: `courier daemon --config ' + config.file + '` (or `systemctl start courier`); with a different address, set http.listen.';
  let token: string | undefined;
  try {
    token = await readHttpToken(config.http);
  } catch (err) {
    return failure('daemon', err);
  }
  const get = (p: string, auth = false) => fetch(`${base}${p}`, { headers: auth && token ? { authorization: `Bearer ${token}` } : {}, signal: AbortSignal.timeout(5_000) });
  let health: Response;
  try {
    health = await get('/healthz');
  } catch {
    return { check: 'daemon', ok: false, detail: `no daemon answers at ${base}`, fix: start };
  }
  if (health.status !== 200) return { check: 'daemon', ok: false, detail: `${base}/healthz answered ${health.status}`, fix: 'Read the daemon log (journalctl -u courier or the pod log).' };
  const ready = await get('/readyz');
  const readyText = (await ready.text()).trim();
  const api = await get('/api/status', true);
  if (api.status === 401) return { check: 'daemon', ok: false, detail: `${base} answers, but refuses this config's token (${token ? 'http.tokenFile differs from the daemon' : 'the daemon has a token and http.tokenFile is not set here'})`, fix: 'Use the daemon\'s http.tokenFile in this courier.yaml.' };
  if (ready.status !== 200) {
    return { check: 'daemon', ok: false, detail: `${base} is up but not ready: ${readyText}`, fix: 'Not the leader is fine for a follower replica; otherwise wait for the first reconcile, or fix the registry (courier render lists the problems).' };
  }
  return { check: 'daemon', ok: true, detail: `${base} is healthy and ready` };
}

/** The state directory (or the directory it will be created in) writable, with free space. */
async function checkStateDir(config: Config): Promise<CheckResult> {
  let dir = config.state.dir;
  // a state directory not created yet: judge the nearest existing parent it would be created in
  for (;;) {
    try {
      await stat(dir);
      break;
    } catch {
      const parent = path.dirname(dir);
      if (parent === dir) break;
      dir = parent;
    }
  }
  try {
    await access(dir, constants.W_OK | constants.X_OK);
  } catch (err) {
    return { check: 'state dir', ok: false, detail: `${dir} is not writable: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, fix: `Give the user running courier write access to ${config.state.dir} (state.dir), or point state.dir elsewhere.` };
  }
  const fs = await statfs(dir);
  const free = Number(fs.bavail) * Number(fs.bsize);
  const mib = (n: number) => `${Math.floor(n / 1024 / 1024)} MiB`;
  if (free < MIN_FREE_BYTES) {
    return { check: 'state dir', ok: false, detail: `${dir}: only ${mib(free)} free (want ${mib(MIN_FREE_BYTES)})`, fix: 'Free space on that file system: a full disk fails every commit with STORE_ERROR.' };
  }
  return { check: 'state dir', ok: true, detail: `${config.state.dir} writable, ${mib(free)} free` };
}
