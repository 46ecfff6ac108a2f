/**
 * The server-sent event stream behind `/api/events`: every client gets the status once on connect
 * and again whenever the daemon signals a change; a comment line every `keepAliveMs` keeps
 * proxies from closing an idle stream. One status read serves every client, and a burst of
 * signals while a read runs collapses into one more read.
 */
import type { ServerResponse } from 'node:http';
import type { StatusView } from '../status/build-status-view.js';

/** The open event streams of one server. */
export interface StatusStream {
  /** Take over a response: send the stream headers, the current status, then every change. */
  add(res: ServerResponse): void;
  /** How many clients are connected. */
  readonly size: number;
  /** End every stream, stop the keep-alive and unsubscribe from changes. */
  close(): void;
}

/** Start the stream: subscribe to changes and run the keep-alive timer. */
export function createStatusStream(options: {
  getStatus: () => Promise<StatusView>;
  subscribe?: (listener: () => void) => () => void;
  keepAliveMs: number;
  onError: (err: unknown) => void;
}): StatusStream {
  // The sequence number of the last frame written to each client: reads can finish out of order
  // (a client's first read racing a broadcast), and a client must never get an older status last.
  const clients = new Map<ServerResponse, number>();
  let sequence = 0;
  let running = false;
  let pending = false;
  let closed = false;

  /** Read the status once and write it to the given clients that have not seen a newer one. */
  async function sendStatus(targets: ServerResponse[]): Promise<void> {
    const mine = ++sequence;
    let status: StatusView;
    try {
      status = await options.getStatus();
    } catch (err) {
      options.onError(err);
      return;
    }
    const frame = `event: status\ndata: ${JSON.stringify(status)}\n\n`;
    for (const res of targets) {
      const last = clients.get(res);
      if (last === undefined || last > mine) continue;
      clients.set(res, mine);
      res.write(frame);
    }
  }

  /** Send the status to every client; signals during a read collapse into one more read. */
  function broadcast(): void {
    if (closed || clients.size === 0) return;
    if (running) {
      pending = true;
      return;
    }
    running = true;
    void (async () => {
      try {
        do {
          pending = false;
          await sendStatus([...clients.keys()]);
        } while (pending && !closed);
      } finally {
        running = false;
      }
    })();
  }

  const unsubscribe = options.subscribe?.(broadcast);
  const keepAlive = setInterval(() => {
    for (const res of clients.keys()) res.write(': keep-alive\n\n');
  }, options.keepAliveMs);
  keepAlive.unref();

  return {
    add(res) {
      if (closed) {
        res.writeHead(503, { 'content-type': 'text/plain; charset=utf-8' }).end('shutting down\n');
        return;
      }
      res.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-store',
        connection: 'keep-alive',
        // nginx and similar buffer responses unless told not to, which would hold events back
        'x-accel-buffering': 'no',
      });
      res.write('retry: 3000\n\n');
      clients.set(res, 0);
      res.on('close', () => clients.delete(res));
      void sendStatus([res]);
    },

    get size() {
      return clients.size;
    },

    close() {
      closed = true;
      clearInterval(keepAlive);
      unsubscribe?.();
      for (const res of clients.keys()) res.end();
      clients.clear();
    },
  };
}
