/**
 * History commands: log and diff. They read only the store, so they load neither the registry nor
 * the render pipeline (start-up time matters for `courier log`).
 */
import { CourierError } from '../errors.js';
import { readStatePaths } from '../config/read-state-paths.js';
import type { CommandContext } from './run-command.js';

// Store modules load on use: isomorphic-git is a large import, and `log --node` does without it.
const revisionLog = () => import('../store/list-revisions.js');
const history = () => Promise.all([import('../store/diff-revisions.js'), import('../store/resolve-revision.js'), import('../store/show-revision.js')]);

/** The site's store, from its config alone. */
async function openSiteStore(ctx: CommandContext) {
  const state = await readStatePaths(ctx.options.config);
  const { openStore } = await import('../store/open-store.js');
  return openStore(state.store);
}

/** `courier log`: revisions, newest first. */
export async function logCommand(ctx: CommandContext, opts: { node?: string; number?: string }): Promise<number> {
  const limit = opts.number === undefined ? 20 : Number(opts.number);
  if (!Number.isInteger(limit) || limit < 1) throw new CourierError('USAGE', `-n ${opts.number}: expected a positive whole number`);
  let revisions;
  if (opts.node !== undefined) {
    // the per-node index reads the store directly (an absent store simply has no revisions)
    const { listNodeRevisions } = await import('../store/node-log-index.js');
    revisions = await listNodeRevisions({ dir: (await readStatePaths(ctx.options.config)).store, cache: {} }, opts.node, limit);
  } else {
    revisions = await (await revisionLog()).listRevisions(await openSiteStore(ctx), { limit });
  }
  if (ctx.options.json) {
    ctx.out(JSON.stringify(revisions, null, 2));
    return 0;
  }
  if (revisions.length === 0) ctx.out('no revisions yet: run `courier render`');
  for (const r of revisions) {
    ctx.out(`${r.revision.slice(0, 12)}  ${r.time}  ${r.trigger}`);
    if (r.nodes.length) ctx.out(`    nodes: ${r.nodes.join(', ')}`);
  }
  return 0;
}

/** `courier diff [A [B]]`: unified diff of rendered files between revisions (default previous → current). */
export async function diffCommand(ctx: CommandContext, a: string | undefined, b: string | undefined, opts: { node?: string }): Promise<number> {
  const store = await openSiteStore(ctx);
  const [[{ diffRevisions }, { resolveRevision }], { listRevisions }] = await Promise.all([history(), import('../store/list-revisions.js')]);
  let from: string | undefined;
  let to: string;
  if (a === undefined) {
    to = await resolveRevision(store, 'main');
    const [, parent] = await listRevisions(store, { limit: 2 });
    from = parent?.revision;
  } else {
    from = await resolveRevision(store, a);
    to = await resolveRevision(store, b ?? 'main');
  }
  const diffs = await diffRevisions(store, from, to, { node: opts.node });
  if (ctx.options.json) {
    ctx.out(JSON.stringify({ from: from ?? null, to, files: diffs }, null, 2));
    return 0;
  }
  for (const d of diffs) ctx.out(d.patch);
  if (diffs.length === 0) ctx.out('no differences');
  return 0;
}

/** `courier show REV`: trigger, time, changed nodes and artifacts, and the unified diff against the parent. */
export async function showCommand(ctx: CommandContext, spec: string): Promise<number> {
  const [, , { showRevision }] = await history();
  const detail = await showRevision(await openSiteStore(ctx), spec);
  if (ctx.options.json) {
    ctx.out(JSON.stringify(detail, null, 2));
    return 0;
  }
  ctx.out(`revision ${detail.revision}`);
  ctx.out(`parent   ${detail.parent ?? '(none: first revision)'}`);
  ctx.out(`time     ${detail.time}`);
  ctx.out(`trigger  ${detail.trigger}`);
  ctx.out('');
  ctx.out(detail.message.trimEnd().split('\n').map((line) => `    ${line}`).join('\n'));
  ctx.out('');
  if (detail.nodes.length === 0) ctx.out('no node changed');
  for (const n of detail.nodes) ctx.out(`${n.node} (${n.change}): ${n.artifacts.map((a) => `${a.name} ${a.change}`).join(', ') || 'manifest only'}`);
  for (const r of detail.registry) ctx.out(`registry/${r.document} (${r.change})`);
  for (const file of detail.files) ctx.out(file.patch);
  return 0;
}
