/**
 * Rollback, suspension and resume end to end through the real `courier` CLI on a fleet of real
 * sshd nodes: a registry edit breaks the edge, `courier rollback main~1` puts every VPS back on the
 * old routes and suspends the site, the registry is fixed at leisure (listed as waiting, never
 * rendered), `courier resume` sends the fix out. Also: one node only, a node that did not exist
 * yet, an unknown revision.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSshdFleet, type SshdFleet } from '../support/sshd-fleet.js';
import { createSite, git, HOSTS_PATH, TRAEFIK_PATH, type SiteNode, type TestSite } from './create-site.js';
import { CLI_TEST_TIMEOUT } from './run-courier.js';

const NODES: SiteNode[] = [
  { name: 'edge-a', role: 'vps', fleet: 0 },
  { name: 'edge-b', role: 'vps', fleet: 1 },
  { name: 'laptop-a', role: 'laptop', fleet: 2 },
];

let fleet: SshdFleet;
beforeAll(async () => {
  fleet = await startSshdFleet(4);
});
afterAll(async () => {
  await fleet?.stopAll();
});

const text = async (site: TestSite, node: string, target: string) => (await site.read(node, target))?.toString('utf8');
const head = async (site: TestSite) => (await git(site, 'rev-parse', 'main')).trim();

describe('courier rollback / suspend / resume', { timeout: CLI_TEST_TIMEOUT }, () => {
  it('rolls every node back, suspends, lists waiting edits, refuses to render, and resume sends the fix', async () => {
    const site = await createSite(fleet, NODES.map((n) => ({ ...n })));
    expect((await site.courier('push')).code).toBe(0);
    const good = await head(site);
    const goodEdge = await text(site, 'edge-a', TRAEFIK_PATH);
    expect(goodEdge).toContain('http://100.64.0.11:2283');

    // a registry edit breaks the edge
    site.registry.services.immich!.port = 9999;
    await site.save();
    expect((await site.courier('push')).code).toBe(0);
    const broken = await head(site);
    expect(await text(site, 'edge-a', TRAEFIK_PATH)).toContain('http://100.64.0.11:9999');

    const rollback = await site.courier('rollback', 'main~1', '--reason', 'immich unreachable', '--json');
    expect(rollback.code, rollback.stderr).toBe(0);
    const result = rollback.json as { revision: string; target: string; committed: boolean; trigger: string; suspension: { revision: string; reason: string; by: string }; nodes: { node: string; status: string }[] };
    expect(result).toMatchObject({ target: good, committed: true, trigger: `rollback to ${good.slice(0, 12)}`, suspension: { revision: result.revision, reason: 'immich unreachable', by: 'command' } });
    expect(result.nodes.map((n) => [n.node, n.status]).sort()).toEqual(NODES.map((n) => [n.name, 'converged']).sort());
    // every VPS serves the old routes at once, byte for byte
    expect(await text(site, 'edge-a', TRAEFIK_PATH)).toBe(goodEdge);
    // history is intact: stock git shows the rollback commit on top of the broken one
    expect((await git(site, 'log', '--format=%H %s', '-3', 'main')).trim().split('\n')).toEqual([
      `${result.revision} rollback to ${good.slice(0, 12)}: 1 node(s) changed`,
      expect.stringMatching(new RegExp(`^${broken} manual push: file registry/services.json`)) as unknown as string,
      expect.stringMatching(new RegExp(`^${good} `)) as unknown as string,
    ]);
    expect(await git(site, 'log', '-1', '--format=%B', 'main')).toContain('Reason: immich unreachable');
    // courier show: the revision, its trigger and its diff against the parent
    const show = await site.courier('show', 'main');
    expect(show.code).toBe(0);
    expect(show.stdout).toContain(`trigger  rollback to ${good.slice(0, 12)}`);
    expect(show.stdout).toContain('edge-a (modified): traefik.yml modified');
    expect(show.stdout).toContain('-          - url: "http://100.64.0.11:9999"\n+          - url: "http://100.64.0.11:2283"');
    const shown = (await site.courier('show', result.revision.slice(0, 8), '--json')).json as { revision: string; parent: string; files: { path: string }[] };
    expect(shown).toMatchObject({ revision: result.revision, parent: broken });
    expect(shown.files.map((f) => f.path)).toEqual((await git(site, 'diff', '--name-only', broken, result.revision)).trim().split('\n'));
    expect((await site.courier('show', 'main~40')).code).toBe(2);

    // suspended: status shows it at the top, render refuses without committing
    const status = await site.courier('status');
    expect(status.stdout.split('\n')[0]).toMatch(new RegExp(`^SUSPENDED since \\S+ by command \\(\\S+\\), pinned at ${result.revision.slice(0, 12)}: immich unreachable$`));
    expect(status.stdout).toContain('registry changes waiting: none');
    const render = await site.courier('render');
    expect(render.code).toBe(1);
    expect(render.stderr).toContain('SUSPENDED');
    expect(await head(site)).toBe(result.revision);

    // the fix is written at leisure: watched and validated, listed as waiting, not applied
    site.registry.services.immich!.port = 2300;
    await site.save();
    const waiting = (await site.courier('status', '--json')).json as { suspension: { revision: string }; waiting: { valid: boolean; documents: { document: string; change: string; valid: boolean }[] } };
    expect(waiting.suspension.revision).toBe(result.revision);
    expect(waiting.waiting).toEqual({ valid: true, documents: [{ document: 'services.json', change: 'modified', valid: true, problems: [] }] });
    // a push while suspended pushes main (healing a hand edit), says so, and renders nothing
    await site.write('edge-b', TRAEFIK_PATH, 'hand edit\n');
    const push = await site.courier('push');
    expect(push.code, push.stderr).toBe(0);
    expect(push.stderr).toContain(`the site is suspended since`);
    expect(push.stderr).toContain(`pushing main at ${result.revision.slice(0, 12)}`);
    expect(await head(site)).toBe(result.revision);
    expect(await text(site, 'edge-b', TRAEFIK_PATH)).not.toBe('hand edit\n');
    expect(await text(site, 'edge-a', TRAEFIK_PATH)).toContain('http://100.64.0.11:2283');

    // an invalid registry cannot be resumed: the site stays suspended on its pinned revision
    site.registry.services.immich!.port = 70000;
    await site.save();
    const invalid = await site.courier('resume');
    expect(invalid.code).toBe(2);
    expect(invalid.stderr).toContain('REGISTRY_INVALID');
    expect((await site.courier('status', '--json')).json).toMatchObject({ suspension: { revision: result.revision }, waiting: { valid: false, documents: [{ document: 'services.json', valid: false }] } });
    // verify and a dry run work on the pinned revision even while the live registry does not validate
    const verify = await site.courier('verify');
    expect(verify.code, verify.stderr).toBe(0);
    await site.write('edge-a', TRAEFIK_PATH, 'hand edit\n');
    const dry = await site.courier('push', '--dry-run', '--json');
    expect(dry.code, dry.stderr).toBe(0);
    expect(site.reports(dry)['edge-a']).toMatchObject({ status: 'pending', revision: result.revision, changed: ['traefik.yml'] });
    expect(await text(site, 'edge-a', TRAEFIK_PATH)).toBe('hand edit\n');
    expect((await site.courier('push', '--node', 'edge-a')).code).toBe(0);

    site.registry.services.immich!.port = 2300;
    await site.save();
    const resume = await site.courier('resume', '--json');
    expect(resume.code, resume.stderr).toBe(0);
    expect(resume.json).toMatchObject({ committed: true, resumed: { revision: result.revision } });
    expect(await text(site, 'edge-a', TRAEFIK_PATH)).toContain('http://100.64.0.11:2300');
    expect((await git(site, 'log', '-1', '--format=%(trailers:key=Courier-Trigger,valueonly)', 'main')).trim()).toBe('resume: file registry/services.json');
    expect(((await site.courier('status', '--json')).json as { suspension: unknown }).suspension).toBeNull();
    expect((await site.courier('render')).code).toBe(0);
    expect((await git(site, 'log', '--format=%s', 'refs/courier/suspension')).trim().split('\n')).toEqual(['resume', `suspend at ${result.revision.slice(0, 12)}: immich unreachable`]);
  });

  it('rolls back one node (the others keep main), and a node that did not exist yet loses its artifacts', async () => {
    const site = await createSite(fleet, NODES.filter((n) => n.name !== 'laptop-a').map((n) => ({ ...n })));
    expect((await site.courier('push')).code).toBe(0);
    const before = await head(site);
    const edgeBBefore = await text(site, 'edge-b', TRAEFIK_PATH);
    // a new laptop joins and a service changes
    site.registry.nodes.push({ name: 'laptop-b', role: 'laptop', fleet: 3 });
    site.registry.services.grafana!.ip = '100.64.0.99';
    site.registry.services.immich!.port = 4000;
    site.registry.services['open-webui']!.port = 4001;
    await site.save();
    expect((await site.courier('push')).code).toBe(0);
    expect(await text(site, 'laptop-b', HOSTS_PATH)).toContain('100.64.0.99\tgrafana.mycloud.local');
    const edgeB = await text(site, 'edge-b', TRAEFIK_PATH);

    const one = await site.courier('rollback', before, '--node', 'edge-a', '--json');
    expect(one.code, one.stderr).toBe(0);
    expect((one.json as { changes: { node: string }[] }).changes.map((c) => c.node)).toEqual(['edge-a']);
    expect(await text(site, 'edge-a', TRAEFIK_PATH)).toContain('http://100.64.0.11:2283');
    expect(await text(site, 'edge-b', TRAEFIK_PATH)).toBe(edgeB);
    expect(await text(site, 'laptop-b', HOSTS_PATH)).toContain('100.64.0.99\tgrafana.mycloud.local');

    // all nodes back to before laptop-b existed: its managed block is removed, as a deleted artifact's is
    const all = await site.courier('rollback', before, '--json');
    expect(all.code, all.stderr).toBe(0);
    expect((all.json as { changes: { node: string; status: string }[] }).changes).toContainEqual({ node: 'laptop-b', status: 'removed', artifacts: [{ name: 'hosts', change: 'removed' }] });
    expect(await text(site, 'laptop-b', HOSTS_PATH)).not.toContain('# BEGIN courier');
    expect(await text(site, 'edge-b', TRAEFIK_PATH)).toBe(edgeBBefore);
  });

  it('an unknown revision is REVISION_NOT_FOUND (exit 2) and changes nothing', async () => {
    const site = await createSite(fleet, NODES.map((n) => ({ ...n })));
    expect((await site.courier('push')).code).toBe(0);
    const main = await head(site);
    for (const rev of ['0123abcd', 'main~5', 'refs/nodes/nobody']) {
      const run = await site.courier('rollback', rev);
      expect(run.code).toBe(2);
      expect(run.stderr).toContain('REVISION_NOT_FOUND');
    }
    const json = await site.courier('rollback', 'nope', '--json');
    expect(json.json).toMatchObject({ error: { code: 'REVISION_NOT_FOUND' } });
    expect(await head(site)).toBe(main);
    expect(((await site.courier('status', '--json')).json as { suspension: unknown }).suspension).toBeNull();
    await expect(git(site, 'rev-parse', '--verify', '--quiet', 'refs/courier/suspension')).rejects.toThrow();
  });

  it('suspend pins main without a new revision; a second suspend says so; resume with no change commits nothing', async () => {
    const site = await createSite(fleet, NODES.map((n) => ({ ...n })));
    expect((await site.courier('push')).code).toBe(0);
    const main = await head(site);
    const suspend = await site.courier('suspend', '--reason', 'maintenance');
    expect(suspend.code).toBe(0);
    expect(suspend.stdout).toContain(`site suspended at ${main.slice(0, 12)}`);
    expect((await site.courier('suspend')).stdout).toContain('already suspended since');
    expect(await head(site)).toBe(main);
    const resume = await site.courier('resume');
    expect(resume.code, resume.stderr).toBe(0);
    expect(resume.stdout).toContain('unchanged');
    expect(await head(site)).toBe(main);
  });
});
