/**
 * The top of every command: turns errors into one clear message and an exit status a script can
 * trust (0 ok, 1 operational failure, 2 bad config/registry/usage, 3 locked), and prints either
 * human output or `--json`.
 */
import { CourierError, isCourierError } from '../errors.js';
import { createLogger, type Logger } from '../logger.js';

/** Options every command gets. */
export interface GlobalOptions {
  config: string;
  json?: boolean;
  logLevel?: string;
}

/** What a command's action receives. */
export interface CommandContext {
  options: GlobalOptions;
  logger: Logger;
  /** Write a line to stdout. */
  out: (text: string) => void;
}

/** Run a command action; its resolved number is the exit status. */
export async function runCommand(options: GlobalOptions, action: (ctx: CommandContext) => Promise<number | void>): Promise<void> {
  const logger = createLogger({ level: options.logLevel ?? (options.json ? 'warn' : process.env.COURIER_LOG_LEVEL ?? 'warn') });
  const out = (text: string) => process.stdout.write(text.endsWith('\n') ? text : text + '\n');
  let code: number;
  try {
    code = (await action({ options, logger, out })) ?? 0;
  } catch (err) {
    code = reportError(err, options.json === true);
  }
  logger.flush?.();
  process.exitCode = code;
}

/** Print an error (JSON on stdout with --json, else a message on stderr) and return its exit status. */
export function reportError(err: unknown, json: boolean): number {
  const e = isCourierError(err) ? err : new CourierError('AGENT_PROTOCOL', `internal error: ${(err as Error)?.stack ?? String(err)}`);
  const code = isCourierError(err) ? e.exitCode : 1;
  if (json) {
    process.stdout.write(JSON.stringify({ error: e.toJSON() }, null, 2) + '\n');
  } else {
    process.stderr.write(`courier: ${e.code}: ${e.message}\n`);
  }
  return code;
}
