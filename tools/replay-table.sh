#!/usr/bin/env bash
# Prints the docs/replay.md tables of replay verdicts as markdown rows: each capture under DIR (default
# ../shared/captures) replayed as its busiest host (the first `--list-hosts` line, IPv4 or IPv6) with the recorded TCP
# bytes on both sides (--serve-recorded --connect-recorded), so a conversation is played whichever side the host was.
# The tool is the Release build of Stack.Tap (dotnet build Stack.Tap -c Release first). Reads only; writes nothing.
#
#   tools/replay-table.sh [DIR] [EXTRA REPLAY ARGS...]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dir=${1:-$root/../shared/captures}
shift || true
tool=$root/Stack.Tap/bin/Release/net10.0/tcpipsharp
[ -x "$tool" ] || { echo "replay-table.sh: build Stack.Tap first (dotnet build Stack.Tap -c Release)" >&2; exit 2; }
[ -d "$dir" ] || { echo "replay-table.sh: no captures at $dir" >&2; exit 2; }
echo "| capture | host | verdict |"
echo "|---------|------|---------|"
find "$dir" -type f \( -name '*.pcap' -o -name '*.pcapng' -o -name '*.cap' \) | LC_ALL=C sort | while read -r f; do
  name=${f#"$dir"/}
  listing=$(timeout 60 "$tool" replay "$f" --list-hosts 2>&1 || true)
  host=$(awk 'NR == 1 && $2 == "mac" { print $1 }' <<<"$listing")
  if [ -z "$host" ]; then
    # No host: say why (a skipped record names its reason; otherwise the listing's own line).
    why=$(grep -m1 '^capture:' <<<"$listing" || head -1 <<<"$listing")
    printf '| `%s` | - | %s |\n' "$name" "$(cut -c1-160 <<<"$why")"
    continue
  fi
  verdict=$(timeout 120 "$tool" replay "$f" --host "$host" --serve-recorded --connect-recorded "$@" 2>&1 | grep -m1 -E '^(PASS|FAIL|error|tcpipsharp)' || true)
  verdict=$(sed -E 's/^(PASS|FAIL): host [^ ]+ [^ ]+: /\1: /' <<<"$verdict")
  printf '| `%s` | %s | %s |\n' "$name" "$host" "$verdict"
done
