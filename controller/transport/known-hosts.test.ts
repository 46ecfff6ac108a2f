import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CourierError } from '../errors.js';
import { appendKnownHost, checkHostKey, fingerprintSha256, formatKnownHostsLine, keyTypeOf, parseKnownHosts, readKnownHosts } from './known-hosts.js';

const run = promisify(execFile);

let tmp: string;
/** Real keys from ssh-keygen: name → { line: 'type base64', blob, fingerprint (from ssh-keygen -lf) }. */
const keys: Record<string, { pub: string; blob: Buffer; fingerprint: string; file: string }> = {};

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'courier-known-hosts-'));
  for (const [name, args] of [
    ['ed', ['-t', 'ed25519']],
    ['ed2', ['-t', 'ed25519']],
    ['ecdsa', ['-t', 'ecdsa', '-b', '256']],
  ] as const) {
    const file = path.join(tmp, name);
    await run('ssh-keygen', ['-q', ...args, '-N', '', '-C', `key ${name}`, '-f', file]);
    const pub = (await readFile(`${file}.pub`, 'utf8')).trim().split(' ').slice(0, 2).join(' ');
    const { stdout } = await run('ssh-keygen', ['-lf', `${file}.pub`]);
    keys[name] = { pub, blob: Buffer.from(pub.split(' ')[1]!, 'base64'), fingerprint: stdout.split(' ')[1]!, file: `${file}.pub` };
  }
});

