/**
 * `courier nodes join ... --print`: one self-contained sh command for the admin to paste on a node
 * as its user, when the control plane has no password access. It writes the restricted key entry,
 * the targets file, the pinned agent release signer (with `--agent-signer`) and a bootstrap stub in
 * the agent's place; the stub accepts exactly one thing,
 * the agent whose oid the command pins (so the key cannot install anything else), and then prints
 * the node's host key fingerprint inside the `courier nodes join` line to run next. Pure.
 */
import { ENTRY_COMMENT, ENTRY_MARK } from './restricted-entry.js';
import { shellQuote } from '../transport/open-agent-channel.js';

/** Bound on the printed command (it is pasted into a terminal). */
export const BOOTSTRAP_MAX_BYTES = 2048;

/** What the printed command needs. */
export interface BootstrapInput {
  /** `<type> <base64>` of the control plane's key. */
  publicKey: string;
  /** The targets file text. */
  targets: string;
  /** The allowed_signers line of the agent release signer (`--agent-signer`), written to ~/.courier/allowed_signers; unset: none. */
  signers?: string;
  /** Oid of the agent the second join installs (the only script the stub accepts). */
  agentOid: string;
  /** The node's address and SSH port, as the control plane reaches it (the node scans its own host key there). */
  ip: string;
  port: number;
  /** The `courier ... nodes join ...` words to print, the fingerprint appended. */
  nextCommand: readonly string[];
}

/**
 * The stub installed as ~/.courier/courier-agent until the join: run by the forced command, it
 * answers --version with 0 and accepts only `courier-agent upgrade <pinned oid> <size>`, checking
 * the oid of what it received before it renames it over itself. One line, no single quotes.
 */
export function bootstrapStub(agentOid: string): string {
  return [
    `set -uf;c=\${2-\${SSH_ORIGINAL_COMMAND-}};o=${agentOid}`,
    `case $c in "courier-agent --version")echo "courier-agent 0";exit 0;;"courier-agent upgrade $o "*)n=\${c##* };;*)echo "courier-agent: refused: this key only installs the courier agent $o">&2;exit 2;;esac`,
    `case $n in ""|*[!0-9]*)exit 2;;esac`,
    `t=$0.new;head -c "$n" >"$t";h=$({ printf "blob %s\\000" "$n";cat "$t";}|{ sha1sum 2>/dev/null||shasum;})`,
    `if [ "\${h%% *}" = "$o" ]&&sh -n "$t";then chmod 700 "$t";mv -f "$t" "$0";echo "upgraded $o";exit 0;fi`,
    `rm -f "$t";echo "error AGENT_UPGRADE not the agent this node was bootstrapped for";exit 2`,
  ].join(';');
}

/** The one-line command. The entry's forced command names the agent under the node's $HOME, expanded when it is pasted. */
export function bootstrapCommand(input: BootstrapInput): string {
  const next = input.nextCommand.map(shellQuote).join(' ');
  const agent = `$HOME${ENTRY_MARK.replace(/ restricted$/, '')}`;
  const steps = [
    `case $HOME in *[!A-Za-z0-9._/-]*|"")echo "courier: unusual HOME $HOME";exit 1;;esac`,
    'umask 077',
    'mkdir -p ~/.ssh ~/.courier',
    `printf %s ${shellQuote(bootstrapStub(input.agentOid))} >~/.courier/courier-agent`,
    // (the targets file's comment stays out: the command must fit a paste)
    `printf '%s\\n' ${input.targets.replace(/\n$/, '').split('\n').filter((l) => !l.startsWith('#')).map(shellQuote).join(' ')} >~/.courier/targets`,
    input.signers ? `printf '%s\\n' ${shellQuote(input.signers)} >~/.courier/allowed_signers` : 'rm -f ~/.courier/allowed_signers',
    `k="restrict,command=\\"/bin/sh ${agent} restricted\\" ${input.publicKey} ${ENTRY_COMMENT}"`,
    'a=~/.ssh/authorized_keys',
    '{ [ ! -s $a ]||[ -z "$(tail -c1 $a)" ]||echo >>$a;}',
    '{ grep -qxF "$k" $a 2>/dev/null||printf "%s\\n" "$k" >>$a;}',
    'chmod 600 $a',
    `f=$(ssh-keyscan -t ed25519 -p ${input.port} ${input.ip} 2>/dev/null|ssh-keygen -lf -)`,
    'f=${f#* }',
    'f=${f%% *}',
    '{ [ -n "$f" ]||{ echo "courier: ssh-keyscan could not read this node\'s ed25519 host key" >&2;exit 1;};}',
    'echo "host key: $f"',
    'echo "restricted key installed; now run on the control plane:"',
    `echo ${shellQuote(next)}" --fingerprint $f"`,
  ];
  return `sh -c ${shellQuote(steps.join(' && '))}`;
}
