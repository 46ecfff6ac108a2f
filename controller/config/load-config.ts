/**
 * courier.yaml: the site configuration. Validated with zod in strict mode, so an unknown key (a
 * typo) is an error naming it instead of a silent fall back to a default. Durations are strings
 * with a unit; relative paths resolve against the config file's directory.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parseDocument } from 'yaml';
import { z } from 'zod';
import { CourierError } from '../errors.js';
import { resolveConfigPath, statePaths } from './read-state-paths.js';

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Parse `500ms`, `5s`, `10m`, `1h` (or combinations such as `1h30m`) into milliseconds. */
export function parseDuration(text: string): number {
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h)/gy;
  let total = 0;
  let consumed = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    total += Number(m[1]) * DURATION_UNITS[m[2] as string]!;
    consumed = re.lastIndex;
  }
  if (consumed === 0 || consumed !== text.length) throw new Error(`"${text}" is not a duration (use a number with a unit: 500ms, 5s, 10m, 1h)`);
  return total;
}

const duration = (def: string) =>
  z
    .string()
    .default(def)
    .transform((s, ctx) => {
      try {
        return parseDuration(s);
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: (err as Error).message });
        return z.NEVER;
      }
    });

const filesSource = z.strictObject({ type: z.literal('files'), path: z.string().default('registry') });
const kubernetesSource = z.strictObject({
  type: z.literal('kubernetes'),
  namespace: z.string().default('kube-system'),
  kubeconfig: z.string().optional(),
  watchdog: duration('5m'),
});
const gitSource = z.strictObject({
  type: z.literal('git'),
  url: z.string(),
  ref: z.string().default('main'),
  path: z.string().default('.'),
  interval: duration('1m'),
});

const leaderElectionObject = z.strictObject({
  enabled: z.boolean().default(true),
  kubeconfig: z.string().optional(),
  namespace: z.string().optional(),
  name: z.string().default('courier-controller'),
  leaseDuration: duration('15s'),
  renewDeadline: duration('10s'),
  retryPeriod: duration('2s'),
});

const configSchema = z.strictObject({
  source: z.discriminatedUnion('type', [filesSource, kubernetesSource, gitSource]).prefault({ type: 'files' }),
  state: z.strictObject({ dir: z.string().default('.courier') }).prefault({}),
  traefik: z
    .strictObject({
      path: z.string().default('~/traefik/config/mynodeone-routes.yml'),
      publicDomain: z.string().optional(),
      entryPoints: z.strictObject({ web: z.string().default('web'), websecure: z.string().default('websecure') }).prefault({}),
      certResolver: z.string().default('letsencrypt'),
    })
    .prefault({}),
  hosts: z
    .strictObject({
      path: z.string().default('/etc/hosts'),
      removeLegacy: z.boolean().default(true),
    })
    .prefault({}),
  ssh: z
    .strictObject({
      identity: z.string().optional(),
      knownHosts: z.string().optional(),
      connectTimeout: duration('10s'),
      concurrency: z.number().int().min(1).max(1024).default(32),
      sessionTimeout: duration('5m'),
      /** warm: the daemon keeps one agent session per node open; cold: one connection per sync. */
      sessions: z.enum(['warm', 'cold']).default('warm'),
      keepAlive: duration('15s'),
      /** Longest wait between re-dials of a dropped or unreachable node's session. */
      redialMax: duration('4s'),
    })
    .prefault({}),
  reconcile: z
    .strictObject({
      interval: duration('1h'),
      retries: z.number().int().min(0).max(100).default(3),
      retryDelay: duration('5s'),
      errorAfter: z.number().int().min(1).default(5),
      drift: z.enum(['heal', 'warn']).default('heal'),
      debounce: duration('200ms'),
      /** Drift checks over the open sessions (warm); the interval reconcile stays the safety net. */
      driftInterval: duration('1m'),
      shutdownGrace: duration('30s'),
    })
    .prefault({}),
  http: z
    .strictObject({
      listen: z.string().default('127.0.0.1:9470'),
      enabled: z.boolean().default(true),
      // a file holding the bearer token that guards everything but the probes (see read-http-token.ts)
      tokenFile: z.string().optional(),
      protectMetrics: z.boolean().default(false),
    })
    .prefault({}),
  leaderElection: z.union([z.boolean(), leaderElectionObject]).default(false),
  log: z.strictObject({ level: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal']).default('info') }).prefault({}),
  /** The release signature sent with agent upgrades; unset: `courier-agent.sig` beside the shipped agent. */
  agent: z.strictObject({ signature: z.string().optional() }).prefault({}),
});

type ParsedConfig = z.output<typeof configSchema>;

/** The loaded configuration with absolute paths and durations in milliseconds. */
export type Config = Omit<ParsedConfig, 'leaderElection' | 'state' | 'ssh'> & {
  /** Absolute path of the config file (or of the directory given to defaults). */
  file: string;
  dir: string;
  state: { dir: string; store: string; statusFile: string; lockFile: string };
  ssh: ParsedConfig['ssh'] & { knownHosts: string };
  leaderElection: z.output<typeof leaderElectionObject> & { enabled: boolean; namespace: string };
};

/** Parse and validate configuration text; `file` is used for messages and to resolve relative paths. */
export function parseConfig(text: string, file: string): Config {
  const doc = parseDocument(text, { prettyErrors: true });
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!;
    const pos = e.linePos?.[0];
    throw new CourierError('CONFIG_INVALID', `${file}${pos ? `:${pos.line}:${pos.col}` : ''}: not valid YAML: ${e.message.split('\n')[0]}`, { file });
  }
  const raw = (doc.toJS() ?? {}) as unknown;
  const result = configSchema.safeParse(raw);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => {
      const key = issue.path.join('.') || '(top level)';
      if (issue.code === 'unrecognized_keys') {
        const base = issue.path.length ? `${issue.path.join('.')}.` : '';
        return `${file}: ${issue.keys.map((k) => base + k).join(', ')}: unknown key (check the spelling; see the configuration reference in the README)`;
      }
      return `${file}: ${key}: ${issue.message}`;
    });
    throw new CourierError('CONFIG_INVALID', problems.join('\n'), { file, problems });
  }
  return resolveConfig(result.data, file);
}