afterAll(async () => {
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

const k = (name: string) => keys[name]!;

describe('fingerprintSha256', () => {
  it('prints the same SHA256 fingerprint as ssh-keygen -lf', () => {
    for (const name of ['ed', 'ed2', 'ecdsa']) expect(fingerprintSha256(k(name).blob)).toBe(k(name).fingerprint);
  });
});

describe('parseKnownHosts', () => {
  it('skips comments, blank lines, cert-authority lines and malformed lines', () => {
    const text = [
      '# comment',
      '',
      '   ',
      `@cert-authority *.example.org ${k('ed').pub}`,
      'host-without-key ssh-ed25519',
      `bad-type ssh-rsa ${k('ed').pub.split(' ')[1]}`,
      `|1|short|hash ${k('ed').pub}`,
      `@unknown-marker host ${k('ed').pub}`,
      `good.example.org ${k('ed').pub} a comment with spaces`,
    ].join('\n');
    const entries = parseKnownHosts(text);
    expect(entries.map((e) => [e.line, e.marker, e.keyType])).toEqual([
      [4, 'cert-authority', 'ssh-ed25519'],
      [9, undefined, 'ssh-ed25519'],
    ]);
  });

  it('reads a missing file as empty', async () => {
    expect(await readKnownHosts(path.join(tmp, 'missing', 'known_hosts'))).toEqual([]);
  });

  it('reports an unreadable file as CONFIG_INVALID naming it', async () => {
    const err = await readKnownHosts(tmp).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CourierError);
    expect((err as CourierError).code).toBe('CONFIG_INVALID');
    expect((err as CourierError).data.file).toBe(tmp);
  });
});

describe('checkHostKey', () => {
  const check = (text: string, host: string, port: number, name: string) => checkHostKey(parseKnownHosts(text), host, port, k(name).blob);

  it.each([
    ['a plain host on port 22', (pub: string) => `10.0.0.5 ${pub}`, '10.0.0.5', 22],
    ['a bracketed host on another port', (pub: string) => `[10.0.0.5]:2222 ${pub}`, '10.0.0.5', 2222],
    ['one name of a comma list', (pub: string) => `vps1,10.0.0.5,[10.0.0.6]:22 ${pub}`, '10.0.0.5', 22],
    ['a * wildcard', (pub: string) => `10.0.0.* ${pub}`, '10.0.0.5', 22],
    ['a ? wildcard', (pub: string) => `10.0.0.? ${pub}`, '10.0.0.5', 22],
    ['a wildcard inside brackets', (pub: string) => `[10.0.0.*]:2222 ${pub}`, '10.0.0.5', 2222],
    ['a host name in another case', (pub: string) => `VPS1.Example.ORG ${pub}`, 'vps1.example.org', 22],
  ])('matches %s', (_what, line, host, port) => {
    expect(check(line(k('ed').pub), host, port, 'ed')).toEqual({ result: 'match' });
  });

  it.each([
    ['port 22 entry for a non-22 port', (pub: string) => `10.0.0.5 ${pub}`, '10.0.0.5', 2222],
    ['bracketed entry for another port', (pub: string) => `[10.0.0.5]:2223 ${pub}`, '10.0.0.5', 2222],
    ['a wildcard that does not reach', (pub: string) => `10.0.1.* ${pub}`, '10.0.0.5', 22],
    ['a negated host in the list', (pub: string) => `10.0.0.*,!10.0.0.5 ${pub}`, '10.0.0.5', 22],
    ['only a negated pattern', (pub: string) => `!10.0.0.6 ${pub}`, '10.0.0.5', 22],
  ])('treats %s as unknown', (_what, line, host, port) => {
    expect(check(line(k('ed').pub), host, port, 'ed')).toEqual({ result: 'unknown' });
  });

  it('matches hashed entries written by ssh-keygen -H for port 22 and [host]:port', async () => {
    const file = path.join(tmp, 'hashed');
    await writeFile(file, `10.0.0.5 ${k('ed').pub}\n[10.0.0.5]:2222 ${k('ed2').pub}\n`);
    await run('ssh-keygen', ['-H', '-f', file]);
    const entries = await readKnownHosts(file);
    expect(entries.every((e) => e.names.kind === 'hashed')).toBe(true);
    expect(checkHostKey(entries, '10.0.0.5', 22, k('ed').blob)).toEqual({ result: 'match' });
    expect(checkHostKey(entries, '10.0.0.5', 2222, k('ed2').blob)).toEqual({ result: 'match' });
    expect(checkHostKey(entries, '10.0.0.5', 2222, k('ed').blob)).toEqual({ result: 'mismatch', expected: [k('ed2').fingerprint] });
    expect(checkHostKey(entries, '10.0.0.6', 22, k('ed').blob)).toEqual({ result: 'unknown' });
  });

  it('reports a different key of the same type as a mismatch listing the known fingerprints', () => {
    expect(check(`10.0.0.5 ${k('ed').pub}`, '10.0.0.5', 22, 'ed2')).toEqual({ result: 'mismatch', expected: [k('ed').fingerprint] });
  });

  it('reports a key of another type as a mismatch when the host has known keys of any type', () => {
    expect(check(`10.0.0.5 ${k('ecdsa').pub}`, '10.0.0.5', 22, 'ed')).toEqual({ result: 'mismatch', expected: [k('ecdsa').fingerprint] });
  });

  it('matches when one of several keys for the host is the offered one', () => {
    expect(check(`10.0.0.5 ${k('ecdsa').pub}\n10.0.0.* ${k('ed').pub}`, '10.0.0.5', 22, 'ed')).toEqual({ result: 'match' });
  });

  it('reports a key marked @revoked as a mismatch even when it is also listed as known', () => {
    const text = `10.0.0.5 ${k('ed').pub}\n@revoked * ${k('ed').pub}`;
    expect(check(text, '10.0.0.5', 22, 'ed')).toEqual({ result: 'mismatch', expected: [k('ed').fingerprint], revoked: true });
    expect(check(text, '10.0.0.5', 22, 'ed2')).toEqual({ result: 'mismatch', expected: [k('ed').fingerprint] });
  });

  it('ignores @cert-authority lines', () => {
    expect(check(`@cert-authority * ${k('ed').pub}`, '10.0.0.5', 22, 'ed')).toEqual({ result: 'unknown' });
  });
});

describe('formatKnownHostsLine', () => {
  it('writes plain lines with brackets only for ports other than 22', () => {
    expect(formatKnownHostsLine('10.0.0.5', 22, k('ed').blob)).toBe(`10.0.0.5 ${k('ed').pub}`);
    expect(formatKnownHostsLine('10.0.0.5', 2222, k('ed').blob)).toBe(`[10.0.0.5]:2222 ${k('ed').pub}`);
  });

  it('writes hashed lines that match their host and port and nothing else', () => {
    const line = formatKnownHostsLine('10.0.0.5', 2222, k('ed').blob, { hashed: true });
    expect(line).toMatch(/^\|1\|[A-Za-z0-9+/=]{28}\|[A-Za-z0-9+/=]{28} ssh-ed25519 /);
    const entries = parseKnownHosts(line);
    expect(checkHostKey(entries, '10.0.0.5', 2222, k('ed').blob)).toEqual({ result: 'match' });
    expect(checkHostKey(entries, '10.0.0.5', 22, k('ed').blob)).toEqual({ result: 'unknown' });
  });

  it('writes lines ssh-keygen -F finds for the host', async () => {
    const file = path.join(tmp, 'formatted');
    await writeFile(file, `${formatKnownHostsLine('10.0.0.5', 2222, k('ed').blob)}\n${formatKnownHostsLine('10.0.0.7', 22, k('ed2').blob, { hashed: true })}\n`);
    const plain = await run('ssh-keygen', ['-F', '[10.0.0.5]:2222', '-f', file]);
    expect(plain.stdout).toContain(k('ed').pub);
    const hashed = await run('ssh-keygen', ['-F', '10.0.0.7', '-f', file]);
    expect(hashed.stdout).toContain(k('ed2').pub.split(' ')[1]);
  });

  it('reads the key type from the blob', () => {
    expect(keyTypeOf(k('ecdsa').blob)).toBe('ecdsa-sha2-nistp256');
    expect(keyTypeOf(Buffer.from('junk'))).toBe('');
  });
});

describe('appendKnownHost', () => {
  it('creates the directory and a 0600 file, and keeps lines separate', async () => {
    const file = path.join(tmp, 'state', 'dir', 'known_hosts');
    await appendKnownHost(file, `a ${k('ed').pub}`);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    // A file edited by hand may lack its final newline.
    await writeFile(file, `${await readFile(file, 'utf8')}b ${k('ed2').pub}`);
    await appendKnownHost(file, `c ${k('ecdsa').pub}`);
    expect(await readFile(file, 'utf8')).toBe(`a ${k('ed').pub}\nb ${k('ed2').pub}\nc ${k('ecdsa').pub}\n`);
    expect(parseKnownHosts(await readFile(file, 'utf8'))).toHaveLength(3);
  });

  it('refuses a line with a newline in it', async () => {
    await expect(appendKnownHost(path.join(tmp, 'nl'), 'a\nb')).rejects.toThrow(TypeError);
  });
});
