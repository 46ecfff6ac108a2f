/**
 * OpenSSH known_hosts: read, match, format and append. courier never accepts a host key silently:
 * the transport checks every server key against this file, and only `courier nodes trust` adds to
 * it.
 *
 * Supported: plain host patterns (comma lists, `[host]:port` for ports other than 22, `*` and `?`
 * wildcards, `!` negation), hashed `|1|salt|hmac` entries (HMAC-SHA1 of `host` or `[host]:port`
 * keyed with the salt), and the `@revoked` marker. `@cert-authority` lines are ignored (courier does
 * not do host certificates), as are malformed lines, comments and blank lines, as OpenSSH does.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { mkdir, open, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { CourierError } from '../errors.js';

/** Which hosts a known_hosts line applies to. */
export type KnownHostNames = { kind: 'hashed'; salt: Buffer; hash: Buffer } | { kind: 'patterns'; patterns: string[] };

/** One parsed known_hosts line. */
export interface KnownHost {
  /** 1-based line number in the file, for messages. */
  line: number;
  marker?: 'revoked' | 'cert-authority';
  names: KnownHostNames;
  keyType: string;
  /** The raw SSH public key blob (what `ssh-keygen -lf` fingerprints). */
  key: Buffer;
}

/** The outcome of checking a server's host key against known_hosts. */
export type HostKeyCheck =
  | { result: 'match' }
  | { result: 'unknown' }
  /** `expected` lists the SHA256 fingerprints known for that host:port; `revoked` when the key is marked @revoked. */
  | { result: 'mismatch'; expected: string[]; revoked?: boolean };

/** Parse known_hosts text; lines that do not parse are skipped (OpenSSH does the same). */
export function parseKnownHosts(text: string): KnownHost[] {
  const entries: KnownHost[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const entry = parseLine(lines[i]!, i + 1);
    if (entry) entries.push(entry);
  }
  return entries;
}

function parseLine(raw: string, line: number): KnownHost | undefined {
  const text = raw.trim();
  if (text === '' || text.startsWith('#')) return undefined;
  const fields = text.split(/[ \t]+/);
  let marker: KnownHost['marker'];
  if (fields[0]?.startsWith('@')) {
    const name = fields.shift();
    if (name === '@revoked') marker = 'revoked';
    else if (name === '@cert-authority') marker = 'cert-authority';
    else return undefined;
  }
  const [hostField, keyType, keyBase64] = fields;
  if (!hostField || !keyType || !keyBase64) return undefined;
  const key = Buffer.from(keyBase64, 'base64');
  // The blob starts with its own type; a line whose two types disagree is corrupt.
  if (keyTypeOf(key) !== keyType) return undefined;
  const names = parseNames(hostField);
  if (!names) return undefined;
  return marker ? { line, marker, names, keyType, key } : { line, names, keyType, key };
}

function parseNames(field: string): KnownHostNames | undefined {
  if (field.startsWith('|')) {
    const parts = field.split('|');
    // ['', '1', salt, hash]
    if (parts.length !== 4 || parts[1] !== '1') return undefined;
    const salt = Buffer.from(parts[2]!, 'base64');
    const hash = Buffer.from(parts[3]!, 'base64');
    if (salt.length !== 20 || hash.length !== 20) return undefined;
    return { kind: 'hashed', salt, hash };
  }
  const patterns = field.split(',').filter((p) => p !== '');
  return patterns.length > 0 ? { kind: 'patterns', patterns } : undefined;
}

/** Read a known_hosts file; a missing file has no entries. */
export async function readKnownHosts(file: string): Promise<KnownHost[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new CourierError('CONFIG_INVALID', `${file}: cannot read the known_hosts file (ssh.knownHosts): ${(err as Error).message}`, { file }, { cause: err });
  }
  return parseKnownHosts(text);
}

const parsedFiles = new Map<string, { stamp: string; entries: KnownHost[] }>();

/**
 * readKnownHosts, parsed once per version of the file: while its inode, size and mtime are
 * unchanged every caller shares one parsed list. The daemon dials each node's session again and
 * again (and 1,000 of them at start): re-parsing the whole file per dial, and keeping a copy per
 * connection, cost O(nodes²) time and memory. A changed file (`courier nodes trust`) is read again.
 */
export async function readKnownHostsCached(file: string): Promise<KnownHost[]> {
  let stamp: string;
  try {
    const st = await stat(file);
    stamp = `${st.ino}:${st.size}:${st.mtimeMs}`;
  } catch {
    return readKnownHosts(file);
  }
  const hit = parsedFiles.get(file);
  if (hit?.stamp === stamp) return hit.entries;
  const entries = await readKnownHosts(file);
  parsedFiles.set(file, { stamp, entries });
  return entries;
}

/** The name OpenSSH looks up for a host and port: `host` for 22, else `[host]:port`. */
export function knownHostsName(host: string, port: number): string {
  return port === 22 ? host.toLowerCase() : `[${host.toLowerCase()}]:${port}`;
}

