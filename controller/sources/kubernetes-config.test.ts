import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { isCourierError } from '../errors.js';
import { startKubeApiServer, type KubeApiServer } from '../../test/support/kube-api-server.js';
import { loadKubernetesConfig } from './kubernetes-config.js';

let dir: string;
let server: KubeApiServer;

beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'courier-kubeconfig-'));
  server = await startKubeApiServer();
  // An empty home and no KUBECONFIG or in-cluster variables unless a test sets them.
  vi.stubEnv('HOME', dir);
  vi.stubEnv('KUBECONFIG', '');
  vi.stubEnv('KUBERNETES_SERVICE_HOST', '');
});

afterEach(async () => {
  vi.unstubAllEnvs();
  await server.stop();
  await rm(dir, { recursive: true, force: true });
});

describe('loadKubernetesConfig', () => {
  it('loads an explicit kubeconfig file', async () => {
    const file = path.join(dir, 'kubeconfig');
    await writeFile(file, server.kubeconfig());
    expect(loadKubernetesConfig(file).getCurrentCluster()?.server).toBe(server.url);
  });

  it('falls back to $KUBECONFIG', async () => {
    const file = path.join(dir, 'from-env');
    await writeFile(file, server.kubeconfig());
    vi.stubEnv('KUBECONFIG', file);
    expect(loadKubernetesConfig().getCurrentCluster()?.server).toBe(server.url);
  });

  it('uses the pod service account when there is no kubeconfig', () => {
    vi.stubEnv('KUBERNETES_SERVICE_HOST', '10.43.0.1');
    vi.stubEnv('KUBERNETES_SERVICE_PORT', '443');
    expect(loadKubernetesConfig().getCurrentCluster()?.server).toBe('https://10.43.0.1:443');
  });

  it('is CONFIG_INVALID when the file is missing or nothing is configured', () => {
    expect(() => loadKubernetesConfig(path.join(dir, 'missing'))).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
    let error: unknown;
    try {
      loadKubernetesConfig();
    } catch (err) {
      error = err;
    }
    expect(isCourierError(error, 'CONFIG_INVALID')).toBe(true);
    expect((error as Error).message).toContain('no kubeconfig');
  });
});
