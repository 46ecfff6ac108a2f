/**
 * Where courier's Kubernetes client gets its cluster and credentials: an explicit kubeconfig file,
 * else `$KUBECONFIG` or `~/.kube/config`, else the pod's service account (in-cluster).
 */
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { CourierError } from '../errors.js';

/** Load a KubeConfig: `file` if given, else $KUBECONFIG / ~/.kube/config, else in-cluster; CONFIG_INVALID when none is usable. */
export function loadKubernetesConfig(file?: string): KubeConfig {
  const env = process.env;
  const kc = new KubeConfig();
  try {
    if (file !== undefined) {
      kc.loadFromFile(file);
    } else if ((env.KUBECONFIG ?? '') !== '' || existsSync(path.join(os.homedir(), '.kube', 'config'))) {
      kc.loadFromDefault();
    } else if ((env.KUBERNETES_SERVICE_HOST ?? '') !== '') {
      kc.loadFromCluster();
    } else {
      throw new Error('no kubeconfig: set source.kubeconfig, $KUBECONFIG or ~/.kube/config, or run inside a pod with a service account');
    }
  } catch (err) {
    const where = file ?? env.KUBECONFIG ?? 'the default kubeconfig';
    throw new CourierError('CONFIG_INVALID', `kubernetes: cannot load ${where}: ${(err as Error).message}`, { kubeconfig: where }, { cause: err });
  }
  if (kc.getCurrentCluster() === null) {
    throw new CourierError('CONFIG_INVALID', `kubernetes: ${file ?? 'the kubeconfig'} has no current context with a cluster; set current-context`, { kubeconfig: file });
  }
  return kc;
}
