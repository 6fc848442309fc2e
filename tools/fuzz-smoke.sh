#!/usr/bin/env bash
# Bounded fuzz smoke (issue 8, item 1): publishes fuzz/TcpIpSharp.Fuzz to a temporary folder, instruments the stack
# (TcpIpSharp.dll) with SharpFuzz, and runs each target under AFL++ for FUZZ_SECONDS (default 20, at most 60) from
# fuzz/corpus/TARGET. Prints one line per target:
#   fuzz smoke TARGET: ok|FAILED (why) execs_done=N execs_per_sec=N corpus_count=N edges=N bitmap_cvg=N% crashes=N hangs=N
# A target fails when it crashed (an exception or a broken invariant), could not start, or ran fewer than
# FUZZ_MIN_EXECS inputs (default 1000). A hang (an input over the -t timeout, FUZZ_TIMEOUT_MS, default 5000 ms) is
# reported, not failed. Crash (and hang) inputs are kept in /tmp/tcpipsharp-fuzz-crashes/TARGET/ (-hangs/) for fuzz/README.md's procedure.
# Needs afl-fuzz (Debian: afl++) and the sharpfuzz tool (SharpFuzz.CommandLine 2.3.0): $SHARPFUZZ, else
# .tools/sharpfuzz (./test.sh installs it there), else sharpfuzz on PATH. Usage: tools/fuzz-smoke.sh [TARGET...]
# Runs the targets one after another, never two fuzzers at once. Exit 0 when every target passed.
set -uo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

all_targets=(receive stateful dns dhcp tcp-options mdns ntp)
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=("${all_targets[@]}")
seconds=${FUZZ_SECONDS:-20}
min_execs=${FUZZ_MIN_EXECS:-1000}
timeout_ms=${FUZZ_TIMEOUT_MS:-5000}
[ "$seconds" -ge 1 ] 2>/dev/null && [ "$seconds" -le 60 ] || { echo "fuzz smoke: FUZZ_SECONDS must be 1..60 (got $seconds)"; seconds=60; }

# Every target gets its line, also when nothing could run.
fail_all() {
  for t in "${targets[@]}"; do echo "fuzz smoke $t: FAILED ($*)"; done
  exit 1
}

command -v afl-fuzz >/dev/null || fail_all "afl-fuzz is not installed; Debian: apt-get install afl++"
sharpfuzz=${SHARPFUZZ:-}
if [ -z "$sharpfuzz" ]; then
  if [ -x "$repo/.tools/sharpfuzz" ]; then sharpfuzz="$repo/.tools/sharpfuzz"; else sharpfuzz=$(command -v sharpfuzz || true); fi
fi
[ -n "$sharpfuzz" ] && [ -x "$sharpfuzz" ] \
  || fail_all "the sharpfuzz tool is not installed; dotnet tool install SharpFuzz.CommandLine --version 2.3.0 --tool-path $repo/.tools"

work=$(mktemp -d /tmp/tcpipsharp-fuzz-smoke.XXXXXX)
[ -n "${FUZZ_KEEP:-}" ] && trap 'echo "fuzz smoke: kept $work"' EXIT || trap 'rm -rf "$work"' EXIT

# Publish a copy (after a Release build this only copies; standalone it builds), then instrument the copy of the stack.
if ! dotnet publish "$repo/fuzz/TcpIpSharp.Fuzz" -c Release --no-build -o "$work/bin" -nologo -v q >"$work/publish.log" 2>&1; then
  dotnet publish "$repo/fuzz/TcpIpSharp.Fuzz" -c Release -o "$work/bin" -nologo -v q >"$work/publish.log" 2>&1 \
    || { tail -20 "$work/publish.log"; fail_all "dotnet publish fuzz/TcpIpSharp.Fuzz failed"; }
