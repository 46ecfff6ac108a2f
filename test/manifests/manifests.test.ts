/**
 * The shipped manifests: Kubernetes objects parse and validate against the Kubernetes OpenAPI
 * schemas (kubernetes-models), the kustomization lists every file and builds with kustomize, RBAC
 * grants only what courier uses, and the systemd unit passes `systemd-analyze verify`.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { ServiceAccount, ConfigMap, PersistentVolumeClaim, Service } from 'kubernetes-models/v1';
import { Deployment } from 'kubernetes-models/apps/v1';
import { Role, RoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1';
import { parseConfig } from '../../controller/config/load-config.js';
import { DOCUMENT_CONFIGMAPS } from '../../controller/registry/model.js';
import { packagePath } from '../../controller/package-root.js';

const DIR = packagePath('manifests', 'kubernetes');
const MODELS: Record<string, new (data: never) => { validate(): void }> = {
  ServiceAccount: ServiceAccount as never,
  ConfigMap: ConfigMap as never,
  PersistentVolumeClaim: PersistentVolumeClaim as never,
  Service: Service as never,
  Deployment: Deployment as never,
  Role: Role as never,
  RoleBinding: RoleBinding as never,
  NetworkPolicy: NetworkPolicy as never,
};

/** Every object in the manifests directory (kustomization excluded). */
function loadObjects(): { file: string; object: Record<string, unknown> & { kind: string; metadata: { name: string } } }[] {
  return readdirSync(DIR)
    .filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml')
    .flatMap((file) =>
      parseAllDocuments(readFileSync(path.join(DIR, file), 'utf8')).map((doc) => {
        expect(doc.errors, file).toEqual([]);
        return { file, object: doc.toJS() };
      }),
    );
}

