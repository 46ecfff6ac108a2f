/**
 * A fleet of real OpenSSH sshd processes on loopback for tests: each node has its own temp dir,
 * host key, config, address (127.0.0.(i+2) by default) and free port; one ed25519 client key pair
 * is authorized on every node; the login user is the current user. Processes are stopped by PID
 * (SIGTERM, then SIGKILL after a bound), session processes included. Call `stopAll()` in afterAll.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Node } from '../../controller/registry/model.js';

const run = promisify(execFile);

const SSHD = '/usr/sbin/sshd';
// Generous bounds: a loaded 2-core machine starts sshd slowly.
const READY_TIMEOUT = 20_000;
const STOP_GRACE = 5_000;
const PORT_ATTEMPTS = 8;

/** One sshd in the fleet. */
export interface FleetNode {
  name: string;
  address: string;
  port: number;
  /** A per-node temp dir to pass as the agent's --root. */
  root: string;
  /** The host public key line (`ssh-ed25519 AAAA... comment`). */
  hostKeyPub: string;
  hostKeyPath: string;
  /** PID of the listening sshd (0 while stopped). */
  pid: number;
  dir: string;
}

/** A running fleet and its controls. */
export interface SshdFleet {
  nodes: FleetNode[];
  /** Private key authorized on every node. */
  clientKeyPath: string;
  /** The login user (the current user). */
  user: string;
  /** `[127.0.0.X]:port ssh-ed25519 AAAA...` for node i. */
  knownHostsLine(i: number): string;
  /** Write every node's known_hosts line to `file` (0600, replacing it). */
  writeKnownHosts(file: string): Promise<void>;
  /** A registry Node for node i (transport ssh, no sudo, root = the node's root dir). */
  registryNode(i: number, overrides?: Partial<Node>): Node;
  /** Stop node i: its sshd and every session it serves (a node going down). */
  stop(i: number): Promise<void>;
  /** Start node i again with the same host key, address and port. */
  start(i: number): Promise<void>;
  /** SIGKILL node i's session processes (its connections drop mid-exec), leaving its sshd listening. */
  killSessions(i: number): Promise<void>;
  /** Give node i a new host key and restart it. */
  rotateHostKey(i: number): Promise<void>;
  /** Stop every node and remove the temp dirs. */
  stopAll(): Promise<void>;
}

interface NodeState {
  node: FleetNode;
  config: string;
  child?: ChildProcess;
  stderr: string;
}

/** Fleet options beyond the defaults (all additive). */
export interface SshdFleetOptions {
  /** Override the default 127.0.0.(i+2). */
  addresses?: string[];
  /** The login user registryNode() names (default: the current user). */
  user?: string;
  /** `PasswordAuthentication yes` (real users with a password, as a fresh VPS has). */
  passwordAuth?: boolean;
  /**
   * Each user's own `~/.ssh/authorized_keys` (sshd's default) instead of a per-node file holding the
   * fleet's client key; the fleet dirs become traversable (0755) so other users reach their roots.
   */
  defaultAuthorizedKeys?: boolean;
}

