import { describe, expect, it } from 'vitest';
import { formatCommitMessage, parseCommitMessage } from './format-commit-message.js';

describe('parseCommitMessage', () => {
  it.each([
    ['courier message', 'manual push: 1 node(s) changed\n\n  a: hosts (added)\n\nCourier-Trigger: manual push\nCourier-Nodes: a, b-1\n', 'manual push', ['a', 'b-1']],
    ['registry only', 'x: registry only\n\n  registry/routing.json (added)\n\nCourier-Trigger: x\n', 'x', []],
    ['foreign commit', 'Initial import\n\nSome body.\n', 'Initial import', []],
    ['trailer-like body line', 'y: 1 node(s) changed\n\nCourier-Nodes: fake\n\nCourier-Trigger: y\nCourier-Nodes: real\n', 'y', ['real']],
  ])('reads trigger and nodes from a %s', (_label, message, trigger, nodes) => {
    expect(parseCommitMessage(message)).toEqual({ trigger, nodes });
  });

  it('reads back what formatCommitMessage wrote', () => {
    const message = formatCommitMessage('rollback to abc123', [{ node: 'vps-1', status: 'modified', artifacts: [{ name: 'traefik.yml', change: 'modified' }] }], []);
    expect(parseCommitMessage(message)).toEqual({ trigger: 'rollback to abc123', nodes: ['vps-1'] });
  });
});
