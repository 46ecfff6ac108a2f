/** Leader election for the daemon on a coordination.k8s.io/v1 Lease (works with any source type). */
import { KubeConfig } from '@kubernetes/client-node';
import type { Config } from '../config/load-config.js';
import { CourierError } from '../errors.js';
import { createLeaseElector } from './lease-elector.js';

/** A running election. */
export interface Leadership {
  isLeader(): boolean;
  stop(): Promise<void>;
}

/** Load a KubeConfig: an explicit file, else $KUBECONFIG or ~/.kube/config, else the in-cluster service account. */
export function loadKubeConfig(file?: string): KubeConfig {
  const kc = new KubeConfig();
  try {
    if (file) kc.loadFromFile(file);
    else kc.loadFromDefault();
  } catch (err) {
    throw new CourierError('CONFIG_INVALID', `cannot load kubeconfig ${file ?? '(default)'}: ${(err as Error).message}`, { file }, { cause: err });
  }
  return kc;
}

/** Start electing; callbacks fire on gaining and losing the lease. */
export async function startLeadership(config: Config, identity: string, callbacks: { onStartedLeading: () => void; onStoppedLeading: () => void }): Promise<Leadership> {
  const le = config.leaderElection;
  const elector = createLeaseElector({
    kubeConfig: loadKubeConfig(le.kubeconfig),
    namespace: le.namespace,
    name: le.name,
    identity,
    leaseDurationMs: le.leaseDuration,
    renewDeadlineMs: le.renewDeadline,
    retryPeriodMs: le.retryPeriod,
    onStartedLeading: callbacks.onStartedLeading,
    onStoppedLeading: callbacks.onStoppedLeading,
  });
  elector.start();
  return { isLeader: () => elector.isLeader(), stop: () => elector.stop() };
}