/** Start `count` sshd nodes. */
export async function startSshdFleet(count: number, options: SshdFleetOptions = {}): Promise<SshdFleet> {
  // sshd refuses to start without its privilege separation directory.
  await mkdir('/run/sshd', { recursive: true, mode: 0o755 });
  const base = await mkdtemp(path.join(os.tmpdir(), 'courier-sshd-fleet-'));
  if (options.defaultAuthorizedKeys) await chmod(base, 0o755);
  const user = options.user ?? os.userInfo().username;
  const clientKeyPath = path.join(base, 'client_ed25519');
  await keygen(clientKeyPath, 'courier-test-client');
  const clientPub = await readFile(`${clientKeyPath}.pub`, 'utf8');
  const penalties = await supportsPerSourcePenalties(base);

  const states: NodeState[] = [];
  const fleet: SshdFleet = {
    nodes: [],
    clientKeyPath,
    user,
    knownHostsLine: (i) => {
      const node = at(i).node;
      const [type, key] = node.hostKeyPub.trim().split(/\s+/);
      return `[${node.address}]:${node.port} ${type} ${key}`;
    },
    writeKnownHosts: async (file) => {
      await writeFile(file, states.map((_, i) => `${fleet.knownHostsLine(i)}\n`).join(''), { mode: 0o600 });
    },
    registryNode: (i, overrides = {}) => {
      const node = at(i).node;
      return { name: node.name, role: 'worker', ip: node.address, sshUser: user, sshPort: node.port, sudo: false, root: node.root, transport: 'ssh', ...overrides };
    },
    stop: (i) => stopNode(at(i)),
    start: (i) => startNode(at(i), false),
    killSessions: async (i) => {
      const state = at(i);
      // SIGKILL, all at once: the session sshd must not get to send an exit status first.
      if (state.node.pid) await killPids(await descendants(state.node.pid), 'SIGKILL');
    },
    rotateHostKey: async (i) => {
      const state = at(i);
      await stopNode(state);
      await rm(state.node.hostKeyPath, { force: true });
      await rm(`${state.node.hostKeyPath}.pub`, { force: true });
      await keygen(state.node.hostKeyPath, `courier-test-${state.node.name}`);
      state.node.hostKeyPub = await readFile(`${state.node.hostKeyPath}.pub`, 'utf8');
      await startNode(state, false);
    },
    stopAll: async () => {
      await Promise.all(states.map((s) => stopNode(s)));
      await rm(base, { recursive: true, force: true });
    },
  };

  function at(i: number): NodeState {
    const state = states[i];
    if (!state) throw new RangeError(`sshd fleet has no node ${i}`);
    return state;
  }

  try {
    for (let i = 0; i < count; i++) {
      const dir = path.join(base, `node-${i}`);
      const root = path.join(dir, 'root');
      await mkdir(root, { recursive: true, mode: 0o755 });
      if (options.defaultAuthorizedKeys) await chmod(dir, 0o755);
      const hostKeyPath = path.join(dir, 'ssh_host_ed25519_key');
      await keygen(hostKeyPath, `courier-test-node-${i}`);
      await writeFile(path.join(dir, 'authorized_keys'), clientPub, { mode: 0o600 });
      const node: FleetNode = {
        name: `node-${i}`,
        address: options.addresses?.[i] ?? `127.0.0.${i + 2}`,
        port: 0,
        root,
        hostKeyPub: await readFile(`${hostKeyPath}.pub`, 'utf8'),
        hostKeyPath,
        pid: 0,
        dir,
      };
      const state: NodeState = { node, config: path.join(dir, 'sshd_config'), stderr: '' };
      states.push(state);
      fleet.nodes.push(node);
    }
    // Start one at a time: parallel sshd start-ups on 2 cores only make every one of them slower.
    for (const state of states) await startNode(state, true, penalties);
  } catch (err) {
    await fleet.stopAll();
    throw err;
  }
  return fleet;

  async function startNode(state: NodeState, pickPort: boolean, withPenalties = penalties): Promise<void> {
    if (state.child) return;
    let lastError: unknown;
    for (let attempt = 0; attempt < PORT_ATTEMPTS; attempt++) {
      if (pickPort || state.node.port === 0) state.node.port = await freePort(state.node.address);
      await writeFile(state.config, sshdConfig(state.node, withPenalties, options));
      try {
        await launch(state);
        return;
      } catch (err) {
        lastError = err;
        // Another process took the port between our probe and sshd's bind: try a new one. A
        // restart keeps its port, so it only waits and retries.
        if (!/Address already in use|Bind to port/i.test(state.stderr)) throw err;
        if (!pickPort) await new Promise((r) => setTimeout(r, 200));
      }
    }
    throw lastError;
  }
}

function sshdConfig(node: FleetNode, penalties: boolean, options: SshdFleetOptions = {}): string {
  return [
    `ListenAddress ${node.address}:${node.port}`,
    `HostKey ${node.hostKeyPath}`,
    `PidFile ${path.join(node.dir, 'sshd.pid')}`,
    `AuthorizedKeysFile ${options.defaultAuthorizedKeys ? '.ssh/authorized_keys' : path.join(node.dir, 'authorized_keys')}`,
    `PasswordAuthentication ${options.passwordAuth ? 'yes' : 'no'}`,
    'KbdInteractiveAuthentication no',
    'PubkeyAuthentication yes',
    'StrictModes no',
    'PermitRootLogin prohibit-password',
    'UsePAM no',
    'UseDNS no',
    'PrintMotd no',
    'LogLevel ERROR',
    // Tests open many connections at once and fail on purpose; neither may lock a source out.
    'MaxStartups 100',
    'MaxSessions 100',
    ...(penalties ? ['PerSourcePenalties no'] : []),
    '',
  ].join('\n');
}

