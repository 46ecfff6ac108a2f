/** An in-process queue per store directory, so two commits never race on refs/heads/main. */

const queues = new Map<string, Promise<void>>();

/** Runs `task` after every task queued before it under the same key (a failure does not block the queue). */
export function runSerialized<T>(key: string, task: () => Promise<T>): Promise<T> {
  const previous = queues.get(key) ?? Promise.resolve();
  const run = previous.then(task);
  const settled = run.then(
    () => undefined,
    () => undefined,
  );
  queues.set(key, settled);
  void settled.then(() => {
    if (queues.get(key) === settled) queues.delete(key);
  });
  return run;
}
