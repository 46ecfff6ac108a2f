/**
 * The daemon's render queue: renders run one at a time, and the changes that arrive while one runs
 * share the next one (their triggers joined, each named once). Other work that must not overlap a
 * render (a rollback, suspend or resume from the API) runs in the same queue.
 */

/** A serial, coalescing render queue. */
export interface RenderQueue {
  /** Ask for a render for `trigger`; resolves with what that render (shared with later triggers) returned. */
  refresh(trigger: string): Promise<string[]>;
  /** Run `task` in the queue: after every render queued before it (a refresh asked meanwhile may still join one of those). */
  exclusive<T>(task: () => Promise<T>): Promise<T>;
}

/** A queue around `render` (called with the triggers of its window, joined by `; `). */
export function createRenderQueue(render: (trigger: string) => Promise<string[]>): RenderQueue {
  let chain: Promise<unknown> = Promise.resolve();
  let queued: { promise: Promise<string[]>; triggers: string[] } | undefined;
  return {
    refresh(trigger) {
      if (queued) {
        queued.triggers.push(trigger);
        return queued.promise;
      }
      const next: { promise: Promise<string[]>; triggers: string[] } = { triggers: [trigger], promise: Promise.resolve([]) };
      next.promise = chain.then(() => {
        queued = undefined;
        return render([...new Set(next.triggers)].join('; '));
      });
      queued = next;
      chain = next.promise.catch(() => undefined);
      return next.promise;
    },
    exclusive(task) {
      const run = chain.then(task);
      chain = run.catch(() => undefined);
      return run;
    },
  };
}