/** Spawn sshd and wait until it accepts TCP connections; rejects with its stderr if it exits first. */
async function launch(state: NodeState): Promise<void> {
  state.stderr = '';
  const child = spawn(SSHD, ['-D', '-e', '-f', state.config], { stdio: ['ignore', 'ignore', 'pipe'] });
  state.child = child;
  state.node.pid = child.pid ?? 0;
  child.stderr?.setEncoding('utf8');
  // Keep only a tail: sshd with -e logs each failed connection, and tests make many on purpose.
  child.stderr?.on('data', (chunk: string) => (state.stderr = (state.stderr + chunk).slice(-4000)));
  const exited = new Promise<never>((_, reject) => {
    child.once('exit', (code, signal) => {
      if (state.child === child) {
        state.child = undefined;
        state.node.pid = 0;
      }
      reject(new Error(`sshd for ${state.node.name} (${state.node.address}:${state.node.port}) exited (${signal ?? code}): ${state.stderr.trim()}`));
    });
    child.once('error', reject);
  });
  exited.catch(() => undefined);
  await Promise.race([waitForPort(state.node.address, state.node.port, READY_TIMEOUT), exited]);
}

async function stopNode(state: NodeState): Promise<void> {
  const child = state.child;
  if (!child || child.exitCode !== null || child.signalCode !== null) {
    state.child = undefined;
    state.node.pid = 0;
    return;
  }
  const sessions = await descendants(child.pid!);
  await killPids([child.pid!, ...sessions]);
  state.child = undefined;
  state.node.pid = 0;
}

/** Send `first` (SIGTERM) to each PID, then SIGKILL what is still alive after STOP_GRACE. */
async function killPids(pids: number[], first: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  for (const pid of pids) signal(pid, first);
  const deadline = Date.now() + STOP_GRACE;
  while (pids.some(alive) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  for (const pid of pids.filter(alive)) signal(pid, 'SIGKILL');
  const killDeadline = Date.now() + STOP_GRACE;
  while (pids.some(alive) && Date.now() < killDeadline) await new Promise((r) => setTimeout(r, 50));
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // already gone
  }
}

/** True while the process exists and is not a zombie (our own exited children stay zombies until reaped). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  return procStat(pid)?.state !== 'Z';
}

/** Every descendant of `pid`, from /proc (sshd's session processes call setsid, so no group kill). */
async function descendants(pid: number): Promise<number[]> {
  const children = new Map<number, number[]>();
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = procStat(Number(entry));
    if (!stat) continue;
    const list = children.get(stat.ppid) ?? [];
    list.push(Number(entry));
    children.set(stat.ppid, list);
  }
  const found: number[] = [];
  const queue = [pid];
  while (queue.length > 0) {
    for (const child of children.get(queue.shift()!) ?? []) {
      found.push(child);
      queue.push(child);
    }
  }
  return found;
}

function procStat(pid: number): { state: string; ppid: number } | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // pid (comm) state ppid ...; comm may contain spaces and parentheses, so cut at the last ')'.
    const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return { state: rest[0]!, ppid: Number(rest[1]) };
  } catch {
    return undefined;
  }
}

/** A port that is free on `address` right now (bind port 0, read it, close). */
async function freePort(address: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, address, () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** Poll a TCP connect until it succeeds or `timeout` ms pass. */
async function waitForPort(address: string, port: number, timeout: number): Promise<void> {
  const deadline = Date.now() + timeout;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = net.connect({ host: address, port });
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`sshd on ${address}:${port} did not accept connections within ${timeout} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function keygen(file: string, comment: string): Promise<void> {
  await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', comment, '-f', file]);
}

let penaltiesSupport: Promise<boolean> | undefined;
/** OpenSSH 9.8+ penalizes sources whose connections fail; older sshd rejects the option. */
function supportsPerSourcePenalties(dir: string): Promise<boolean> {
  penaltiesSupport ??= (async () => {
    const key = path.join(dir, 'probe_host_key');
    await keygen(key, 'probe');
    const config = path.join(dir, 'probe_sshd_config');
    await writeFile(config, `HostKey ${key}\nPerSourcePenalties no\n`);
    try {
      await run(SSHD, ['-t', '-f', config]);
      return true;
    } catch {
      return false;
    } finally {
      await rm(key, { force: true });
      await rm(`${key}.pub`, { force: true });
      await rm(config, { force: true });
    }
  })();
  return penaltiesSupport;
}
