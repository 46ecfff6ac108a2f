/**
 * The cold floor, one run per process: for every node one ssh2 connection (same key, host key
 * pinned) and one exec of `cat > <root>/.floor && sha1sum <root>/.floor` with ~3 KB on stdin, at
 * the given concurrency; the hash that comes back must match. What the cold `courier push` /
 * `verify` are compared with: the least any SSH client must do to write and prove 3 KB per node.
 * Prints one JSON line: the work's wall and CPU ms (the parent also times the whole process).
 *
 *   node dist/bench/floor-cold.js spec.json
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import pLimit from 'p-limit';
import ssh2 from 'ssh2';
import { floorPayload, processCpuMs, readFloorSpec, type FloorNode } from './floor-spec.js';

const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

function one(node: FloorNode, user: string, privateKey: Buffer, payload: Buffer, expected: string): Promise<void> {
  const hostKey = Buffer.from(node.hostKey, 'base64');
  return new Promise<void>((resolve, reject) => {
    const client = new ssh2.Client();
    let out = '';
    client.on('error', reject);
    client.on('ready', () => {
      const file = quote(`${node.root}/.floor`);
      client.exec(`cat > ${file} && sha1sum ${file}`, (err, channel) => {
        if (err) return reject(err);
        channel.setEncoding('utf8');
        channel.on('data', (d: string) => (out += d));
        channel.stderr.resume();
        channel.on('close', () => {
          client.end();
          if (out.slice(0, 40) !== expected) reject(new Error(`${node.host}: floor hash ${out.slice(0, 40) || '(none)'} != ${expected}`));
          else resolve();
        });
        channel.end(payload);
      });
    });
    client.connect({ host: node.host, port: node.port, username: user, privateKey, hostVerifier: (key: Buffer) => key.equals(hostKey) });
  });
}

const spec = readFloorSpec();
const privateKey = readFileSync(spec.keyPath);
const payload = floorPayload(spec.bytes, process.pid);
const expected = createHash('sha1').update(payload).digest('hex');
const limit = pLimit(spec.concurrency);
const startedMs = performance.now();
const cpuBefore = processCpuMs();
await Promise.all(spec.nodes.map((node) => limit(() => one(node, spec.user, privateKey, payload, expected))));
const workMs = performance.now() - startedMs;
const workCpuMs = processCpuMs() - cpuBefore;
console.log(JSON.stringify({ nodes: spec.nodes.length, startupMs: Math.round(startedMs), workMs: Math.round(workMs), workCpuMs: Math.round(workCpuMs), processCpuMs: Math.round(processCpuMs()) }));