fi
"$sharpfuzz" "$work/bin/TcpIpSharp.dll" >"$work/instrument.log" 2>&1 \
  || { tail -20 "$work/instrument.log"; fail_all "sharpfuzz could not instrument TcpIpSharp.dll"; }

# AFL++ outside a terminal, without core-pattern / CPU-governor / affinity demands; the .NET runtime is not an
# AFL-compiled binary (SharpFuzz speaks the fork-server protocol itself), hence SKIP_BIN_CHECK.
export AFL_SKIP_BIN_CHECK=1 AFL_SKIP_CPUFREQ=1 AFL_NO_AFFINITY=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_NO_UI=1
export AFL_FAST_CAL=1 AFL_FORKSRV_INIT_TMOUT=60000

field() { sed -nE "s/^$1 +: (.*)$/\1/p" "$2"; }
failures=0
for t in "${targets[@]}"; do
  out="$work/out/$t"
  mkdir -p "$work/out"
  if [ ! -d "$repo/fuzz/corpus/$t" ]; then
    echo "fuzz smoke $t: FAILED (no seed folder fuzz/corpus/$t)"; failures=$((failures + 1)); continue
  fi
  start=$(date +%s)
  timeout -k 10 $((seconds + 120)) afl-fuzz -V "$seconds" -i "$repo/fuzz/corpus/$t" -o "$out" -t "$timeout_ms" -m none \
    -- "$work/bin/TcpIpSharp.Fuzz" "$t" </dev/null >"$work/afl-$t.log" 2>&1
  rc=$?
  wall=$(( $(date +%s) - start ))
  stats="$out/default/fuzzer_stats"
  if [ ! -f "$stats" ]; then
    sed 's/\x1b\[[0-9;?]*[A-Za-z]//g; s/\x1b(B//g' "$work/afl-$t.log" | grep -vE '^\s*$' | tail -15
    echo "fuzz smoke $t: FAILED (afl-fuzz could not start the target, exit $rc; its log is above)"; failures=$((failures + 1)); continue
  fi
  execs=$(field execs_done "$stats"); eps=$(field execs_per_sec "$stats"); corpus=$(field corpus_count "$stats")
  edges=$(field edges_found "$stats"); cvg=$(field bitmap_cvg "$stats"); crashes=$(field saved_crashes "$stats"); hangs=$(field saved_hangs "$stats")
  figures="execs_done=$execs execs_per_sec=$eps corpus_count=$corpus edges=$edges bitmap_cvg=$cvg crashes=$crashes hangs=$hangs wall=${wall}s"
  why=()
  if [ "${crashes:-0}" -gt 0 ]; then
    mkdir -p "/tmp/tcpipsharp-fuzz-crashes/$t"
    cp "$out"/default/crashes/id:* "/tmp/tcpipsharp-fuzz-crashes/$t/" 2>/dev/null
    why+=("$crashes crash input(s), kept in /tmp/tcpipsharp-fuzz-crashes/$t/: fix, then add them to fuzz/crashes/$t/")
  fi
  [ "${execs:-0}" -ge "$min_execs" ] || why+=("only ${execs:-0} executions, fewer than $min_execs")
  [ $rc -eq 0 ] || why+=("afl-fuzz exited $rc")
  if [ ${#why[@]} -eq 0 ]; then
    note=""
    if [ "${hangs:-0}" -gt 0 ]; then
      mkdir -p "/tmp/tcpipsharp-fuzz-hangs/$t" && cp "$out"/default/hangs/id:* "/tmp/tcpipsharp-fuzz-hangs/$t/" 2>/dev/null
      note=" (hangs over ${timeout_ms} ms: $hangs, reported, not a failure; inputs kept in /tmp/tcpipsharp-fuzz-hangs/$t/)"
    fi
    echo "fuzz smoke $t: ok $figures$note"
  else
    echo "fuzz smoke $t: FAILED ($(IFS=';'; echo "${why[*]}")) $figures"; failures=$((failures + 1))
  fi
done
[ $failures -eq 0 ]
