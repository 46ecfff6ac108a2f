/**
 * A minimal server-sent events client for tests, on node:http: it parses frames as they arrive
 * and hands them out in order; every wait is bounded and fails naming what it waited for.
 */
import http from 'node:http';

/** One parsed frame: an event (with its name and data) or a comment line. */
export type EventFrame = { type: 'event'; event: string; data: string } | { type: 'comment'; text: string };

/** An open stream. */
export interface EventStream {
  /** Response status and content type. */
  status: number;
  contentType: string | undefined;
  /** The next frame matching `accept`, waiting at most `timeoutMs`. */
  next(accept: (frame: EventFrame) => boolean, timeoutMs?: number): Promise<EventFrame>;
  close(): void;
}

/** Open `url` as an event stream once the response headers arrive. */
export function openEventStream(url: string): Promise<EventStream> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { headers: { accept: 'text/event-stream' } }, (res) => {
      const frames: EventFrame[] = [];
      const waiters = new Set<() => void>();
      let buffer = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buffer += chunk;
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          frames.push(...parseFrame(buffer.slice(0, end)));
          buffer = buffer.slice(end + 2);
        }
        for (const wake of waiters) wake();
      });
      resolve({
        status: res.statusCode ?? 0,
        contentType: res.headers['content-type'],
        next(accept, timeoutMs = 5_000) {
          return new Promise((done, fail) => {
            const check = (): boolean => {
              const index = frames.findIndex(accept);
              if (index < 0) return false;
              const [frame] = frames.splice(0, index + 1).slice(-1);
              waiters.delete(wake);
              clearTimeout(timer);
              done(frame!);
              return true;
            };
            const wake = (): void => void check();
            const timer = setTimeout(() => {
              waiters.delete(wake);
              fail(new Error(`no matching event-stream frame within ${timeoutMs} ms`));
            }, timeoutMs);
            waiters.add(wake);
            check();
          });
        },
        close() {
          req.destroy();
        },
      });
    });
    req.on('error', reject);
  });
}

/** Frames in one blank-line-separated block: comments, and an event with its (joined) data lines. */
function parseFrame(block: string): EventFrame[] {
  const frames: EventFrame[] = [];
  let event = 'message';
  const data: string[] = [];
  for (const line of block.split('\n')) {
    if (line.startsWith(':')) frames.push({ type: 'comment', text: line.slice(1).trim() });
    else if (line.startsWith('event:')) event = line.slice(6).trim();
    else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
  }
  if (data.length > 0) frames.push({ type: 'event', event, data: data.join('\n') });
  return frames;
}
