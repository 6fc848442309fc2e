#!/bin/bash
# Connections per second through `tcpipsharp gateway` (issue 19), beside the kernel routing the same, in one run.
# usage (root): tools/gateway-cps.sh LABEL=BINDIR [LABEL=BINDIR ...]
#   Each BINDIR holds a tcpipsharp built from some commit (dotnet build Stack.Tap -c Release: Stack.Tap/bin/Release/net10.0).
#   Per round, for each build in turn: a fresh gateway, then ab through it, then ab kernel-routed; one line each.
# env: ROUNDS (3), N (requests per ab, 20000), WARM (requests through a new gateway before it is measured, 30000: fewer left the JIT's tier-up in the figures), C (50), GWENV (extra environment for the gateway, e.g.
#      "DOTNET_ThreadPool_UnfairSemaphoreSpinLimit=0"), PERF (a file prefix: perf record -e cpu-clock of the gateway,
#      one file per build and round), NICE (19: every process under nice, as the shared machine's rules ask).
# Namespaces (all removed on exit; no route leaves any of them): gcG, the guest (192.0.2.2/24, default route into the
# TUN); gcS, the gateway process and nginx on 198.51.100.1 on its loopback; gcK (ab, 198.51.100.2) and gcN (nginx on
# 198.51.100.1) joined by a veth: the kernel-routed figure. Body: a 1,024-byte file; a new connection per request.
set -u
ROUNDS=${ROUNDS:-3}; N=${N:-20000}; WARM=${WARM:-30000}; C=${C:-50}; NICE=${NICE:-19}; GWENV=${GWENV:-}; PERF=${PERF:-}
PREFIX=gc; TAG=gateway-cps; . "$(dirname "$0")/gateway-namespaces.sh"
for n in $S $K $NG; do ip netns exec $n sysctl -qw net.core.somaxconn=4096; done
ip netns exec $K sysctl -qw net.ipv4.ip_local_port_range="10000 65000"
mkdir -p $X/www; head -c 1024 /dev/zero | tr '\0' 'x' > $X/www/1k
for n in $S $NG; do
  mkdir -p $X/ngx-$n
  cat > $X/ngx-$n/nginx.conf <<NG
worker_processes 1; pid $X/ngx-$n/nginx.pid; error_log stderr warn; events { worker_connections 4096; }
http { access_log off; client_body_temp_path $X/ngx-$n/cb; proxy_temp_path $X/ngx-$n/px; fastcgi_temp_path $X/ngx-$n/fc;
  uwsgi_temp_path $X/ngx-$n/uw; scgi_temp_path $X/ngx-$n/sc;
  server { listen 198.51.100.1:8080 backlog=4096; root $X/www; } }
NG
  ip netns exec $n nice -n $NICE nginx -p $X/ngx-$n -c $X/ngx-$n/nginx.conf -g 'daemon off;' 2>>$X/nginx-$n.err & echo $! > $X/ngx-$n.pid
done
sleep 1
ab_line() { # namespace label
  local out; out=$(ip netns exec $1 nice -n $NICE timeout 120 ab -q -s 10 -n $N -c $C http://198.51.100.1:8080/1k 2>&1)
  local rps=$(echo "$out" | awk '/Requests per second/{print $4}') failed=$(echo "$out" | awk '/Failed requests/{print $3}') non2xx=$(echo "$out" | awk '/Non-2xx/{print $3}')
  echo "$2 rps=${rps:-none} failed=${failed:-?} non2xx=${non2xx:-0} load=$(cut -d' ' -f1 /proc/loadavg)"
  [ -n "$rps" ] || echo "$out" | tail -2
  RPS=${rps:-0}
}
gw_cost() { # the gateway's CPU time (clock ticks, all threads) and context switches so far
  local P=$(cat $X/gw.pid) t=0 c=0 v
  t=$(awk '{print $14 + $15}' /proc/$P/stat)
  for v in /proc/$P/task/*/status; do c=$((c + $(awk '/ctxt_switches/{s += $2} END {print s}' $v 2>/dev/null || echo 0))); done
  echo "$t $c"
}
start_gw() { # bindir
  ip netns add $G; ip -n $G link set lo up
  ip netns exec $G sysctl -qw net.ipv4.ip_local_port_range="10000 65000"
  ip netns exec $S env $GWENV DOTNET_PerfMapEnabled=${PERF:+1}${PERF:-0} ${PERF:+DOTNET_EnableWriteXorExecute=0} \
    nice -n $NICE $1/tcpipsharp gateway --tun gctun0 --ip 192.0.2.1/24 --time-wait 2 > $X/gw.out 2>&1 & echo $! > $X/gw.pid
  for i in $(seq 1 80); do grep -qs "gateway on" $X/gw.out && break; sleep 0.25; done
  if ! grep -qs "gateway on" $X/gw.out; then
    # Seen once under load 14 (nothing printed in 20 s): say what the process was doing, then try once more.
    echo "gateway did not start in 20 s: state $(awk '{print $3}' /proc/$(cat $X/gw.pid)/stat 2>/dev/null || echo gone), output: $(cat $X/gw.out)"
    [ -n "${RETRIED:-}" ] && exit 1
    stop_gw; sleep 1; RETRIED=1 start_gw $1; return
  fi
  ip -n $S link set gctun0 netns $G
  ip -n $G addr add 192.0.2.2/24 dev gctun0; ip -n $G link set gctun0 up; ip -n $G route add default dev gctun0
  sleep 0.5
  # warm-up (the JIT's tiers, pools): a run not counted
  ip netns exec $G nice -n $NICE timeout 60 ab -q -s 10 -n $WARM -c $C http://198.51.100.1:8080/1k > /dev/null 2>&1
}
echo "# $(date -u +%FT%TZ) N=$N C=$C rounds=$ROUNDS nproc=$(nproc) gateway env: ${GWENV:-none}"
for round in $(seq 1 $ROUNDS); do
  for spec in "$@"; do
    label=${spec%%=*}; bin=${spec#*=}
    start_gw $bin
    if [ -n "$PERF" ]; then perf record -q -e cpu-clock -g -p $(cat $X/gw.pid) -o $PERF-$label-$round.data 2>/dev/null & PERFPID=$!; sleep 0.3; fi
    read t0 c0 < <(gw_cost)
    ab_line $G "round=$round $label gateway"; gw=$RPS
    read t1 c1 < <(gw_cost)
    awk -v t=$((t1 - t0)) -v c=$((c1 - c0)) -v n=$N -v hz=$(getconf CLK_TCK) -v l=$label -v r=$round \
      'BEGIN{ printf "round=%s %s gateway cpu=%.1f us/conn ctxsw=%.2f/conn\n", r, l, t * 1e6 / hz / n, c / n }'
    [ -n "$PERF" ] && { kill -INT $PERFPID; wait $PERFPID 2>/dev/null; }
    stop_gw
    ab_line $K "round=$round $label kernel "; k=$RPS
    awk -v g=$gw -v k=$k -v l=$label -v r=$round 'BEGIN{ if (k > 0) printf "round=%s %s ratio=%.2f\n", r, l, g / k }'
  done
done
