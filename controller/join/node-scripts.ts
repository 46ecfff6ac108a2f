/**
 * The POSIX sh the join runs on a node over its first access (a password or a full-shell key), one
 * exec each: install the agent, its targets file and the restricted key entry; undo that; write
 * the sudoers drop-in checked by visudo; remove it; drop the backups once the join is done. Every
 * value reaches a script as a positional argument, never spliced into its text.
 */
import { shellQuote } from '../transport/open-agent-channel.js';

/** `sh -c '<script>' courier-join <args...>`, every argument quoted. */
export function scriptCommand(script: string, args: readonly string[], prefix = ''): string {
  return `${prefix}sh -c ${shellQuote(script)} courier-join ${args.map(shellQuote).join(' ')}`.trimEnd();
}

/** Prints `$HOME` and the uid, one per line. */
export const PROBE_SCRIPT = `printf '%s\\n' "$HOME" "$(id -u)"`;

/**
 * $1 the restricted entry, $2 the key's base64 blob, $3 the targets file, $4 the allowed_signers
 * line of the release signer ('' = none: any old one goes); the agent on stdin.
 * Every line of authorized_keys holding the key (a full-shell entry included) is replaced by the
 * restricted entry; other lines stay byte for byte (a last line without LF gets one). The old file
 * is kept in ~/.courier for the undo until the join is done.
 */
export const INSTALL_SCRIPT = `set -eu
umask 077
d="$HOME/.courier" k="$HOME/.ssh/authorized_keys"
[ -d "$HOME/.ssh" ] || { mkdir "$HOME/.ssh"; echo made-ssh-dir; }
[ -d "$d" ] || { mkdir "$d"; echo made-agent-dir; }
cat >"$d/.courier-agent.new"
sh -n "$d/.courier-agent.new"
chmod 700 "$d/.courier-agent.new"
mv -f "$d/.courier-agent.new" "$d/courier-agent"
printf '%s' "$3" >"$d/targets"
if [ -n "$4" ]; then printf '%s\\n' "$4" >"$d/allowed_signers"; else rm -f "$d/allowed_signers"; fi
t="$k.courier-$$"
if [ -f "$k" ]; then
    cp -p "$k" "$d/authorized_keys.before"
    cp -p "$k" "$t"
    awk -v b="$2" '{ for (i = 1; i <= NF; i++) if ($i == b) next; print }' "$k" >"$t"
else
    : >"$d/authorized_keys.absent"
    : >"$t"
fi
printf '%s\\n' "$1" >>"$t"
chmod 600 "$t"
mv -f "$t" "$k"
echo installed`;

/** $1 = yes when the join made ~/.courier, $2 = yes when it made ~/.ssh: put authorized_keys back and remove what the install wrote. */
export const UNDO_SCRIPT = `d="$HOME/.courier" k="$HOME/.ssh/authorized_keys"
if [ -f "$d/authorized_keys.before" ]; then cp -p "$d/authorized_keys.before" "$k.courier-undo" && mv -f "$k.courier-undo" "$k"
elif [ -f "$d/authorized_keys.absent" ]; then rm -f "$k"; fi
rm -f "$d/courier-agent" "$d/targets" "$d/allowed_signers" "$d/authorized_keys.before" "$d/authorized_keys.absent" "$d/.courier-agent.new"
[ "$1" != yes ] || rmdir "$d" 2>/dev/null
[ "$2" != yes ] || rmdir "$HOME/.ssh" 2>/dev/null
echo undone`;

/** The join is done: the backups go. */
export const FINISH_SCRIPT = `rm -f "$HOME/.courier/authorized_keys.before" "$HOME/.courier/authorized_keys.absent"; echo finished`;

/** As root: $1 the drop-in path, $2 its text. Checked alone with visudo -c -f, moved in place, then the whole configuration checked (removed again if that fails). */
export const SUDOERS_SCRIPT = `set -u
PATH="$PATH:/usr/sbin:/sbin"
umask 022
t="$(dirname "$1")/.courier-$$.tmp"
printf '%s' "$2" >"$t" && chmod 440 "$t" || { rm -f "$t"; echo "cannot write $t" >&2; exit 1; }
if ! out=$(visudo -c -f "$t" 2>&1); then rm -f "$t"; echo "visudo -c refused the drop-in: $out" >&2; exit 1; fi
mv -f "$t" "$1" || { rm -f "$t"; exit 1; }
if ! out=$(visudo -c 2>&1); then rm -f "$1"; echo "visudo -c refused the configuration with the drop-in: $out" >&2; exit 1; fi
echo visudo-ok`;

/** As root: $1 the drop-in path. */
export const REMOVE_SUDOERS_SCRIPT = `rm -f "$1" && echo removed`;
