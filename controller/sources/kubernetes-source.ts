/**
 * The kubernetes source: MyNodeOne's registry ConfigMaps (DOCUMENT_CONFIGMAPS), read with one list
 * call and watched with a client-node informer. The informer is client-node's ListWatch (what
 * `makeInformer` returns) over a Watch that also asks for bookmarks and reports every line it
 * receives, so a watchdog can tell a healthy quiet watch from a dead one.
 *
 * client-node 1.x informers handle a server-side close (reconnect from the last resourceVersion)
 * and 410 Expired (re-list) themselves, but stop for good on any other error; this source restarts
 * them with exponential backoff. onChange fires only when the text of a registry key actually
 * changed, whatever the resourceVersion did.
 */
import { CoreV1Api, KubeConfig, ListWatch, Watch, type V1ConfigMap, type V1ConfigMapList } from '@kubernetes/client-node';
import type { CourierError } from '../errors.js';
import { DOCUMENT_CONFIGMAPS, DOCUMENT_NAMES, type DocumentName, type RawDocument, type RegistrySnapshot } from '../registry/model.js';
import { loadKubernetesConfig } from './kubernetes-config.js';
import { wrapKubernetesError } from './kubernetes-error.js';
import type { SourceWatcher } from './source-watcher.js';

/** Options for createKubernetesSource. */
export interface KubernetesSourceOptions {
  namespace: string;
  /** Kubeconfig file; without it $KUBECONFIG / ~/.kube/config, else in-cluster. */
  kubeconfig?: string;
  /** Restart a watch that delivered nothing (no event, no bookmark) for this long. */
  watchdogMs: number;
  /** A ready KubeConfig (tests, or one shared with leader election); wins over `kubeconfig`. */
  kubeConfig?: KubeConfig;
  /** First restart delay after a failed list or watch; doubles up to maxBackoffMs (default 1 s, cap 30 s). */
  backoffMs?: number;
  maxBackoffMs?: number;
}

/** The registry keys of each ConfigMap courier reads. */
const CONFIGMAP_KEYS: ReadonlyMap<string, readonly { document: DocumentName; key: string }[]> = DOCUMENT_NAMES.reduce((map, document) => {
  const { configMap, key } = DOCUMENT_CONFIGMAPS[document];
  map.set(configMap, [...(map.get(configMap) ?? []), { document, key }]);
  return map;
}, new Map<string, { document: DocumentName; key: string }[]>());

