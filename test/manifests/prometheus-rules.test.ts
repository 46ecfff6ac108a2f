/**
 * The shipped Prometheus objects: the alerting rules pass Debian's `promtool check rules` and their
 * unit tests (`promtool test rules`), each alert has a summary and a runbook line, the Operator's
 * PrometheusRule holds exactly the same groups, and the ServiceMonitor validates against the
 * Prometheus Operator schema and scrapes the shipped Service with the daemon's token Secret.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { PrometheusRule, ServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1';
import { packagePath } from '../../controller/package-root.js';
import { createMetrics } from '../../controller/http/create-metrics.js';

const DIR = packagePath('manifests', 'prometheus');
const PROMTOOL = '/usr/bin/promtool';

interface Rule {
  alert: string;
  expr: string;
  for?: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}
type Groups = { name: string; rules: Rule[] }[];

const rules = (parse(readFileSync(path.join(DIR, 'courier-rules.yaml'), 'utf8')) as { groups: Groups }).groups;
const load = (file: string) => parse(readFileSync(path.join(DIR, file), 'utf8')) as Record<string, unknown>;

/** Run promtool in `cwd`; its exit status and output. */
function promtool(cwd: string, ...args: string[]): { status: number | null; output: string } {
  const r = spawnSync(PROMTOOL, args, { cwd, encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

describe('Prometheus alerting rules', () => {
  it('pass promtool check rules', () => {
    const r = promtool(DIR, 'check', 'rules', 'courier-rules.yaml');
    expect(r.status, r.output).toBe(0);
    expect(r.output).toContain(`SUCCESS: ${rules.flatMap((g) => g.rules).length} rules found`);
  });

  it('pass their promtool unit tests', () => {
    const r = promtool(DIR, 'test', 'rules', 'tests/courier-rules.test.yaml');
    expect(r.status, r.output).toBe(0);
    expect(r.output).toContain('SUCCESS');
  });

  it('the unit tests can fail: a changed threshold makes promtool test rules exit non-zero', () => {
    const copy = mkdtempSync(path.join(os.tmpdir(), 'courier-rules-'));
    cpSync(DIR, copy, { recursive: true });
    const file = path.join(copy, 'courier-rules.yaml');
    writeFileSync(file, readFileSync(file, 'utf8').replace('for: 15m', 'for: 30m'));
    const r = promtool(copy, 'test', 'rules', 'tests/courier-rules.test.yaml');
    expect(r.status).not.toBe(0);
    expect(r.output).toContain('CourierNodeNotConverged');
  });

  it('cover every condition the issue names, each with a severity, a summary and a runbook line', () => {
    const all = rules.flatMap((g) => g.rules);
    expect(all.map((r) => r.alert).sort()).toEqual(['CourierDriftDetected', 'CourierNoLeader', 'CourierNodeError', 'CourierNodeNotConverged', 'CourierRegistryInvalid', 'CourierSuspendedTooLong']);
    for (const rule of all) {
      expect(['warning', 'critical'], rule.alert).toContain(rule.labels.severity);
      expect(rule.annotations.summary, rule.alert).toMatch(/\S{3,}/);
      expect(rule.annotations.runbook, rule.alert).toMatch(/`courier |kubectl/);
    }
    expect(all.find((r) => r.alert === 'CourierNodeNotConverged')?.for).toBe('15m');
    expect(all.find((r) => r.alert === 'CourierNoLeader')?.for).toBe('5m');
  });

  it('use only metrics the daemon exports (courier_suspended comes with suspension, issue 11)', async () => {
    const exported = new Set((await createMetrics().registry.getMetricsAsJSON()).map((m) => m.name));
    const referenced = new Set(rules.flatMap((g) => g.rules).flatMap((r) => r.expr.match(/\bcourier_[a-z_]+/g) ?? []));
    expect(referenced.size).toBeGreaterThanOrEqual(5);
    for (const name of referenced) if (name !== 'courier_suspended') expect(exported, name).toContain(name);
  });
});

describe('Prometheus Operator objects', () => {
  it('the PrometheusRule validates and holds exactly the groups of courier-rules.yaml', () => {
    const object = load('prometheusrule.yaml');
    expect(() => new PrometheusRule(object as never).validate()).not.toThrow();
    expect((object.spec as { groups: Groups }).groups).toEqual(rules);
  });

  it('the ServiceMonitor validates and scrapes the shipped Service with the token Secret the daemon reads', () => {
    const monitor = load('servicemonitor.yaml') as never as {
      metadata: { namespace: string };
      spec: { selector: { matchLabels: Record<string, string> }; endpoints: { port: string; path: string; authorization: { type: string; credentials: { name: string; key: string } } }[] };
    };
    expect(() => new ServiceMonitor(monitor as never).validate()).not.toThrow();
    const service = load('../kubernetes/service.yaml') as never as { metadata: { namespace: string; labels: Record<string, string> }; spec: { ports: { name: string }[] } };
    expect(monitor.metadata.namespace).toBe(service.metadata.namespace);
    expect(service.metadata.labels).toMatchObject(monitor.spec.selector.matchLabels);
    const endpoint = monitor.spec.endpoints[0]!;
    expect(service.spec.ports.map((p) => p.name)).toContain(endpoint.port);
    expect(endpoint.path).toBe('/metrics');
    const deployment = readFileSync(packagePath('manifests', 'kubernetes', 'deployment.yaml'), 'utf8');
    expect(endpoint.authorization).toEqual({ type: 'Bearer', credentials: { name: 'courier-http-token', key: 'token' } });
    expect(deployment).toMatch(/secretName: courier-http-token\n\s+defaultMode: 0400\n\s+items:\n\s+- key: token/);
  });

  it('the schema check can fail: a ServiceMonitor without endpoints port type is rejected', () => {
    const monitor = load('servicemonitor.yaml') as never as { spec: { endpoints: { port: unknown }[] } };
    monitor.spec.endpoints[0]!.port = 9470;
    expect(() => new ServiceMonitor(monitor as never).validate()).toThrow(/port/);
  });

  it('builds with kustomize (kubectl kustomize)', () => {
    const out = execFileSync('kubectl', ['kustomize', DIR], { encoding: 'utf8' });
    const kinds = parseAllDocuments(out).map((d) => (d.toJS() as { kind: string }).kind);
    expect(kinds.sort()).toEqual(['PrometheusRule', 'ServiceMonitor']);
  });
});