/** Resolve paths against the config directory and fill derived defaults. */
function resolveConfig(parsed: ParsedConfig, file: string): Config {
  const dir = path.dirname(path.resolve(file));
  const resolve = (p: string) => resolveConfigPath(file, p);
  const stateDir = resolve(parsed.state.dir);
  const source =
    parsed.source.type === 'files'
      ? { ...parsed.source, path: resolve(parsed.source.path) }
      : parsed.source.type === 'kubernetes' && parsed.source.kubeconfig
        ? { ...parsed.source, kubeconfig: resolve(parsed.source.kubeconfig) }
        : parsed.source;
  const le = parsed.leaderElection;
  const leObject = typeof le === 'boolean' ? { ...leaderElectionObject.parse({}), enabled: le } : le;
  const k8s = source.type === 'kubernetes' ? source : undefined;
  return {
    ...parsed,
    file: path.resolve(file),
    dir,
    source,
    state: statePaths(stateDir),
    ssh: {
      ...parsed.ssh,
      identity: parsed.ssh.identity ? resolve(parsed.ssh.identity) : undefined,
      knownHosts: parsed.ssh.knownHosts ? resolve(parsed.ssh.knownHosts) : path.join(stateDir, 'known_hosts'),
    },
    http: { ...parsed.http, tokenFile: parsed.http.tokenFile ? resolve(parsed.http.tokenFile) : undefined },
    agent: { signature: parsed.agent.signature ? resolve(parsed.agent.signature) : undefined },
    leaderElection: {
      ...leObject,
      kubeconfig: leObject.kubeconfig ? resolve(leObject.kubeconfig) : k8s?.kubeconfig,
      namespace: leObject.namespace ?? k8s?.namespace ?? 'kube-system',
    },
  };
}

/** Read and validate a config file. A missing file is CONFIG_NOT_FOUND. */
export async function loadConfig(file: string): Promise<Config> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new CourierError('CONFIG_NOT_FOUND', `${file}: no such file; run \`courier init DIR\` or pass --config PATH`, { file }, { cause: err });
    }
    throw new CourierError('CONFIG_INVALID', `${file}: cannot read: ${(err as Error).message}`, { file }, { cause: err });
  }
  return parseConfig(text, file);
}