/** A SourceWatcher over the registry ConfigMaps in `namespace`. */
export function createKubernetesSource(options: KubernetesSourceOptions): SourceWatcher {
  const { namespace } = options;
  const backoffMs = options.backoffMs ?? 1_000;
  const maxBackoffMs = options.maxBackoffMs ?? 30_000;
  let kubeConfig = options.kubeConfig;
  let core: CoreV1Api | undefined;

  /** Registry-key text per ConfigMap as last seen ('{}' = absent); a name not in the map was never seen. */
  const known = new Map<string, string>();
  /** Changes reported but not yet read: they become the next snapshot's trigger. */
  let pending: string[] = [];

  let onChange: ((trigger: string) => void) | undefined;
  let onError: ((err: CourierError) => void) | undefined;
  let informer: ListWatch<V1ConfigMap> | undefined;
  /** Bumped whenever an informer is replaced: callbacks from older informers are ignored. */
  let generation = 0;
  let failures = 0;
  let closed = false;
  let watchdog: NodeJS.Timeout | undefined;
  let restartTimer: NodeJS.Timeout | undefined;

  function config(): KubeConfig {
    kubeConfig ??= loadKubernetesConfig(options.kubeconfig);
    return kubeConfig;
  }

  function api(): CoreV1Api {
    core ??= config().makeApiClient(CoreV1Api);
    return core;
  }

  async function listConfigMaps(action: string): Promise<V1ConfigMapList> {
    // A kubeconfig that cannot be loaded is CONFIG_INVALID, not an unavailable source.
    const client = api();
    try {
      return await client.listNamespacedConfigMap({ namespace });
    } catch (err) {
      throw wrapKubernetesError(err, `${action} ConfigMaps in namespace ${namespace}`, { namespace });
    }
  }

  /** Compare one ConfigMap's registry keys with what was last seen; report a change. */
  function observe(name: string, configMap: V1ConfigMap | undefined, trigger: string): void {
    if (!CONFIGMAP_KEYS.has(name)) return;
    const text = registryText(name, configMap);
    const before = known.get(name);
    known.set(name, text);
    if (before === undefined || before === text) return;
    pending.push(trigger);
    onChange?.(trigger);
  }

  /** After a (re-)list: every registry ConfigMap is either in the list or gone. */
  function observeList(list: V1ConfigMapList): void {
    const rv = list.metadata?.resourceVersion ?? '?';
    for (const name of CONFIGMAP_KEYS.keys()) {
      const item = list.items.find((cm) => cm.metadata?.name === name);
      const trigger = item ? `configmap ${name} resourceVersion ${item.metadata?.resourceVersion ?? '?'}` : `configmap ${name} deleted (list at resourceVersion ${rv})`;
      observe(name, item, trigger);
    }
  }

  function armWatchdog(): void {
    clearTimeout(watchdog);
    watchdog = setTimeout(() => {
      // Nothing arrived for watchdogMs: the connection may be half-open; start over with a fresh list.
      if (!closed) restartSoon();
    }, options.watchdogMs);
    watchdog.unref();
  }

  function noteActivity(gen: number, fromWatch = false): void {
    if (gen !== generation || closed) return;
    watchdog?.refresh();
    // Only a watch that delivers proves the connection healthy; a list that succeeds before a failing watch does not.
    if (fromWatch) failures = 0;
  }

  function handleError(gen: number, err: unknown): void {
    if (gen !== generation || closed) return;
    clearTimeout(watchdog);
    onError?.(wrapKubernetesError(err, `watching ConfigMaps in namespace ${namespace}`, { namespace }));
    const delay = Math.min(maxBackoffMs, backoffMs * 2 ** failures);
    failures += 1;
    clearTimeout(restartTimer);
    restartTimer = setTimeout(restartSoon, delay);
    restartTimer.unref();
  }

  function restartSoon(): void {
    restart().catch((err: unknown) => handleError(generation, err));
  }

  /** Replace the informer with a fresh one (fresh list, then watch). */
  async function restart(): Promise<void> {
    const old = informer;
    const gen = ++generation;
    informer = undefined;
    clearTimeout(restartTimer);
    // Stopping aborts the old watch; the AbortError it reports carries an old generation and is ignored.
    await old?.stop();
    if (closed || gen !== generation) return;
    const watch = new ObservedWatch(config(), () => noteActivity(gen, true));
    const next = new ListWatch<V1ConfigMap>(
      `/api/v1/namespaces/${encodeURIComponent(namespace)}/configmaps`,
      watch,
      async () => {
        const list = await api().listNamespacedConfigMap({ namespace });
        if (gen === generation && !closed) {
          noteActivity(gen);
          observeList(list);
        }
        return list;
      },
      false,
    );
    const onObject = (verb: string) => (cm: V1ConfigMap) => {
      if (gen !== generation || closed) return;
      const name = cm.metadata?.name ?? '';
      const rv = cm.metadata?.resourceVersion ?? '?';
      observe(name, verb === 'delete' ? undefined : cm, verb === 'delete' ? `configmap ${name} deleted at resourceVersion ${rv}` : `configmap ${name} resourceVersion ${rv}`);
    };
    next.on('add', onObject('add'));
    next.on('update', onObject('update'));
    next.on('delete', onObject('delete'));
    next.on('connect', () => noteActivity(gen));
    next.on('error', (err: unknown) => handleError(gen, err));
    informer = next;
    armWatchdog();
    await next.start();
  }

  return {
    async read(): Promise<RegistrySnapshot> {
      const list = await listConfigMaps('listing');
      const documents: Partial<Record<DocumentName, RawDocument>> = {};
      for (const name of DOCUMENT_NAMES) {
        const { configMap, key } = DOCUMENT_CONFIGMAPS[name];
        const item = list.items.find((cm) => cm.metadata?.name === configMap);
        const text = item?.data?.[key];
        if (text === undefined) continue;
        // the resourceVersion of this very list: the text and the version a trigger names always agree
        const version = `configmap ${configMap} resourceVersion ${item?.metadata?.resourceVersion ?? '?'}`;
        documents[name] = { name, origin: `configmap/${configMap}/${key}`, format: name.endsWith('.json') ? 'json' : 'text', text, version };
      }
      for (const name of CONFIGMAP_KEYS.keys()) known.set(name, registryText(name, list.items.find((cm) => cm.metadata?.name === name)));
      const trigger = pending.length > 0 ? pending.join(', ') : `configmaps in ${namespace} at resourceVersion ${list.metadata?.resourceVersion ?? '?'}`;
      pending = [];
      return { documents, trigger };
    },

    async start(changed, failed): Promise<void> {
      if (onChange !== undefined) return;
      onChange = changed;
      onError = failed;
      closed = false;
      try {
        await restart();
      } catch (err) {
        onChange = undefined;
        onError = undefined;
        throw err;
      }
    },

    async close(): Promise<void> {
      closed = true;
      generation += 1;
      clearTimeout(watchdog);
      clearTimeout(restartTimer);
      const old = informer;
      informer = undefined;
      await old?.stop();
    },
  };
}

/** The registry keys of one ConfigMap as comparable text; an absent ConfigMap or key reads as absent. */
function registryText(name: string, configMap: V1ConfigMap | undefined): string {
  const entries = (CONFIGMAP_KEYS.get(name) ?? []).flatMap(({ key }) => {
    const value = configMap?.data?.[key];
    return value === undefined ? [] : [[key, value]];
  });
  return JSON.stringify(Object.fromEntries(entries));
}

/** client-node's Watch, asking for bookmarks and reporting each received line (event or bookmark) to the watchdog. */
class ObservedWatch extends Watch {
  constructor(
    config: KubeConfig,
    private readonly onLine: () => void,
  ) {
    super(config);
  }

  override watch(
    path: string,
    queryParams: Record<string, string | number | boolean | undefined>,
    callback: (phase: string, apiObj: unknown, watchObj?: unknown) => void,
    done: (err: unknown) => void,
  ): Promise<AbortController> {
    return super.watch(
      path,
      { ...queryParams, allowWatchBookmarks: true },
      (phase, apiObj, watchObj) => {
        this.onLine();
        callback(phase, apiObj, watchObj);
      },
      done,
    );
  }
}
