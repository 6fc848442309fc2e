#!/usr/bin/env bash
# Runs the built `tcpipsharp decode --json` over every shared capture (../shared/captures) and the project's own
# (Stack.Tests/Captures), and checks that it prints exactly one valid JSON line per frame, as counted by capinfos.
# Prints one row per capture and a summary; exits 1 when a count differs, a line is not JSON, or decode fails.
# Usage: tools/decode-agreement.sh [-c Release|Debug]
set -uo pipefail
cd "$(dirname "$0")/.."
configuration=Release
[ "${1:-}" = "-c" ] && configuration=${2:?configuration}

program=Stack.Tap/bin/$configuration/net10.0/tcpipsharp
if [ ! -x "$program" ]; then
  echo "decode-agreement: building $program"
  dotnet build Stack.Tap -c "$configuration" -nologo -v q >/dev/null || { echo "decode-agreement: build failed"; exit 1; }
fi
command -v capinfos >/dev/null || { echo "decode-agreement: capinfos is missing (apt-get install tshark)"; exit 1; }
command -v python3 >/dev/null || { echo "decode-agreement: python3 is missing"; exit 1; }

files=()
[ -d ../shared/captures ] && while IFS= read -r f; do files+=("$f"); done < <(find ../shared/captures -type f \( -name '*.pcap' -o -name '*.pcapng' \) | sort)
[ -d Stack.Tests/Captures ] && while IFS= read -r f; do files+=("$f"); done < <(find Stack.Tests/Captures -type f \( -name '*.pcap' -o -name '*.pcapng' \) | sort)
[ ${#files[@]} -gt 0 ] || { echo "decode-agreement: no captures found (../shared/captures or Stack.Tests/Captures)"; exit 1; }

out=$(mktemp /tmp/decode-agreement.XXXXXX)
trap 'rm -f "$out"' EXIT
total_files=0 total_frames=0 total_lines=0 bad_files=0 failed_runs=0 error_frames=0 invalid_json=0
printf '%-78s %7s %7s %6s  %s\n' capture frames lines errors status
for f in "${files[@]}"; do
  total_files=$((total_files + 1))
  frames=$(capinfos -c -M "$f" 2>/dev/null | awk -F: '/Number of packets/ {gsub(/ /, "", $2); print $2}')
  "$program" decode "$f" --json >"$out" 2>/dev/null
  rc=$?
  lines=$(wc -l <"$out")
  errors=$(grep -c '"error":' "$out")
  # Every line one JSON object whose "n" counts from 1.
  invalid=$(python3 -c '
import json, sys
bad = 0
for i, line in enumerate(open(sys.argv[1]), 1):
    try:
        if json.loads(line).get("n") != i: bad += 1
    except ValueError:
        bad += 1
print(bad)' "$out")
  status=ok
  if [ "$rc" -ne 0 ]; then status="exit $rc"; failed_runs=$((failed_runs + 1)); fi
  if [ "$lines" != "$frames" ]; then status="$status, count differs"; bad_files=$((bad_files + 1)); fi
  if [ "$invalid" -ne 0 ]; then status="$status, $invalid bad JSON lines"; invalid_json=$((invalid_json + invalid)); fi
  total_frames=$((total_frames + ${frames:-0})); total_lines=$((total_lines + lines)); error_frames=$((error_frames + errors))
  printf '%-78s %7s %7s %6s  %s\n' "${f#../shared/captures/}" "${frames:-?}" "$lines" "$errors" "$status"
done
echo
echo "decode-agreement: $total_files captures, $total_frames frames (capinfos), $total_lines lines (decode --json);" \
     "$bad_files captures with a different count, $failed_runs runs with a non-zero exit, $invalid_json invalid JSON lines;" \
     "$error_frames frames carry an \"error\" key"
[ "$bad_files" -eq 0 ] && [ "$failed_runs" -eq 0 ] && [ "$invalid_json" -eq 0 ]
