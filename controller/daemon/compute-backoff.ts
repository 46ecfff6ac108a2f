/** Retry delays for failing nodes: exponential with jitter, capped at the reconcile interval. */

/** Delay before the next attempt after `failures` consecutive failures; `random` in [0,1) gives ±50% jitter. */
export function computeBackoff(failures: number, options: { baseMs: number; capMs: number; random: number }): number {
  const exponential = options.baseMs * 2 ** Math.max(0, failures - 1);
  const jittered = exponential * (0.5 + options.random);
  return Math.round(Math.min(options.capMs, jittered));
}
