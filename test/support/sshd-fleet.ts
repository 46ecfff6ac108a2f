/**
 * A fleet of real OpenSSH sshd processes on loopback for tests: each node has its own temp dir,
 * host key, config, address (127.0.0.(i+2) by default) and free port; one ed25519 client key pair
 * is authorized on every node; the login user is the current user, with a clean HOME per sshd
 * (`SetEnv HOME`), so no rc file of the machine's real user runs in a session. Processes are stopped by PID
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

/** One sshd process: it serves one node, or up to 16 (one per ListenAddress) with `perSshd`. */
interface NodeState {
  /** The nodes this sshd serves; they share its port, host key, pid and HOME. */
  nodes: FleetNode[];
  dir: string;
  config: string;
  child?: ChildProcess;
  stderr: string;
}

/** OpenSSH's MAX_LISTEN_SOCKS: one sshd listens on at most 16 addresses. */
export const MAX_ADDRESSES_PER_SSHD = 16;

/**
 * The default address of node i: 127.0.0.(i+2) for the first 253, then on through 127.0.1.1,
 * 127.0.1.2, ... (never a .0 or .255 last octet), so a 1,000-node fleet has 1,000 addresses.
 */
export function fleetAddress(i: number): string {
  if (i < 253) return `127.0.0.${i + 2}`;
  const j = i - 253;
  return `127.0.${1 + Math.floor(j / 254)}.${1 + (j % 254)}`;
}

/** Fleet options beyond the defaults (all additive). */
export interface SshdFleetOptions {
  /** Override the default addresses (fleetAddress). */
  addresses?: string[];
  /** One sshd for up to 16 consecutive node addresses (see startSshdFleet). */
  perSshd?: number;
  /** The login user registryNode() names (default: the current user). */
  user?: string;
  /** `PasswordAuthentication yes` (real users with a password, as a fresh VPS has). */
  passwordAuth?: boolean;
  /**
   * Each user's own `~/.ssh/authorized_keys` (sshd's default) instead of a per-node file holding the
   * fleet's client key; the fleet dirs become traversable (0755) so other users reach their roots,
   * and sessions keep the user's own HOME (no SetEnv HOME).
   */
  defaultAuthorizedKeys?: boolean;
}

/**
 * Start `count` sshd nodes; `addresses` overrides the default addresses (fleetAddress). With
 * `perSshd` > 1 (at most 16), one sshd listens on that many consecutive node addresses: each
 * address is still its own node with its own root, but the group shares the sshd's port, host key
 * and process (stop/start/rotateHostKey act on the whole group).
 */
