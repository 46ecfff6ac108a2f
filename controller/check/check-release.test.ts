import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { checkRelease } from './check-nodes.js';
import { compareAgentVersions } from '../transport/upgrade-agent.js';
import type { Node } from '../registry/model.js';
import type { AgentProbe } from '../transport/probe-agent.js';

const node: Node = { name: 'edge-eu', role: 'vps', ip: '100.64.1.1', sshUser: 'root', sshPort: 22, sudo: false, transport: 'ssh', restricted: true };
// the public half of an ed25519 key (any 51-byte blob serves for the fingerprint)
const SIGNER = `ssh-ed25519 ${Buffer.alloc(51, 7).toString('base64')}`;
const probe = (version: string, upgrades?: 'signed' | 'off'): AgentProbe => ({ version, missingTools: [], targets: [], upgrades, signers: upgrades === 'signed' ? [SIGNER] : [] });

describe('compareAgentVersions', () => {
  it('orders dotted versions numerically, part by part', () => {
    expect(compareAgentVersions('1.10.0', '1.9.2')).toBeGreaterThan(0);
    expect(compareAgentVersions('1.1.0', '1.1.1')).toBeLessThan(0);
    expect(compareAgentVersions('1.1', '1.1.0')).toBe(0);
    expect(compareAgentVersions('0.9.0', '1.0.0')).toBeLessThan(0);
  });
});

describe('the agent release check of a restricted node', () => {
  it('passes for the controller’s own release, and says whether the node takes upgrades', () => {
    expect(checkRelease(node, probe('1.1.1', 'signed'), '1.1.1', { signed: false })).toEqual({ check: 'agent release', node: 'edge-eu', ok: true, detail: "the installed agent is this controller's release (1.1.1); takes signed upgrades" });
    expect(checkRelease(node, probe('1.1.1', 'off'), '1.1.1', { signed: true }).detail).toMatch(/takes no upgrades \(joined without --agent-signer\)$/);
    expect(checkRelease(node, probe('1.1.1'), '1.1.1', { signed: true }).detail).toBe("the installed agent is this controller's release (1.1.1)");
  });

  it('passes for an older agent the next sync upgrades: a signed release and a node that takes it', () => {
    expect(checkRelease(node, probe('1.0.0', 'signed'), '1.1.1', { signed: true })).toMatchObject({ ok: true, detail: "the installed agent is 1.0.0, this controller's is 1.1.1; the next sync sends the signed release, which the node installs if its pinned signer made it" });
    expect(checkRelease(node, probe('1.0.0', 'signed'), '1.1.1', { signed: true, trusted: true })).toMatchObject({ ok: true, detail: "the installed agent is 1.0.0, this controller's is 1.1.1; the next sync upgrades it (signed by the signer pinned on the node)" });
  });

  it('fails when the release is signed by another key than the node pins, naming the pinned signer by fingerprint', () => {
    const fingerprint = `SHA256:${createHash('sha256').update(Buffer.alloc(51, 7)).digest('base64').replace(/=+$/, '')}`;
    const result = checkRelease(node, probe('1.0.0', 'signed'), '1.1.1', { signed: true, trusted: false });
    expect(result).toMatchObject({ ok: false, fix: expect.stringContaining('--agent-signer NEW_SIGNER.pub') });
    expect(result.detail).toBe(`the installed agent is 1.0.0, this controller's is 1.1.1; the release is not signed by the signer pinned on the node (${fingerprint}): the node refuses it and keeps its old agent`);
  });

  it('fails, with the fix, for an agent that stays behind: no signature, a node without a signer, or a newer agent', () => {
    expect(checkRelease(node, probe('1.0.0', 'signed'), '1.1.1', { signed: false })).toMatchObject({ ok: false, fix: expect.stringContaining('courier agent sign --key RELEASE_KEY') });
    expect(checkRelease(node, probe('1.0.0', 'off'), '1.1.1', { signed: true })).toMatchObject({ ok: false, fix: expect.stringContaining('--agent-signer FILE') });
    expect(checkRelease(node, probe('1.2.0', 'signed'), '1.1.1', { signed: true })).toMatchObject({ ok: false, detail: "the installed agent is 1.2.0, this controller's is 1.1.1: newer, and a node never takes a downgrade" });
  });
});
