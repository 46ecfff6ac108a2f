/**
 * The warm floor, in its own process: one ssh2 connection and one *open* exec per node running a
 * tiny sh loop (read a length line, then that many bytes into <root>/.wfloor, print its sha1sum),
 * opened `concurrency` at a time and held; then `reps` rounds, each writing ~3 KB to every node at
 * once and waiting for every hash (which must match). What the daemon's registry edit -> all nodes
 * converged is compared with: the least a client holding open sessions must do to write and prove
 * 3 KB per node. Prints one JSON line: open time, RSS with every session open, round times, CPU.
 *
 *   node dist/bench/floor-warm.js spec.json
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import pLimit from 'p-limit';
import ssh2 from 'ssh2';
import { nodeSideCpuMs } from './lib.js';
import { currentRssMB, floorMedian, floorPayload, processCpuMs, readFloorSpec, type FloorNode } from './floor-spec.js';

const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

interface Open {
  client: ssh2.Client;
  channel: ssh2.ClientChannel;
  /** Resolves with the next line of output. */
  nextLine(): Promise<string>;
}

function open(node: FloorNode, user: string, privateKey: Buffer): Promise<Open> {
  const hostKey = Buffer.from(node.hostKey, 'base64');
  return new Promise<Open>((resolve, reject) => {
    const client = new ssh2.Client();
    client.on('error', reject);
    client.on('ready', () => {
      const file = quote(`${node.root}/.wfloor`);
      client.exec(`while read n; do head -c "$n" > ${file} && sha1sum ${file}; done`, (err, channel) => {
        if (err) return reject(err);
        let buffered = '';
        let waiting: ((line: string) => void) | undefined;
        channel.setEncoding('utf8');
        channel.stderr.resume();
        channel.on('data', (d: string) => {
          buffered += d;
          const nl = buffered.indexOf('\n');
          if (nl !== -1 && waiting) {
            const line = buffered.slice(0, nl);
            buffered = buffered.slice(nl + 1);
            const w = waiting;
            waiting = undefined;
            w(line);
          }
        });
        resolve({ client, channel, nextLine: () => new Promise<string>((r) => (waiting = r)) });
      });
    });
    client.connect({ host: node.host, port: node.port, username: user, privateKey, hostVerifier: (key: Buffer) => key.equals(hostKey), keepaliveInterval: 15_000 });
  });
}

const spec = readFloorSpec();
const privateKey = readFileSync(spec.keyPath);
const limit = pLimit(spec.concurrency);
const openStart = performance.now();
const sessions = await Promise.all(spec.nodes.map((node) => limit(() => open(node, spec.user, privateKey))));
const openMs = performance.now() - openStart;
const rssOpenMB = currentRssMB();
const rounds: number[] = [];
const roundCpu: number[] = [];
const roundNodeCpu: number[] = [];
for (let rep = 0; rep < spec.reps; rep++) {
  const payload = floorPayload(spec.bytes, rep);
  const expected = createHash('sha1').update(payload).digest('hex');
  const nodeCpu = spec.sshdPids ? nodeSideCpuMs(spec.sshdPids) : 0;
  const cpu = processCpuMs();
  const start = performance.now();
  await Promise.all(
    sessions.map(async (s, i) => {
      const line = s.nextLine();
      s.channel.write(`${payload.length}\n`);
      s.channel.write(payload);
      const got = (await line).slice(0, 40);
      if (got !== expected) throw new Error(`${spec.nodes[i]!.host}: warm floor hash ${got} != ${expected}`);
    }),
  );
  rounds.push(performance.now() - start);
  roundCpu.push(processCpuMs() - cpu);
  // the node side's CPU settles once every hash is back (the sessions' head and sha1sum have exited)
  if (spec.sshdPids) roundNodeCpu.push(nodeSideCpuMs(spec.sshdPids) - nodeCpu);
}
const rssAfterMB = currentRssMB();
for (const s of sessions) s.client.end();
const r = (v: number) => Math.round(v * 10) / 10;
console.log(
  JSON.stringify({
    nodes: spec.nodes.length,
    openMs: Math.round(openMs),
    rssOpenMB,
    rssAfterMB,
    roundMs: rounds.map(r),
    medianRoundMs: r(floorMedian(rounds)),
    medianRoundCpuMs: r(floorMedian(roundCpu)),
    medianRoundNodeCpuMs: spec.sshdPids ? r(floorMedian(roundNodeCpu)) : undefined,
  }),
);
process.exit(0);