/** True when a line's host field names this host:port. */
export function hostMatches(names: KnownHostNames, host: string, port: number): boolean {
  const name = knownHostsName(host, port);
  if (names.kind === 'hashed') {
    const hmac = createHmac('sha1', names.salt).update(name).digest();
    return timingSafeEqual(hmac, names.hash);
  }
  let matched = false;
  for (const pattern of names.patterns) {
    const negated = pattern.startsWith('!');
    const body = (negated ? pattern.slice(1) : pattern).toLowerCase();
    if (!matchPattern(body, name)) continue;
    // A matching negated pattern excludes the host whatever else matches (OpenSSH semantics).
    if (negated) return false;
    matched = true;
  }
  return matched;
}

/** OpenSSH wildcard match: `*` any run, `?` one character, everything else literal. */
function matchPattern(pattern: string, text: string): boolean {
  let p = 0;
  let t = 0;
  let star = -1;
  let mark = 0;
  while (t < text.length) {
    if (p < pattern.length && (pattern[p] === '?' || pattern[p] === text[t])) {
      p++;
      t++;
    } else if (p < pattern.length && pattern[p] === '*') {
      star = p++;
      mark = t;
    } else if (star !== -1) {
      p = star + 1;
      t = ++mark;
    } else {
      return false;
    }
  }
  while (p < pattern.length && pattern[p] === '*') p++;
  return p === pattern.length;
}

/**
 * Check a server's host key blob against known_hosts entries for host:port.
 *
 * - `match`: a non-revoked entry for host:port has exactly this key.
 * - `mismatch`: the key is marked `@revoked` for this host, or entries exist for host:port (of any
 *   key type) and none has this key. Any type, not just the same type, so a server cannot get a
 *   new key trusted by offering a different algorithm; the SSH transport prefers the key types
 *   already known for the host, as OpenSSH does, so a node with several host keys still matches.
 * - `unknown`: no entry names host:port.
 */
export function checkHostKey(entries: KnownHost[], host: string, port: number, keyBlob: Buffer): HostKeyCheck {
  const forHost = entries.filter((e) => e.marker !== 'cert-authority' && hostMatches(e.names, host, port));
  const known = forHost.filter((e) => e.marker === undefined);
  const expected = [...new Set(known.map((e) => fingerprintSha256(e.key)))];
  if (forHost.some((e) => e.marker === 'revoked' && e.key.equals(keyBlob))) return { result: 'mismatch', expected, revoked: true };
  if (known.some((e) => e.key.equals(keyBlob))) return { result: 'match' };
  return known.length > 0 ? { result: 'mismatch', expected } : { result: 'unknown' };
}

/** The key types known_hosts holds for host:port (not revoked), in file order. */
export function knownKeyTypes(entries: KnownHost[], host: string, port: number): string[] {
  const types = entries.filter((e) => e.marker === undefined && hostMatches(e.names, host, port)).map((e) => e.keyType);
  return [...new Set(types)];
}

/** The key type named inside an SSH public key blob (`ssh-ed25519`, `ssh-rsa`, ...), or '' when malformed. */
export function keyTypeOf(keyBlob: Buffer): string {
  if (keyBlob.length < 4) return '';
  const length = keyBlob.readUInt32BE(0);
  if (length === 0 || length > 64 || 4 + length > keyBlob.length) return '';
  return keyBlob.subarray(4, 4 + length).toString('latin1');
}

/** `SHA256:` plus the unpadded base64 SHA-256 of the key blob, as `ssh-keygen -lf` prints it. */
export function fingerprintSha256(keyBlob: Buffer): string {
  return `SHA256:${createHash('sha256').update(keyBlob).digest('base64').replace(/=+$/, '')}`;
}

/**
 * One known_hosts line for host:port and key, as `ssh -o UserKnownHostsFile=` accepts it: plain
 * (`[host]:port ssh-ed25519 AAAA...`) by default, or hashed like `ssh-keygen -H` with a random salt.
 */
export function formatKnownHostsLine(host: string, port: number, keyBlob: Buffer, options: { hashed?: boolean; salt?: Buffer } = {}): string {
  const keyType = keyTypeOf(keyBlob);
  if (keyType === '') throw new TypeError('formatKnownHostsLine: not an SSH public key blob');
  const name = knownHostsName(host, port);
  let field = name;
  if (options.hashed) {
    const salt = options.salt ?? randomBytes(20);
    field = `|1|${salt.toString('base64')}|${createHmac('sha1', salt).update(name).digest('base64')}`;
  }
  return `${field} ${keyType} ${keyBlob.toString('base64')}`;
}

/**
 * Append one line to a known_hosts file, creating its directory (0700) and the file (0600). One
 * O_APPEND write of the whole line, so concurrent appenders never interleave within a line; a
 * newline is added first when the file does not end with one.
 */
export async function appendKnownHost(file: string, line: string): Promise<void> {
  if (/[\r\n]/.test(line)) throw new TypeError('appendKnownHost: a known_hosts line cannot contain a newline');
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  const handle = await open(file, 'a+', 0o600);
  try {
    const { size } = await handle.stat();
    let prefix = '';
    if (size > 0) {
      const last = Buffer.alloc(1);
      await handle.read(last, 0, 1, size - 1);
      if (last[0] !== 0x0a) prefix = '\n';
    }
    await handle.write(`${prefix}${line}\n`);
    await handle.sync();
  } finally {
    await handle.close();
  }
}
