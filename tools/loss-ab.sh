#!/bin/bash
# 100 MB uploads from `tcpipsharp send` to a socat sink in the kernel, through a router namespace whose FORWARD chain
# drops 2% of the frames each way (issue 16's loss interop, as TcpBulkInteropTests.Upload_under_2_percent_loss does),
# several builds alternating in every round: retransmission timeouts are few per transfer and vary by half from run to
# run, so builds are compared over rounds, side by side.
# usage (root): tools/loss-ab.sh ROUNDS PROGRAM[:EXTRA ARGS] ...
#   PROGRAM is a built tcpipsharp (Stack.Tap/bin/Release/net10.0/tcpipsharp of some commit); EXTRA ARGS go to `send`
#   (e.g. "/tmp/b/new/tcpipsharp:--no-rack"). Prints one line per upload: round, program, bytes the sink counted, rate,
#   the stack's retransmission counters and the load average.
# env: F (the file to send; 100 MB of random bytes made once in /tmp otherwise), LOSS (0: no drops, e.g. with
#   "--reorder 0.01,1,10" as extra arguments), PCAP (a file: the stack's own trace of each upload, for tools/rto-gaps.py).
# Namespaces tis-lossrt (router, the TAP at 198.51.100.1) and tis-losspeer (the sink at 192.0.2.2), removed on exit.
set -u
[ $# -ge 2 ] || { sed -n 2,12p "$0"; exit 2; }
N=$1; shift
R=tis-lossrt; P=tis-losspeer
cleanup() { ip netns del $R 2>/dev/null; ip netns del $P 2>/dev/null; }
trap cleanup EXIT
cleanup
ip netns add $R && ip netns add $P || exit 1
ip -n $R link set lo up; ip -n $P link set lo up
ip link add rt0 netns $R type veth peer name peer0 netns $P
ip -n $R addr add 192.0.2.1/24 dev rt0; ip -n $R link set rt0 up
ip netns exec $R sysctl -qw net.ipv4.ip_forward=1
ip -n $P addr add 192.0.2.2/24 dev peer0; ip -n $P link set peer0 up
ip -n $P route add 198.51.100.0/24 via 192.0.2.1
F=${F:-/tmp/tis-loss-100m.bin}
[ -f "$F" ] || head -c 100000000 /dev/urandom > "$F"
sink=$(mktemp)
sleep 1
for i in $(seq 1 "$N"); do
  for spec in "$@"; do
    prog=${spec%%:*}; extra=""; [[ $spec == *:* ]] && extra=${spec#*:}
    ip -n $R tuntap add dev tapl mode tap; ip -n $R addr add 198.51.100.1/24 dev tapl; ip -n $R link set tapl up
    ip netns exec $R iptables -F FORWARD
    if [ "${LOSS:-1}" = 1 ]; then
      ip netns exec $R iptables -A FORWARD -i tapl -m statistic --mode random --probability 0.02 -j DROP
      ip netns exec $R iptables -A FORWARD -o tapl -m statistic --mode random --probability 0.02 -j DROP
    fi
    ip netns exec $P timeout 200 sh -c "socat -u TCP4-LISTEN:9000,bind=192.0.2.2,reuseaddr STDOUT | wc -c > $sink" &
    sleep 0.3
    # shellcheck disable=SC2086
    out=$(ip netns exec $R timeout 200 "$prog" send 192.0.2.2 9000 -i "$F" --tap tapl --ip 198.51.100.2/24 --gw 198.51.100.1 --no-offload --timeout 180 $extra ${PCAP:+--pcap $PCAP} 2>&1)
    wait
    rate=$(echo "$out" | grep -oE "\([0-9.]+ Mbit/s\)" | head -1)
    counters=$(echo "$out" | grep "send: tcp" | grep -oE "(timeout|fast|sack|tlp|rack_losses|dsack_received|spurious_undo|frto_spurious|eifel_undo)=[0-9]+" | tr '\n' ' ')
    echo "$i $prog${extra:+ $extra} bytes=$(cat "$sink") $rate $counters load=$(cut -d' ' -f1 /proc/loadavg)"
    ip -n $R link del tapl
  done
done
rm -f "$sink"
