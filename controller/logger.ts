/**
 * The root pino logger. Structured fields first, a fixed message, errors under `err`; never file
 * contents, keys or whole registries. Pretty output on a terminal, JSON lines otherwise.
 */
import { pino, type Logger } from 'pino';

/** Create the root logger; `destination` 2 (stderr) keeps stdout free for command output. */
export function createLogger(options: { level?: string; pretty?: boolean } = {}): Logger {
  const level = options.level ?? process.env.COURIER_LOG_LEVEL ?? 'info';
  const pretty = options.pretty ?? Boolean(process.stderr.isTTY);
  if (pretty) {
    return pino({ level, base: undefined }, pino.transport({ target: 'pino-pretty', options: { destination: 2, ignore: 'pid,hostname', translateTime: 'SYS:HH:MM:ss' } }));
  }
  return pino({ level, base: { pid: process.pid } }, pino.destination(2));
}

/** A logger that drops everything (library use and tests). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}

export type { Logger };
