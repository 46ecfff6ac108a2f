/** `courier demo` (what `npm start` runs): a built-in demo site on the local transport. */
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { CommandContext } from './run-command.js';
import { exampleConfig, exampleRegistry } from './example-site.js';
import { writeSite } from './site-commands.js';
import { pushCommand, statusCommand } from './sync-commands.js';
import { logCommand } from './history-commands.js';
import { daemonCommand } from './daemon-commands.js';

/** Create `dir` (default ./demo) from the example registry if absent, push to its local nodes, print status and log. */
export async function demoCommand(ctx: CommandContext, opts: { dir?: string; once?: boolean; listen?: string }): Promise<number> {
  const dir = path.resolve(opts.dir ?? 'demo');
  const config = path.join(dir, 'courier.yaml');
  if (!existsSync(config)) {
    await writeSite(dir, {
      config: exampleConfig({ publicDomain: 'example.com' }),
      registry: exampleRegistry({
        addresses: { 'edge-eu': '127.0.0.2', 'edge-us': '127.0.0.3', 'laptop-1': '127.0.0.4', 'worker-1': '127.0.0.5' },
        localRoots: path.join(dir, 'nodes'),
      }),
    });
    ctx.out(`created the demo site in ${dir}: its nodes are directories under ${path.join(dir, 'nodes')}`);
  }
  const sub: CommandContext = { ...ctx, options: { ...ctx.options, config } };
  const pushed = await pushCommand(sub, {});
  ctx.out('');
  await statusCommand(sub);
  ctx.out('\nrevisions (courier log):');
  await logCommand(sub, { number: '5' });
  if (opts.once) {
    ctx.out(`\nnext: edit ${path.join(dir, 'registry', 'services.json')} and run \`npx courier push --config ${path.relative(process.cwd(), config)}\``);
    return pushed;
  }
  ctx.out(`\nstarting the daemon: edit ${path.join(dir, 'registry', 'services.json')} and watch the nodes converge (Ctrl-C stops)`);
  return daemonCommand(sub, { listen: opts.listen });
}
