#!/bin/bash
# ab against `tcpipsharp up` over a TAP and against nginx over a veth, alternating in one run (issue 18 item 5).
# usage (root): tools/ab-vs-nginx.sh BINDIR LABEL     BINDIR holds the tcpipsharp built from some commit
# env: N (requests per test, 20000), UPARGS (more arguments for tcpipsharp up, e.g. --uring), ONLY ("-c 50" and so on: run that test alone),
#      TXQ (the TAP's txqueuelen: 10000 by default, given to up as --txqueuelen as docs/getting-started.md tells a user;
#      a build without that option gets it from `ip link set`; TXQ=kernel leaves the 1,000 `ip tuntap add` gives),
#      WARM (keep-alive warm-up requests per server before measuring, 100000: the stack's JIT moves its hot paths through
#      instrumented code to tier 1 over the first 80,000-90,000 requests, at 8-15 us of CPU a request, 2.8 after;
#      WARM=5000 measures that warm-up, as this script did before branch wip-ab)
# Namespaces rrK (ab, the TAP and the stack) and rrN (nginx), addresses 192.0.2.0/24 and 198.51.100.0/24; all removed
# on exit. Body: 1 KB (GET /bytes/1024 from the stack, a 1024-byte file from nginx). Prints one line per test.
BIN=$1; LABEL=${2:-run}; X=$(mktemp -d /tmp/ab-vs-nginx.XXXXXX); N=${N:-20000}
chmod 755 $X   # mktemp -d makes it 0700: nginx's worker (not root) could not read the file and answered 403 (not a failure to ab)
K=rrK; A=rrN; TAPDEV=rrtap0
. "$(dirname "$0")/stack-vs-nginx.inc.sh"
make_namespaces
TXQ=${TXQ:-10000}; TXQBY=kernel
if [ "$TXQ" != kernel ]; then
  if $BIN/tcpipsharp up --help 2>&1 | grep -q -- --txqueuelen; then UPARGS="$UPARGS --txqueuelen $TXQ"; TXQBY="up --txqueuelen $TXQ"
  else ip -n $K link set rrtap0 txqueuelen $TXQ; TXQBY="ip link set rrtap0 txqueuelen $TXQ (this build has no --txqueuelen)"; fi
fi
ip netns exec $K sysctl -qw net.ipv4.ip_local_port_range="10000 65000"
ip netns exec $A sysctl -qw net.core.somaxconn=4096
mkdir -p $X/www; head -c 1024 /dev/zero | tr '\0' 'x' > $X/www/1k
start_servers 4096 "keepalive_requests 100000;" backlog=4096
echo "$LABEL tap txqueuelen=$(ip -n $K link show rrtap0 | grep -o 'qlen [0-9]*' | cut -d' ' -f2) set by: $TXQBY"
# Frames the kernel dropped at the TAP's full queue (the stack drains it too slowly): lost SYNs cost the client a 1 s RTO.
txdrop() { ip -n $K -s link show rrtap0 | awk '/TX:/{getline; print $4}'; }
run() { # name url args
  local pid; pid=$(server_pid $1)
  cpuns $pid > $X/cpu0; local d0; d0=$(txdrop)
  local out; out=$(ip netns exec $K timeout 120 ab -q -s 10 -n $N $3 "$2" 2>&1)
  cpuns $pid > $X/cpu1; local cpu_us; cpu_us=$(echo "scale=1; $(cpudiff $X/cpu0 $X/cpu1) / 1000 / $N" | bc)
  local rps=$(echo "$out" | awk '/Requests per second/{print $4}'); local failed=$(echo "$out" | awk '/Failed requests/{print $3}')
  local longest=$(echo "$out" | awk '/100%/{print $2}'); local complete=$(echo "$out" | awk '/Complete requests/{print $3}')
  local non2xx=$(echo "$out" | awk '/Non-2xx responses/{print $3}'); local doclen=$(echo "$out" | awk '/Document Length/{print $3}')
  echo "$LABEL $1 [$3] rps=$rps complete=$complete failed=$failed non2xx=${non2xx:-0} doclen=$doclen longest_ms=$longest cpu_us_per_req=$cpu_us tap_tx_dropped=$(( $(txdrop) - d0 )) load=$(cut -d' ' -f1 /proc/loadavg)"
  [ -n "$rps" ] || echo "$out" | tail -3
}
# Warm-up, not reported: the stack's JIT tiers its hot paths over the first 80,000-90,000 requests (WARM above; its CPU per request
# in the first test counted the compilation too).
ip netns exec $K ab -q -s 10 -n ${WARM:-100000} -k -c 100 http://192.0.2.2/bytes/1024 > /dev/null 2>&1
ip netns exec $K ab -q -s 10 -n 10000 -c 100 http://192.0.2.2/bytes/1024 > /dev/null 2>&1
ip netns exec $K ab -q -s 10 -n ${WARM:-100000} -k -c 100 http://198.51.100.1:8080/1k > /dev/null 2>&1; sleep 1
for args in "-k -c 100" "-c 50" "-c 200" "-c 1000"; do
  [ -n "$ONLY" ] && [ "$args" != "$ONLY" ] && continue
  run stack http://192.0.2.2/bytes/1024 "$args"; sleep 1
  run nginx http://198.51.100.1:8080/1k "$args"; sleep 1
done
