/** Leader election for the daemon on a coordination.k8s.io/v1 Lease (works with any source type). */
import type { Config } from '../config/load-config.js';
import { loadKubernetesConfig } from '../sources/kubernetes-config.js';
import { createLeaseElector } from './lease-elector.js';

/** A running election. */
export interface Leadership {
  isLeader(): boolean;
  stop(): Promise<void>;
}

/** Start electing; callbacks fire on gaining and losing the lease. */
export async function startLeadership(config: Config, identity: string, callbacks: { onStartedLeading: () => void; onStoppedLeading: () => void; onError?: (err: Error) => void }): Promise<Leadership> {
  const le = config.leaderElection;
  const elector = createLeaseElector({
    kubeConfig: loadKubernetesConfig(le.kubeconfig),
    namespace: le.namespace,
    name: le.name,
    identity,
    leaseDurationMs: le.leaseDuration,
    renewDeadlineMs: le.renewDeadline,
    retryPeriodMs: le.retryPeriod,
    onStartedLeading: callbacks.onStartedLeading,
    onStoppedLeading: callbacks.onStoppedLeading,
    onError: callbacks.onError,
  });
  elector.start();
  return { isLeader: () => elector.isLeader(), stop: () => elector.stop() };
}
