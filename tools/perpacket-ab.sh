#!/bin/bash
# Per-packet A/B of several builds, alternated within each round so that all see the same load (docs/benchmarks.md).
# usage: tools/perpacket-ab.sh LABEL=BINDIR [LABEL=BINDIR ...]
#   Each BINDIR holds a Stack.Bench built from some commit (dotnet build Stack.Bench -c Release:
#   Stack.Bench/bin/Release/net10.0). A build from before the IPv6 split takes no family: give its label a leading
#   "v4:" (v4:1c8a=DIR) and it runs the IPv4 rows only. A leading "norack:" (norack:new=DIR) runs that build's
#   measured connection without RACK-TLP (profile ... norack; builds from 2026-12-07 on).
# env: ROUNDS (3), SECONDS_PER_RUN (2), ROWS (the operations), FAMILIES ("ipv4 ipv6").
# Prints one line per run: round, operation, family, label, wall ns and thread-CPU ns per packet (means over the run),
# the median of the run's chunks' thread-CPU ns per packet ("-" from a build that does not print it), load, time. On a
# shared machine compare the thread-CPU columns (the wall clock also counts the wait for a core), and the median before
# the mean: a burst of other work, or the JIT's warm-up, moves the mean of a run and not its median.
set -u
ROUNDS=${ROUNDS:-3}; S=${SECONDS_PER_RUN:-2}; FAMILIES=${FAMILIES:-ipv4 ipv6}
ROWS=${ROWS:-PollOnly IcmpEchoReply UdpReceive UdpSend TcpDataReceived TcpDataReceivedBatch PureAck PureAckBatch}
[ $# -gt 0 ] || { sed -n 2,12p "$0"; exit 2; }
for r in $(seq 1 $ROUNDS); do
  for n in $ROWS; do
    for F in $FAMILIES; do
      for spec in "$@"; do
        label=${spec%%=*}; dir=${spec#*=}
        extra=
        case $label in norack:*) extra=norack; label=${label#norack:}-norack;; esac
        case $label in v4:*) [ $F = ipv4 ] || continue; label=${label#v4:};; esac
        line=$(cd "$dir" && dotnet Stack.Bench.dll profile $n $S 1 $F $extra | tail -1)
        v=$(echo "$line" | grep -oE "[0-9.]+ ns per packet \([0-9.]+" | sed -E "s/ ns per packet \(/ /")
        m=$(echo "$line" | grep -oE "median [0-9.]+" | cut -d' ' -f2)
        echo "$r $n $F $label ${v:-none none} ${m:--} $(cut -d' ' -f1 /proc/loadavg) $(date +%H:%M:%S)"
      done
    done
  done
done
