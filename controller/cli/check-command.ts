/** `courier check`: every precondition of the site, ✓ or ✗ with the fix; exit 0 only when all pass. */
import { readFile } from 'node:fs/promises';
import { packagePath } from '../package-root.js';
import { runSiteChecks, type CheckResult } from '../check/run-site-checks.js';
import type { CommandContext } from './run-command.js';

/** Run the checks and print them (`--json`: the whole report). */
export async function checkCommand(ctx: CommandContext): Promise<number> {
  const agentScript = await readFile(packagePath('node-agent', 'courier-agent'), 'utf8');
  const report = await runSiteChecks(ctx.options.config, { agentScript });
  if (ctx.options.json) {
    ctx.out(JSON.stringify(report, null, 2));
    return report.ok ? 0 : 1;
  }
  for (const c of report.checks) ctx.out(formatCheck(c));
  const failed = report.checks.filter((c) => !c.ok).length;
  ctx.out(failed === 0 ? `all ${report.checks.length} checks passed` : `${failed} of ${report.checks.length} checks failed`);
  return report.ok ? 0 : 1;
}

/** `✓ check [node] detail`, and for a failure the fix on the next line. */
function formatCheck(c: CheckResult): string {
  const head = `${c.ok ? '✓' : '✗'} ${c.check}${c.node ? ` ${c.node}` : ''}: ${c.detail}`;
  return c.ok || !c.fix ? head : `${head}\n    fix: ${c.fix}`;
}
