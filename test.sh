#!/usr/bin/env bash
# Builds everything and runs every test; ends with the line "N passed, N failed[, N skipped]".
# On a fresh Debian machine with only the .NET SDK, run as root: installs the OS packages the tests need.
set -uo pipefail
cd "$(dirname "$0")"

# Debian packages the tests use (command or library -> package).
need_packages() {
  local missing=()
  [ -e /usr/lib/x86_64-linux-gnu/libpcap.so.0.8 ] || ls /usr/lib/*/libpcap.so.0.8 >/dev/null 2>&1 || missing+=(libpcap0.8)
  command -v tshark   >/dev/null || missing+=(tshark)
  command -v capinfos >/dev/null || missing+=(tshark)
  command -v tcpdump  >/dev/null || missing+=(tcpdump)
  command -v ip       >/dev/null || missing+=(iproute2)
  command -v bridge   >/dev/null || [ -x /usr/sbin/bridge ] || missing+=(iproute2)
  command -v ping     >/dev/null || missing+=(iputils-ping)
  command -v arping   >/dev/null || missing+=(arping)
  command -v socat    >/dev/null || missing+=(socat)
  command -v curl     >/dev/null || missing+=(curl)
  command -v iptables >/dev/null || missing+=(iptables)
  command -v ip6tables >/dev/null || [ -x /usr/sbin/ip6tables ] || missing+=(iptables)
  command -v ethtool  >/dev/null || missing+=(ethtool)
  command -v iperf3   >/dev/null || missing+=(iperf3)
  command -v python3  >/dev/null || missing+=(python3)
  /usr/bin/python3 -c "import scapy" 2>/dev/null || missing+=(python3-scapy)
  command -v openssl  >/dev/null || missing+=(openssl)
  command -v nc       >/dev/null || missing+=(netcat-openbsd)
  command -v ss       >/dev/null || missing+=(iproute2)
  command -v dnsmasq  >/dev/null || [ -x /usr/sbin/dnsmasq ] || missing+=(dnsmasq-base)
  command -v chronyd  >/dev/null || [ -x /usr/sbin/chronyd ] || missing+=(chrony)
  command -v afl-fuzz >/dev/null || missing+=(afl++)
  command -v avahi-daemon >/dev/null || [ -x /usr/sbin/avahi-daemon ] || missing+=(avahi-daemon)
  command -v avahi-resolve >/dev/null || missing+=(avahi-utils)
  command -v dbus-daemon >/dev/null || missing+=(dbus)
  command -v dig      >/dev/null || missing+=(dnsutils)
  [ -x /bin/kill ] || [ -x /usr/bin/kill ] || missing+=(procps)
  command -v sysctl >/dev/null || [ -x /sbin/sysctl ] || missing+=(procps)   # GatewayInteropTests: ping_group_range
  command -v microsocks >/dev/null || missing+=(microsocks)
  command -v nginx    >/dev/null || [ -x /usr/sbin/nginx ] || missing+=(nginx-light)
  command -v dig      >/dev/null || missing+=(dnsutils)
  command -v script   >/dev/null || missing+=(bsdutils)   # CliTests: progress under a pseudo-terminal
  command -v zsh      >/dev/null || missing+=(zsh)        # CliTests: the zsh completion script parses
  printf '%s\n' "${missing[@]}" | sort -u | grep -v '^$' || true
}
missing=$(need_packages)
if [ -n "$missing" ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "test.sh: installing $(echo $missing)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null && apt-get install -y -qq --no-install-recommends $missing >/tmp/tcpipsharp-apt.log 2>&1 \
      || { echo "test.sh: apt-get install failed (see /tmp/tcpipsharp-apt.log)"; }
  else
    echo "test.sh: missing packages (install as root): $(echo $missing); tests that need them will fail saying so"
  fi
fi

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

# SharpFuzz's instrumenter for the fuzz smoke, in a tool path of this repository's own (.tools/, gitignored).
if [ ! -x .tools/sharpfuzz ]; then
  dotnet tool install SharpFuzz.CommandLine --version 2.3.0 --tool-path .tools >/tmp/tcpipsharp-tool.log 2>&1 \
    || echo "test.sh: could not install SharpFuzz.CommandLine 2.3.0 into .tools (see /tmp/tcpipsharp-tool.log); the fuzz smoke will fail saying so"
fi
log=$(mktemp /tmp/tcpipsharp-test.XXXXXX)
trap 'rm -f "$log"' EXIT

echo "test.sh: building (Release)"
if ! dotnet build TcpIpSharp.sln -c Release -nologo -v q 2>&1 | tee -a "$log" | grep -E "error|Build succeeded|Time Elapsed"; then :; fi
if grep -qE ": error " "$log"; then
  echo "test.sh: build failed"
  echo "0 passed, 1 failed"
  exit 1
fi

echo "test.sh: running tests"
trx_dir=$(mktemp -d /tmp/tcpipsharp-trx.XXXXXX)
dotnet test TcpIpSharp.sln -c Release --no-build -nologo --logger "trx;LogFileName=tests.trx" --results-directory "$trx_dir" "$@" 2>&1 | tee -a "$log"
status=${PIPESTATUS[0]}
# Test counts by folder (the namespace below TcpIpSharp.Tests), and how many of them run over IPv6 (a family parameter
# or an IPv6 test of its own), from the runner's TRX report.
if [ -f "$trx_dir/tests.trx" ] && command -v python3 >/dev/null; then
  python3 - "$trx_dir/tests.trx" <<'PY'
import sys, re, collections, xml.etree.ElementTree as ET
ns = {'t': 'http://microsoft.com/schemas/VisualStudio/TeamTest/2010'}
root = ET.parse(sys.argv[1]).getroot()
cls = {d.get('id'): d.find('t:TestMethod', ns).get('className') for d in root.iterfind('.//t:UnitTest', ns)}
rows = collections.defaultdict(lambda: [0, 0, 0, 0])
for r in root.iterfind('.//t:UnitTestResult', ns):
    parts = cls.get(r.get('testId'), '?').split('.')
    folder = parts[2] if len(parts) > 3 and parts[:2] == ['TcpIpSharp', 'Tests'] else '(top)'
    o = r.get('outcome')
    row = rows[folder]
    row[0 if o == 'Passed' else 1 if o == 'Failed' else 2] += 1
    if re.search(r'(?i)ipv6|\bv6\b', (r.get('testName') or '') + ' ' + cls.get(r.get('testId'), '')): row[3] += 1
print('test.sh: tests by folder (passed / failed / skipped; of them over IPv6)')
for folder in sorted(rows):
    p, f, s, v6 = rows[folder]
    print(f'  {folder:<12} {p:5} / {f} / {s}; IPv6 {v6}')
# Where the run's time goes (the whole run has a 15-minute budget on 2 cores): the ten slowest fixtures.
def seconds(d):
    h, m, s = (d or '0:0:0').split(':')
    return int(h) * 3600 + int(m) * 60 + float(s)
spent = collections.Counter()
for r in root.iterfind('.//t:UnitTestResult', ns):
    spent[cls.get(r.get('testId'), '?').removeprefix('TcpIpSharp.Tests.')] += seconds(r.get('duration'))
print(f'test.sh: {sum(spent.values()):.0f} s in tests; the slowest fixtures:')
for name, total in spent.most_common(10):
    print(f'  {total:6.1f} s  {name}')
PY
fi
rm -rf "$trx_dir"

# Benchmarks are not timed tests: CI only smoke-runs two suites (quick mode) and fails on a row that did not run
# (BenchmarkDotNet prints NA in Mean, Error and StdDev then, and still exits 0).
# One VSTest-style summary line per check that is not a dotnet test run, counted with them at the end.
report() {   # report NAME PASSED(0|1)
  if [ "$2" = 1 ]; then echo "Passed!  - Failed:     0, Passed:     1, Skipped:     0, Total:     1 - $1" | tee -a "$log"
  else echo "Failed!  - Failed:     1, Passed:     0, Skipped:     0, Total:     1 - $1 (see above)" | tee -a "$log"; fi
}

echo "test.sh: benchmark smoke run"
bench_log=$(mktemp /tmp/tcpipsharp-bench.XXXXXX)
if timeout 600 dotnet run --project Stack.Bench -c Release --no-build -- --filter '*Checksum*' '*UdpParse*' --quick >"$bench_log" 2>&1 \
   && grep -qE "Vectorised +\|" "$bench_log" && ! grep -E "\| +NA +\| +NA +\| +NA +\|" "$bench_log" >/dev/null; then
  report "benchmark smoke run" 1
else
  tail -20 "$bench_log"
  report "benchmark smoke run" 0
fi
rm -f "$bench_log"

# The throughput harness (issue 7), quick mode: fails when it fails or measures nothing, never on a slow figure.
echo "test.sh: throughput harness smoke run"
tp_log=$(mktemp /tmp/tcpipsharp-throughput.XXXXXX)
if timeout 300 dotnet run --project Stack.Bench -c Release --no-build -- throughput --quick >"$tp_log" 2>&1 \
   && grep -qE "^ratios: tap_rx=[0-9.]+ tap_tx=[0-9.]+ offload_rx=[0-9.na/]+ offload_tx=[0-9.na/]+ pair_vs_memcpy=[0-9.]+$" "$tp_log"; then
  grep -E "^(\||ratios:|# load)" "$tp_log"
  report "throughput harness smoke run" 1
else
  tail -30 "$tp_log"
  report "throughput harness smoke run" 0
fi
rm -f "$tp_log"

# The newcomer's path (issue 9, docs/getting-started.md): pack both packages, install the tool, run the stack as a host
# and a fresh console project from the packages against the kernel. Prints package sizes, the tool's version line and
# the example's output. Packing the tool builds and ReadyToRun-compiles it for linux-x64 and linux-arm64.
# The fuzz smoke (issue 8, tools/fuzz-smoke.sh): each target 8 s under AFL++ here (FUZZ_SECONDS, at most 60; seven
# targets, one fuzzer at a time; each still runs thousands of inputs); one test per target, failed on a crash, a target
# that could not start, or too few executions.
# The two run at once (neither measures time; the newcomer test waits on NuGet and single-threaded MSBuild steps much of
# the time): 67 s for both against 155 s one after the other, measured at a similar load (docs/benchmarks.md, session
# 13). Their results are printed afterwards, in this order, as when they ran one after the other.
export FUZZ_SECONDS=${FUZZ_SECONDS:-8}
nc_log=$(mktemp /tmp/tcpipsharp-newcomer-log.XXXXXX)
nc_rc=$(mktemp /tmp/tcpipsharp-newcomer-rc.XXXXXX)
( timeout 420 bash tools/newcomer.sh >"$nc_log" 2>&1; echo $? >"$nc_rc" ) &
nc_pid=$!
fz_log=$(mktemp /tmp/tcpipsharp-fuzz-log.XXXXXX)
timeout 600 bash tools/fuzz-smoke.sh >"$fz_log" 2>&1
fz_status=$?
wait "$nc_pid"

echo "test.sh: newcomer test (tools/newcomer.sh)"
if [ "$(cat "$nc_rc")" = 0 ]; then
  grep -E "^(package |tcpipsharp [0-9]+\.[0-9]+\.[0-9]+$|[A-Za-z.]+\.dll: ReadyToRun$)" "$nc_log"
  sed -n '/^--- the example/,/^---$/p' "$nc_log"
  report "newcomer test" 1
else
  tail -40 "$nc_log"
  report "newcomer test" 0
fi
rm -f "$nc_log" "$nc_rc"

echo "test.sh: fuzz smoke (tools/fuzz-smoke.sh, ${FUZZ_SECONDS} s per target)"
[ "$fz_status" -eq 0 ] || grep -vE "^fuzz smoke " "$fz_log" | tail -20
for t in receive stateful dns dhcp tcp-options mdns ntp; do
  line=$(grep -E "^fuzz smoke $t: " "$fz_log" | tail -1)
  if [[ "$line" == "fuzz smoke $t: ok "* ]]; then
    echo "$line"
    report "fuzz smoke $t" 1
  else
    echo "${line:-fuzz smoke $t: no result (tools/fuzz-smoke.sh stopped early)}"
    report "fuzz smoke $t" 0
  fi
done
rm -f "$fz_log"

# VSTest prints one summary line per test assembly: "Passed!  - Failed: 0, Passed: 9, Skipped: 0, Total: 9, ..."
read -r passed failed skipped < <(grep -E '^(Passed|Failed)! +- Failed:' "$log" | sed -E 's/.*Failed: *([0-9]+), Passed: *([0-9]+), Skipped: *([0-9]+).*/\2 \1 \3/' \
  | awk '{p+=$1; f+=$2; s+=$3} END {print p+0, f+0, s+0}')
if [ "$passed" -eq 0 ] && [ "$failed" -eq 0 ]; then
  echo "test.sh: no test ran"
  failed=1
fi
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then
  echo "test.sh: the test runner exited $status without reporting a failed test"
  failed=1
fi
if [ "$skipped" -gt 0 ]; then
  echo "$passed passed, $failed failed, $skipped skipped"
else
  echo "$passed passed, $failed failed"
fi
[ "$failed" -eq 0 ]
