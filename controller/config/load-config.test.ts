import { describe, expect, it } from 'vitest';
import { parseConfig, parseDuration } from './load-config.js';
import { isCourierError } from '../errors.js';

describe('parseDuration', () => {
  it.each([
    ['500ms', 500],
    ['5s', 5000],
    ['10m', 600_000],
    ['1h', 3_600_000],
    ['1h30m', 5_400_000],
  ])('reads %s as %d ms', (text, ms) => expect(parseDuration(text)).toBe(ms));

  it.each(['5', '5 s', 's', '1d', ''])('rejects %j', (text) => expect(() => parseDuration(text)).toThrow(/not a duration/));
});

describe('parseConfig', () => {
  it('fills every default and resolves paths against the config directory', () => {
    const c = parseConfig('', '/site/courier.yaml');
    expect(c.source).toEqual({ type: 'files', path: '/site/registry' });
    expect(c.state).toEqual({ dir: '/site/.courier', store: '/site/.courier/store', statusFile: '/site/.courier/status.json', lockFile: '/site/.courier/lock' });
    expect(c.ssh).toMatchObject({ knownHosts: '/site/.courier/known_hosts', connectTimeout: 10_000, concurrency: 32 });
    expect(c.traefik).toMatchObject({ path: '~/traefik/config/mynodeone-routes.yml', entryPoints: { web: 'web', websecure: 'websecure' }, certResolver: 'letsencrypt' });
    expect(c.hosts).toEqual({ path: '/etc/hosts', removeLegacy: true });
    expect(c.reconcile).toMatchObject({ interval: 3_600_000, retries: 3, retryDelay: 5000, errorAfter: 5, drift: 'heal' });
    expect(c.http.listen).toBe('127.0.0.1:9470');
    expect(c.leaderElection).toMatchObject({ enabled: false, name: 'courier-controller', namespace: 'kube-system', leaseDuration: 15_000, renewDeadline: 10_000, retryPeriod: 2_000 });
  });

  it('agent.signature: unset by default (the .sig beside the shipped agent), resolved against the config directory', () => {
    expect(parseConfig('', '/site/courier.yaml').agent).toEqual({ signature: undefined });
    expect(parseConfig('agent:\n  signature: release/courier-agent.sig\n', '/site/courier.yaml').agent.signature).toBe('/site/release/courier-agent.sig');
    expect(() => parseConfig('agent:\n  signer: x\n', '/site/courier.yaml')).toThrow(/agent\.signer: unknown key/);
  });

  it('names an unknown key instead of falling back to a default', () => {
    try {
      parseConfig('ssh:\n  conectTimeout: 5s\n', '/site/courier.yaml');
      expect.unreachable();
    } catch (err) {
      expect(isCourierError(err, 'CONFIG_INVALID')).toBe(true);
      expect((err as Error).message).toContain('ssh.conectTimeout: unknown key');
    }
  });

  it('rejects a duration without a unit with the key name', () => {
    expect(() => parseConfig('reconcile:\n  interval: 60\n', '/c.yaml')).toThrow(/reconcile\.interval/);
  });

  it('reports bad YAML with line and column', () => {
    expect(() => parseConfig('ssh:\n  a: [\n', '/c.yaml')).toThrow(/\/c\.yaml:\d+:\d+: not valid YAML/);
  });

  it('takes leader election defaults from the kubernetes source', () => {
    const c = parseConfig('source:\n  type: kubernetes\n  namespace: infra\n  kubeconfig: kube.yaml\nleaderElection: true\n', '/site/courier.yaml');
    expect(c.leaderElection).toMatchObject({ enabled: true, namespace: 'infra', kubeconfig: '/site/kube.yaml' });
  });
});