export async function startSshdFleet(count: number, options: SshdFleetOptions = {}): Promise<SshdFleet> {
  const perSshd = options.perSshd ?? 1;
  if (perSshd < 1 || perSshd > MAX_ADDRESSES_PER_SSHD) throw new RangeError(`perSshd must be 1..${MAX_ADDRESSES_PER_SSHD}`);
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
  const byNode: NodeState[] = [];
  const fleet: SshdFleet = {
    nodes: [],
    clientKeyPath,
    user,
    knownHostsLine: (i) => {
      const node = nodeAt(i);
      const [type, key] = node.hostKeyPub.trim().split(/\s+/);
      return `[${node.address}]:${node.port} ${type} ${key}`;
    },
    writeKnownHosts: async (file) => {
      await writeFile(file, fleet.nodes.map((_, i) => `${fleet.knownHostsLine(i)}\n`).join(''), { mode: 0o600 });
    },
    registryNode: (i, overrides = {}) => {
      const node = nodeAt(i);
      return { name: node.name, role: 'worker', ip: node.address, sshUser: user, sshPort: node.port, sudo: false, root: node.root, transport: 'ssh', ...overrides };
    },
    stop: (i) => stopNode(at(i)),
    start: (i) => startNode(at(i), false),
    killSessions: async (i) => {
      const state = at(i);
      // SIGKILL, all at once: the session sshd must not get to send an exit status first.
      if (state.nodes[0]!.pid) await killPids(await descendants(state.nodes[0]!.pid), 'SIGKILL');
    },
    rotateHostKey: async (i) => {
      const state = at(i);
      const keyPath = state.nodes[0]!.hostKeyPath;
      await stopNode(state);
      await rm(keyPath, { force: true });
      await rm(`${keyPath}.pub`, { force: true });
      await keygen(keyPath, `courier-test-${state.nodes[0]!.name}`);
      const pub = await readFile(`${keyPath}.pub`, 'utf8');
      for (const node of state.nodes) node.hostKeyPub = pub;
      await startNode(state, false);
    },
    stopAll: async () => {
      await Promise.all(states.map((s) => stopNode(s)));
      await rm(base, { recursive: true, force: true });
    },
  };

  function at(i: number): NodeState {
    const state = byNode[i];
    if (!state) throw new RangeError(`sshd fleet has no node ${i}`);
    return state;
  }
  function nodeAt(i: number): FleetNode {
    const node = fleet.nodes[i];
    if (!node) throw new RangeError(`sshd fleet has no node ${i}`);
    return node;
  }

  try {
    for (let g = 0; g * perSshd < count; g++) {
      const dir = path.join(base, perSshd === 1 ? `node-${g}` : `sshd-${g}`);
      await mkdir(path.join(dir, 'home'), { recursive: true });
      if (options.defaultAuthorizedKeys) await chmod(dir, 0o755);
      const hostKeyPath = path.join(dir, 'ssh_host_ed25519_key');
      await keygen(hostKeyPath, `courier-test-${perSshd === 1 ? 'node' : 'sshd'}-${g}`);
      await writeFile(path.join(dir, 'authorized_keys'), clientPub, { mode: 0o600 });
      const hostKeyPub = await readFile(`${hostKeyPath}.pub`, 'utf8');
      const state: NodeState = { nodes: [], dir, config: path.join(dir, 'sshd_config'), stderr: '' };
      for (let i = g * perSshd; i < Math.min(count, (g + 1) * perSshd); i++) {
        const nodeDir = perSshd === 1 ? dir : path.join(dir, `node-${i}`);
        const root = path.join(nodeDir, 'root');
        await mkdir(root, { recursive: true, mode: 0o755 });
        const node: FleetNode = { name: `node-${i}`, address: options.addresses?.[i] ?? fleetAddress(i), port: 0, root, hostKeyPub, hostKeyPath, pid: 0, dir: nodeDir };
        state.nodes.push(node);
        fleet.nodes.push(node);
        byNode.push(state);
      }
      states.push(state);
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
      const first = state.nodes[0]!;
      if (pickPort || first.port === 0) {
        const port = await freePort(first.address);
        for (const node of state.nodes) node.port = port;
      }
      await writeFile(state.config, sshdConfig(state, withPenalties, options));
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

function sshdConfig(state: NodeState, penalties: boolean, options: SshdFleetOptions = {}): string {
  const first = state.nodes[0]!;
  return [
    ...state.nodes.map((node) => `ListenAddress ${node.address}:${node.port}`),
    `HostKey ${first.hostKeyPath}`,
    `PidFile ${path.join(state.dir, 'sshd.pid')}`,
    `AuthorizedKeysFile ${options.defaultAuthorizedKeys ? '.ssh/authorized_keys' : path.join(state.dir, 'authorized_keys')}`,
    // A clean HOME for every session: the login user's real rc files (root's ~/.bashrc here runs
    // pyenv init, ~200 ms of CPU per session) are not part of what a test or benchmark measures.
    // Real test users (defaultAuthorizedKeys) keep their own home: their keys live there.
    ...(options.defaultAuthorizedKeys ? [] : [`SetEnv HOME=${path.join(state.dir, 'home')}`]),
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
  setPid(state, child.pid ?? 0);
  child.stderr?.setEncoding('utf8');
  // Keep only a tail: sshd with -e logs each failed connection, and tests make many on purpose.
  child.stderr?.on('data', (chunk: string) => (state.stderr = (state.stderr + chunk).slice(-4000)));
  const exited = new Promise<never>((_, reject) => {
    child.once('exit', (code, signal) => {
      if (state.child === child) {
        state.child = undefined;
        setPid(state, 0);
      }
      const first = state.nodes[0]!;
      reject(new Error(`sshd for ${first.name} (${first.address}:${first.port}) exited (${signal ?? code}): ${state.stderr.trim()}`));
    });
    child.once('error', reject);
  });
  exited.catch(() => undefined);
  await Promise.race([Promise.all(state.nodes.map((node) => waitForPort(node.address, node.port, READY_TIMEOUT))), exited]);
}

function setPid(state: NodeState, pid: number): void {
  for (const node of state.nodes) node.pid = pid;
}

async function stopNode(state: NodeState): Promise<void> {
  const child = state.child;
  if (!child || child.exitCode !== null || child.signalCode !== null) {
    state.child = undefined;
    setPid(state, 0);
    return;
  }
  const sessions = await descendants(child.pid!);
  await killPids([child.pid!, ...sessions]);
  state.child = undefined;
  setPid(state, 0);
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
