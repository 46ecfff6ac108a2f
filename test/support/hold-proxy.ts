/**
 * A TCP proxy for tests that can stop forwarding the client's bytes after a given count: it holds
 * an SSH session in the middle of a transfer deterministically, however fast the machine is.
 */
import net from 'node:net';

/** A running proxy. */
export interface HoldProxy {
  port: number;
  /** Forward at most `bytes` more client→server bytes (over all connections), then hold the rest. */
  holdAfter(bytes: number): void;
  /** Forward everything again. */
  release(): void;
  /** Bytes forwarded client→server so far. */
  forwarded(): number;
  close(): Promise<void>;
}

/** Listen on `host:0` and forward every connection to `target`. */
export async function startHoldProxy(host: string, target: { host: string; port: number }): Promise<HoldProxy> {
  let forwarded = 0;
  let limit = Infinity;
  const sockets = new Set<net.Socket>();
  const waiting: (() => void)[] = [];
  const server = net.createServer((client) => {
    const upstream = net.connect(target.port, target.host);
    sockets.add(client).add(upstream);
    const drop = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
    upstream.pipe(client);
    client.on('data', (chunk: Buffer) => {
      const allowed = Math.max(0, Math.min(chunk.length, limit - forwarded));
      if (allowed > 0) {
        upstream.write(chunk.subarray(0, allowed));
        forwarded += allowed;
      }
      if (allowed < chunk.length) {
        // hold the remainder until release(); stop reading so TCP backpressure reaches the sender
        client.pause();
        const rest = chunk.subarray(allowed);
        waiting.push(() => {
          upstream.write(rest);
          forwarded += rest.length;
          client.resume();
        });
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    holdAfter: (bytes) => {
      limit = forwarded + bytes;
    },
    release: () => {
      limit = Infinity;
      for (const resume of waiting.splice(0)) resume();
    },
    forwarded: () => forwarded,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
