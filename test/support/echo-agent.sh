#!/bin/sh
# Stand-in for the node agent in transport tests: copies stdin to stdout byte for byte, reports its
# arguments on stderr (one `arg <value>` line each, after `argc N`), then exits with the status
# given as the first argument (default 0). The transport must not care what the script does.
set -u
printf 'argc %s\n' "$#" >&2
for a in "$@"; do
  printf 'arg %s\n' "$a" >&2
done
cat
exit "${1:-0}"
