#!/bin/bash
# One TCP flow through `tcpipsharp gateway` (issue 19's throughput target), both directions, beside the kernel
# carrying the same iperf3 transfer over a veth with offloads, in one run.
# usage (root): tools/gateway-iperf.sh LABEL=BINDIR [LABEL=BINDIR ...]
#   Each BINDIR holds a tcpipsharp built from some commit (dotnet build Stack.Tap -c Release: Stack.Tap/bin/Release/net10.0).
#   Per round, for each build in turn: a fresh gateway on a TUN with offloads, iperf3 guest→server then server→guest
#   (-R) through it, then the same two kernel-routed; one line each, then the ratios.
# env: ROUNDS (3), T (seconds per iperf3 run, 4), NICE (19: every process under nice, as the shared machine's rules ask),
#      GWENV (extra environment for the gateway), PERF (a file prefix: perf record -e cpu-clock -g of the gateway during
#      the guest→server run, one file per build and round).
# Besides Gbit/s, each gateway line gives the gateway's CPU seconds per GB carried (all its threads, and its stack
# thread alone, the process's main thread, from /proc): steadier than the wall rate when other work shares the cores.
# Namespaces (all removed on exit; no route leaves any of them): giG, the guest (192.0.2.2/24, default route into the
# TUN); giS, the gateway process and an iperf3 server on 198.51.100.1 on its loopback; giK (client, 198.51.100.2) and
# giN (iperf3 server on 198.51.100.1) joined by a veth: the kernel's figure.
set -u
ROUNDS=${ROUNDS:-3}; T=${T:-4}; NICE=${NICE:-19}; GWENV=${GWENV:-}; PERF=${PERF:-}
# what the gateway's statistics say of the TCP receive path (counters a build lacks are simply absent)
gw_stopped() { echo "  gateway statistics: $(grep -E 'fast_path_data|direct_received|segments_sent|tcp\.received' $X/gw.out | tr -s ' \n' ' ')"; }
PREFIX=${PREFIX:-gi}; TAG=gateway-iperf; . "$(dirname "$0")/gateway-namespaces.sh"
for n in $S $NG; do
  ip netns exec $n nice -n $NICE iperf3 -s -B 198.51.100.1 -p 5201 > $X/srv-$n.log 2>&1 & echo $! > $X/srv-$n.pid
done
sleep 1
# cpu ticks of the whole process and of its stack thread (the gateway command polls the stack on its main thread)
gw_cpu() {
  local P=$(cat $X/gw.pid)
  echo "$(awk '{print $14 + $15}' /proc/$P/stat) $(awk '{print $14 + $15}' /proc/$P/task/$P/stat)"
}
iperf_line() { # namespace label [-R]
  local out gbps; out=$(ip netns exec $1 nice -n $NICE timeout $((T + 20)) iperf3 -c 198.51.100.1 -p 5201 -t $T -f g ${3:-} 2>&1)
  gbps=$(echo "$out" | awk '/receiver$/{for (i = 1; i <= NF; i++) if ($i == "Gbits/sec") print $(i - 1)}' | tail -1)
  bytes=$(echo "$out" | awk '/receiver$/{for (i = 1; i <= NF; i++) if ($i == "GBytes") print $(i - 1) * 1073741824; else if ($i == "MBytes") print $(i - 1) * 1048576}' | tail -1)
  echo "$2 gbps=${gbps:-none} load=$(cut -d' ' -f1 /proc/loadavg)"
  [ -n "$gbps" ] || echo "$out" | tail -3
  GBPS=${gbps:-0}; BYTES=${bytes:-0}
}
start_gw() { # bindir
  ip netns add $G; ip -n $G link set lo up
  ip netns exec $S env $GWENV DOTNET_PerfMapEnabled=${PERF:+1}${PERF:-0} ${PERF:+DOTNET_EnableWriteXorExecute=0} \
    nice -n $NICE $1/tcpipsharp gateway --tun ${PREFIX}tun0 --ip 192.0.2.1/24 > $X/gw.out 2>&1 & echo $! > $X/gw.pid
  for i in $(seq 1 80); do grep -qs "gateway on" $X/gw.out && break; sleep 0.25; done
  if ! grep -qs "gateway on" $X/gw.out; then echo "gateway did not start in 20 s: $(cat $X/gw.out)"; exit 1; fi
  ip -n $S link set ${PREFIX}tun0 netns $G
  ip -n $G addr add 192.0.2.2/24 dev ${PREFIX}tun0; ip -n $G link set ${PREFIX}tun0 up; ip -n $G route add default dev ${PREFIX}tun0
  sleep 0.5
  # warm-up (the JIT's tiers): a short run each way, not counted
  ip netns exec $G nice -n $NICE timeout 20 iperf3 -c 198.51.100.1 -p 5201 -t 1 > /dev/null 2>&1
  ip netns exec $G nice -n $NICE timeout 20 iperf3 -c 198.51.100.1 -p 5201 -t 1 -R > /dev/null 2>&1
}
gw_run() { # label round dir(up|down) flag
  local a0 s0 a1 s1
  read a0 s0 < <(gw_cpu)
  iperf_line $G "round=$2 $1 gateway $3" $4; eval "gw_$3=$GBPS"
  read a1 s1 < <(gw_cpu)
  awk -v a=$((a1 - a0)) -v s=$((s1 - s0)) -v b=$BYTES -v hz=$(getconf CLK_TCK) -v l=$1 -v r=$2 -v d=$3 \
    'BEGIN{ if (b > 0) printf "round=%s %s gateway %s cpu s/GB: process %.3f, stack thread %.3f\n", r, l, d, a / hz / (b / 1e9), s / hz / (b / 1e9) }'
}
echo "# $(date -u +%FT%TZ) T=$T rounds=$ROUNDS nproc=$(nproc) gateway env: ${GWENV:-none}"
for round in $(seq 1 $ROUNDS); do
  for spec in "$@"; do
    label=${spec%%=*}; bin=${spec#*=}
    start_gw $bin
    if [ -n "$PERF" ]; then perf record -q -e cpu-clock -g -p $(cat $X/gw.pid) -o $PERF-$label-$round.data 2>/dev/null & PERFPID=$!; sleep 0.3; fi
    gw_run $label $round up ""
    [ -n "$PERF" ] && { kill -INT $PERFPID; wait $PERFPID 2>/dev/null; }
    gw_run $label $round down -R
    stop_gw
    iperf_line $K "round=$round $label kernel up"; k_up=$GBPS
    iperf_line $K "round=$round $label kernel down" -R; k_down=$GBPS
    awk -v gu=$gw_up -v gd=$gw_down -v ku=$k_up -v kd=$k_down -v l=$label -v r=$round \
      'BEGIN{ printf "round=%s %s ratio guest→server=%.2f server→guest=%.2f\n", r, l, (ku > 0 ? gu / ku : 0), (kd > 0 ? gd / kd : 0) }'
  done
done