describe('Kubernetes manifests', () => {
  const objects = loadObjects();

  it.each(objects.map((o) => [o.file, o.object.kind, o.object]))('%s (%s) validates against the Kubernetes schema', (_file, kind, object) => {
    const Model = MODELS[kind as string];
    expect(Model, `no schema model for kind ${String(kind)}`).toBeDefined();
    expect(() => new Model!(object as never).validate()).not.toThrow();
  });

  it('the schema check rejects a wrong type (the validator can fail)', () => {
    const deployment = structuredClone(objects.find((o) => o.object.kind === 'Deployment')!.object) as unknown as { spec: { replicas: unknown } };
    deployment.spec.replicas = 'two';
    expect(() => new Deployment(deployment as never).validate()).toThrow(/replicas/);
  });

  it('the kustomization lists exactly the manifest files', () => {
    const kustomization = parseAllDocuments(readFileSync(path.join(DIR, 'kustomization.yaml'), 'utf8'))[0]!.toJS() as { resources: string[] };
    expect([...kustomization.resources].sort()).toEqual([...new Set(objects.map((o) => o.file))].sort());
  });

  it.runIf(existsSync('/usr/bin/kubectl'))('builds with kustomize (kubectl kustomize, when kubectl is installed)', () => {
    const out = execFileSync('kubectl', ['kustomize', DIR], { encoding: 'utf8' });
    expect(out).toContain('kind: Deployment');
    expect(out).toContain('app.kubernetes.io/part-of: courier');
  });

  it('the Role grants only the ConfigMaps courier reads and writes, and its Lease', () => {
    const role = objects.find((o) => o.object.kind === 'Role')!.object as unknown as { rules: { apiGroups: string[]; resources: string[]; resourceNames?: string[]; verbs: string[] }[] };
    const named = role.rules.find((r) => r.resources.includes('configmaps') && r.resourceNames);
    expect(new Set(named?.resourceNames)).toEqual(new Set(Object.values(DOCUMENT_CONFIGMAPS).map((d) => d.configMap)));
    expect(named?.verbs.sort()).toEqual(['get', 'patch', 'update']);
    const lease = role.rules.find((r) => r.resources.includes('leases') && r.resourceNames);
    expect(lease?.resourceNames).toEqual(['courier-controller']);
    for (const rule of role.rules) expect(rule.verbs).not.toContain('delete');
    expect(role.rules.flatMap((r) => r.resources).sort()).toEqual(['configmaps', 'configmaps', 'leases', 'leases']);
  });

  it('the Deployment runs 2 non-root replicas with a read-only root, probes, the SSH key Secret and leader election', () => {
    const deployment = objects.find((o) => o.object.kind === 'Deployment')!.object as never as {
      spec: { replicas: number; template: { spec: { securityContext: { runAsNonRoot: boolean }; containers: { securityContext: { readOnlyRootFilesystem: boolean }; livenessProbe: { httpGet: { path: string } }; readinessProbe: { httpGet: { path: string } } }[]; volumes: { secret?: { secretName: string }; persistentVolumeClaim?: unknown }[] } } };
    };
    const pod = deployment.spec.template.spec;
    expect(deployment.spec.replicas).toBe(2);
    expect(pod.securityContext.runAsNonRoot).toBe(true);
    expect(pod.containers[0]!.securityContext.readOnlyRootFilesystem).toBe(true);
    expect(pod.containers[0]!.livenessProbe.httpGet.path).toBe('/healthz');
    expect(pod.containers[0]!.readinessProbe.httpGet.path).toBe('/readyz');
    expect(pod.volumes.some((v) => v.secret?.secretName === 'courier-ssh')).toBe(true);
    expect(pod.volumes.some((v) => v.persistentVolumeClaim)).toBe(true);
  });

  it('the courier.yaml in the ConfigMap is a valid courier config with leader election on', () => {
    const cm = objects.find((o) => o.object.kind === 'ConfigMap')!.object as never as { data: Record<string, string> };
    const config = parseConfig(cm.data['courier.yaml']!, '/etc/courier/config/courier.yaml');
    expect(config.source.type).toBe('kubernetes');
    expect(config.leaderElection.enabled).toBe(true);
    expect(config.http.listen).toBe('0.0.0.0:9470');
  });

  it('the API is guarded by a token from the Secret courier-http-token, mounted where courier.yaml reads it, metrics included', () => {
    const cm = objects.find((o) => o.object.kind === 'ConfigMap')!.object as never as { data: Record<string, string> };
    const config = parseConfig(cm.data['courier.yaml']!, '/etc/courier/config/courier.yaml');
    expect(config.http.protectMetrics).toBe(true);
    const deployment = objects.find((o) => o.object.kind === 'Deployment')!.object as never as {
      spec: { template: { spec: { containers: { volumeMounts: { name: string; mountPath: string }[] }[]; volumes: { name: string; secret?: { secretName: string; optional?: boolean; items: { key: string; path: string }[] } }[] } } };
    };
    const pod = deployment.spec.template.spec;
    const volume = pod.volumes.find((v) => v.secret?.secretName === 'courier-http-token');
    expect(volume?.secret?.optional).not.toBe(true);
    const mount = pod.containers[0]!.volumeMounts.find((m) => m.name === volume!.name)!;
    expect(config.http.tokenFile).toBe(path.posix.join(mount.mountPath, volume!.secret!.items[0]!.path));
  });

  it('the NetworkPolicy lets only Prometheus reach the daemon port of the courier pods', () => {
    const policy = objects.find((o) => o.object.kind === 'NetworkPolicy')!.object as never as {
      spec: { podSelector: { matchLabels: Record<string, string> }; policyTypes: string[]; ingress: { from: { namespaceSelector?: unknown; podSelector?: { matchLabels: Record<string, string> } }[]; ports: { port: number }[] }[] };
    };
    const deployment = objects.find((o) => o.object.kind === 'Deployment')!.object as never as { spec: { template: { metadata: { labels: Record<string, string> } } } };
    expect(deployment.spec.template.metadata.labels).toMatchObject(policy.spec.podSelector.matchLabels);
    expect(policy.spec.policyTypes).toEqual(['Ingress']);
    expect(policy.spec.ingress).toHaveLength(1);
    expect(policy.spec.ingress[0]!.ports).toEqual([{ protocol: 'TCP', port: 9470 }]);
    for (const peer of policy.spec.ingress[0]!.from) {
      // every peer is narrowed to Prometheus pods, never a whole namespace or everything
      expect(peer.podSelector?.matchLabels).toEqual({ 'app.kubernetes.io/name': 'prometheus' });
    }
  });
});

describe('systemd unit', () => {
  it('passes systemd-analyze verify', () => {
    // verify exits 0 on unknown keys and only warns on stderr: no output at all means a clean unit
    const unit = packagePath('manifests', 'systemd', 'courier.service');
    const r = spawnSync('systemd-analyze', ['verify', unit], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stderr + r.stdout).toBe('');
    const text = readFileSync(unit, 'utf8');
    expect(text).toMatch(/^Restart=on-failure$/m);
    expect(text).toMatch(/^ExecStart=.*courier daemon/m);
    expect(text).toMatch(/^NoNewPrivileges=yes$/m);
  });
});
