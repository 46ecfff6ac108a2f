/**
 * The controller side of the sync protocol against scripted peers run through the local channel:
 * the real agent for a normal exchange, and small sh scripts for peers that misbehave.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { isCourierError } from '../errors.js';
import { packagePath } from '../package-root.js';
import { planOps, planWants } from '../plan/plan-sync.js';
import { blobOid } from '../render/blob-oid.js';
import type { Artifact } from '../render/model.js';
import { runAgentExchange } from './agent-session.js';
import { buildAgentCommand } from './open-agent-channel.js';
import { openLocalChannel } from './local-transport.js';

const AGENT = readFileSync(packagePath('node-agent', 'courier-agent'), 'utf8');
const content = 'http: {}\n';
const artifact: Artifact = { name: 'traefik.yml', path: '/srv/routes.yml', kind: 'file', mode: '0644', content, oid: blobOid(content) };
const wants = planWants([artifact]);

/** Run one exchange with a peer script. */
function exchange(script: string, args: string[] = []) {
  const channel = openLocalChannel(buildAgentCommand(script, args, { sudo: false }));
  return runAgentExchange(channel, wants, (haves) => planOps(wants, haves, [artifact]));
}

/** The error an exchange with this peer fails with. */
async function failure(script: string): Promise<unknown> {
  try {
    await exchange(script);
  } catch (err) {
    return err;
  }
  throw new Error('exchange succeeded');
}

describe('runAgentExchange', () => {
  it('puts what the node lacks and reads back the oid it wrote (real agent)', async () => {
    const root = mkdtempSync(path.join(os.tmpdir(), 'courier-session-'));
    const result = await exchange(AGENT, ['sync', '--root', root]);
    expect(result.haves).toEqual([{ path: '/srv/routes.yml', kind: 'file', oid: '-' }]);
    expect(result.results).toEqual([{ path: '/srv/routes.yml', ok: true, oid: artifact.oid }]);
    expect(result.bytesSent).toBe(content.length);
    expect(result.exitCode).toBe(0);
    expect(readFileSync(path.join(root, 'srv/routes.yml'), 'utf8')).toBe(content);
    const again = await exchange(AGENT, ['sync', '--root', root]);
    expect([again.ops, again.bytesSent]).toEqual([[], 0]);
  });

  it('refuses an agent speaking another protocol version', async () => {
    const err = await failure('read -r g; set -- $g; echo "courier 2 9.9.9 $3 host"; cat >/dev/null');
    expect(isCourierError(err, 'AGENT_PROTOCOL')).toBe(true);
    expect((err as Error).message).toContain('protocol 2');
  });

  it('reports a peer that never greets as a protocol error naming what was due', async () => {
    const err = await failure('read -r _; echo "Welcome to the node!"; exit 0');
    expect(isCourierError(err, 'AGENT_PROTOCOL')).toBe(true);
    expect((err as Error).message).toContain('greeting');
  });

  it('discards what a login shell prints before the greeting: lines, a line without newline, stderr', async () => {
    const root = mkdtempSync(path.join(os.tmpdir(), 'courier-session-'));
    const noisy = `echo "Welcome to the node!"; echo "courier 1 1.0.0 forged host"; echo "motd" >&2; printf "no newline"; `;
    const channel = openLocalChannel(`${noisy}${buildAgentCommand(AGENT, ['sync', '--root', root], { sudo: false })}`);
    const result = await runAgentExchange(channel, wants, (haves) => planOps(wants, haves, [artifact]));
    expect(result.results).toEqual([{ path: '/srv/routes.yml', ok: true, oid: artifact.oid }]);
    expect(readFileSync(path.join(root, 'srv/routes.yml'), 'utf8')).toBe(content);
  });

  it('gives up after 64 KiB of output without a greeting, quoting the first line', async () => {
    const err = await failure('read -r _; echo "Last login: yesterday"; i=0; while [ $i -lt 2000 ]; do echo "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"; i=$((i+1)); done; cat >/dev/null');
    expect(isCourierError(err, 'AGENT_PROTOCOL')).toBe(true);
    expect((err as Error).message).toContain('64 KiB');
    expect((err as Error).message).toContain('Last login: yesterday');
  });

  it("passes on the agent's own error line", async () => {
    const err = await failure('read -r _; echo "error AGENT_TOOLS need sha1sum"; exit 2');
    expect(isCourierError(err, 'AGENT_PROTOCOL')).toBe(true);
    expect((err as Error).message).toContain('AGENT_TOOLS: need sha1sum');
  });

  it('a have for another path than the want is a protocol error', async () => {
    const err = await failure('read -r g; set -- $g; echo "courier 1 1.0.0 $3 h"; read -r _; read -r _; echo "have /etc/passwd file -"; echo "?"; cat >/dev/null');
    expect(isCourierError(err, 'AGENT_PROTOCOL')).toBe(true);
  });

  it('an agent killed on the node is a retryable lost connection, not a protocol error', async () => {
    const err = await failure('read -r g; set -- $g; echo "courier 1 1.0.0 $3 h"; read -r _; read -r _; echo "have /srv/routes.yml file -"; echo "?"; kill -9 $$');
    expect(isCourierError(err, 'CONNECTION_LOST')).toBe(true);
    expect((err as { retryable: boolean }).retryable).toBe(true);
  });
});
