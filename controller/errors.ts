/**
 * courier's one error class. Every failure that crosses a stage boundary is a CourierError with a
 * stable `code` (documented with "how to fix" in the README's error table, kept in step by
 * `errors.test.ts`), a `data` object for machines, the original `cause`, and whether a retry can
 * help. Errors from ssh2, isomorphic-git or the Kubernetes client are wrapped where they enter a
 * stage.
 */

/** Every error code courier can report, with the exit status a CLI command uses for it and how to fix it. */
export const ERROR_CODES = {
  CONFIG_INVALID: {
    exit: 2,
    retryable: false,
    fix: 'Correct the named key in courier.yaml (unknown keys are errors, so check spelling); `courier init` writes a commented example.',
  },
  CONFIG_NOT_FOUND: {
    exit: 2,
    retryable: false,
    fix: 'Run `courier init DIR` to create a site, or pass `--config PATH` to an existing courier.yaml.',
  },
  REGISTRY_INVALID: {
    exit: 2,
    retryable: false,
    fix: 'Fix every listed document and JSON path; the last good revision stays in force until the registry validates.',
  },
  SOURCE_UNAVAILABLE: {
    exit: 1,
    retryable: true,
    fix: 'Check that the registry source (directory, git URL or Kubernetes API) is reachable and readable.',
  },
  RENDER_INVALID: {
    exit: 1,
    retryable: false,
    fix: 'Rendering found something it cannot express (the message says what: no traefik.publicDomain for public services without routing, two routes with one router name, or a Traefik file that fails the schema). Fix the named setting or registry entry; a schema failure with a valid registry is a courier bug: report it.',
  },
  TEMPLATE_ERROR: {
    exit: 1,
    retryable: false,
    fix: 'A Handlebars template in templates/ failed to compile or render; restore it from the release.',
  },
  STORE_ERROR: {
    exit: 1,
    retryable: false,
    fix: 'The git store under <state>/store could not be read or written; check permissions and disk space, and `git --git-dir=<state>/store fsck`.',
  },
  REVISION_NOT_FOUND: {
    exit: 2,
    retryable: false,
    fix: 'Name a revision that `courier log` lists (full or abbreviated commit id, `main`, or `main~N`).',
  },
  NODE_NOT_FOUND: {
    exit: 2,
    retryable: false,
    fix: 'Name a node that `courier nodes list` shows.',
  },
  NODE_UNREACHABLE: {
    exit: 1,
    retryable: true,
    fix: 'The node did not answer on its SSH port: check that it is up, that the address and ssh_port in the node registry are right, and the network path (Tailscale). courier retries by itself.',
  },
  SSH_TIMEOUT: {
    exit: 1,
    retryable: true,
    fix: 'Connecting (TCP, SSH handshake, authentication) took longer than ssh.connectTimeout, or the whole exchange longer than ssh.sessionTimeout (data.phase says which); check the node and network, or raise the timeout.',
  },
  CONNECTION_LOST: {
    exit: 1,
    retryable: true,
    fix: 'The SSH session ended before the exchange finished; nothing half-written stays on the node. courier retries by itself.',
  },
  HOST_KEY_UNKNOWN: {
    exit: 1,
    retryable: false,
    fix: 'Compare the shown SHA256 fingerprint with the node (`ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub` there), then run `courier nodes trust NODE`.',
  },
  HOST_KEY_MISMATCH: {
    exit: 1,
    retryable: false,
    fix: "The node's host key changed. If the node was reinstalled, remove its line from ssh.knownHosts and run `courier nodes trust NODE`; otherwise treat it as an attack.",
  },
  AUTH_FAILED: {
    exit: 1,
    retryable: false,
    fix: "Install the control plane's public key in the node user's ~/.ssh/authorized_keys, or set ssh.identity / SSH_AUTH_SOCK to a key the node accepts.",
  },
  SSH_KEY_MISSING: {
    exit: 2,
    retryable: false,
    fix: 'Set ssh.identity to a readable private key file or start an ssh-agent (SSH_AUTH_SOCK).',
  },
  AGENT_PROTOCOL: {
    exit: 1,
    retryable: false,
    fix: 'The node agent and controller disagree on the sync protocol or the stream was garbled; use the agent that ships with this courier (sent inline by default) and check that the login shell prints nothing on non-interactive sessions.',
  },
  AGENT_FAILED: {
    exit: 1,
    retryable: false,
    fix: 'The agent could not write one or more artifacts (see each artifact code: permissions, disk full, broken markers in the hosts file); fix the node, courier retries at the next reconcile.',
  },
  DRIFTED: {
    exit: 1,
    retryable: false,
    fix: 'Someone changed a managed file on the node by hand. `courier push --node NODE` restores it (the daemon does so itself with reconcile.drift: heal); make lasting changes in the registry instead.',
  },
  LOCKED: {
    exit: 3,
    retryable: false,
    fix: 'Another courier process holds the state directory lock (named in the message); wait for it or stop it. A lock left by a dead process is taken over automatically.',
  },
  AGENT_UPGRADE_FAILED: {
    exit: 1,
    retryable: false,
    fix: "The restricted node refused the new agent (the message says why: wrong oid, not a sh script, no write access beside ~/.courier/courier-agent); the old agent stays in place and keeps working. Fix the node's ~/.courier directory, or re-join it.",
  },
  AGENT_UNSIGNED: {
    exit: 1,
    retryable: false,
    fix: 'Agent upgrades over the restricted key need a signed release: on the release machine run `courier agent sign --key RELEASE_KEY` (writes node-agent/courier-agent.sig, or set agent.signature) and join nodes with `--agent-signer RELEASE_KEY.pub`; a node that refuses the signature has another signer pinned (re-join it with the right one). Until then the old agent keeps working.',
  },
  JOIN_FAILED: {
    exit: 1,
    retryable: false,
    fix: '`courier nodes join`, `restrict` or `remove --revoke` stopped at the named step and undid what it had installed; fix the cause the message names (sudo rights, visudo, a home directory with unusual characters, a full disk) and run it again.',
  },
  USAGE: {
    exit: 2,
    retryable: false,
    fix: 'See `courier --help` and `courier COMMAND --help`.',
  },
  SUSPENDED: {
    exit: 1,
    retryable: false,
    fix: 'The site is suspended (after `courier rollback` or `courier suspend`): nodes stay on the pinned revision and nothing is rendered from the registry. Fix the registry, then run `courier resume`.',
  },
} as const;

/** A stable error code; see ERROR_CODES. */
export type ErrorCode = keyof typeof ERROR_CODES;

/** The base error: stable `code`, structured `data`, original `cause`, retryability. */
export class CourierError extends Error {
  readonly code: ErrorCode;
  readonly data: Record<string, unknown>;
  readonly retryable: boolean;

  constructor(code: ErrorCode, message: string, data: Record<string, unknown> = {}, options: { cause?: unknown; retryable?: boolean } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'CourierError';
    this.code = code;
    this.data = data;
    this.retryable = options.retryable ?? ERROR_CODES[code].retryable;
  }

  /** The exit status a CLI command uses for this error. */
  get exitCode(): number {
    return ERROR_CODES[this.code].exit;
  }

  /** A JSON-safe description (no cause chain, no stack). */
  toJSON(): { code: ErrorCode; message: string; data: Record<string, unknown> } {
    return { code: this.code, message: this.message, data: this.data };
  }
}

/** True when `err` is a CourierError, optionally with the given code. */
export function isCourierError(err: unknown, code?: ErrorCode): err is CourierError {
  return err instanceof CourierError && (code === undefined || err.code === code);
}
