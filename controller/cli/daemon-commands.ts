/** `courier daemon` and `courier reconcile`. */
import { CourierError } from '../errors.js';
import { openSite } from '../pipeline/open-site.js';
import { loadConfig } from '../config/load-config.js';
import { readHttpToken } from '../http/read-http-token.js';
import { startDaemon } from '../daemon/run-daemon.js';
import type { CommandContext } from './run-command.js';

/** Run the daemon until SIGTERM/SIGINT; exit 0 after a graceful stop. */
export async function daemonCommand(ctx: CommandContext, opts: { listen?: string }): Promise<number> {
  const site = await openSite(ctx.options.config, ctx.logger);
  const daemon = await startDaemon(site, { listen: opts.listen });
  if (daemon.url) ctx.out(`courier daemon running; dashboard: ${daemon.url}/`);
  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      ctx.logger.info({ signal }, 'stopping');
      process.off('SIGTERM', onTerm);
      process.off('SIGINT', onInt);
      resolve();
    };
    const onTerm = () => stop('SIGTERM');
    const onInt = () => stop('SIGINT');
    process.on('SIGTERM', onTerm);
    process.on('SIGINT', onInt);
  });
  await daemon.stop();
  return 0;
}

/** Ask a running daemon (through its HTTP endpoint) to reconcile now. */
export async function reconcileCommand(ctx: CommandContext, opts: { url?: string }): Promise<number> {
  const config = await loadConfig(ctx.options.config);
  const base = opts.url ?? `http://${config.http.listen}`;
  const token = await readHttpToken(config.http);
  let res: Response;
  try {
    res = await fetch(`${base}/api/reconcile`, { method: 'POST', headers: token === undefined ? {} : { authorization: `Bearer ${token}` } });
  } catch (err) {
    throw new CourierError('NODE_UNREACHABLE', `no daemon answers at ${base} (is \`courier daemon\` running with http.listen ${config.http.listen}?)`, { url: base }, { cause: err, retryable: false });
  }
  const body = (await res.json().catch(() => ({}))) as { accepted?: boolean; reason?: string; error?: { message?: string } };
  if (ctx.options.json) ctx.out(JSON.stringify({ status: res.status, ...body }));
  else ctx.out(res.ok ? 'reconcile started' : `daemon refused: ${body.reason ?? body.error?.message ?? res.statusText}`);
  return res.ok ? 0 : 1;
}
