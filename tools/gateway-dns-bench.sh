#!/bin/bash
# Gateway DNS cache figure (issue 19): usage tools/gateway-dns-bench.sh N [gateway options, e.g. --dns-cache 0]; root; makes and removes
# the namespaces gwbS (dnsmasq and the gateway, 198.51.100.1) and gwbG (the guest on the TUN, 192.0.2.2).
# One round: a fresh gateway (extra args: $2...) between a guest and a server namespace with dnsmasq; N=$1 queries.
N=$1; shift
ip netns add gwbS; ip netns add gwbG
ip -n gwbS link set lo up; ip -n gwbG link set lo up
ip -n gwbS addr add 198.51.100.1/24 dev lo
ip netns exec gwbS dnsmasq --keep-in-foreground --conf-file=/dev/null --listen-address=198.51.100.1 --bind-interfaces --no-resolv --no-hosts --address=/cached.test/198.51.100.9 --local-ttl=300 --pid-file=/tmp/gwb-dnsmasq.pid &
DPID=$!
ip netns exec gwbS nice -n 19 ${TCPIPSHARP:-Stack.Tap/bin/Release/net10.0/tcpipsharp} gateway --tun gbch0 --ip 192.0.2.1/24 --dns 198.51.100.1:53 --no-host-resolver "$@" > /tmp/gwb.out 2>&1 &
GPID=$!
for i in $(seq 200); do grep -q "gateway on" /tmp/gwb.out && break; sleep 0.1; done
ip -n gwbS link set gbch0 netns gwbG
ip -n gwbG addr add 192.0.2.2/24 dev gbch0; ip -n gwbG link set gbch0 up; ip -n gwbG route add default dev gbch0
ip netns exec gwbG timeout 60 python3 "$(dirname "$0")"/gateway-dns-bench.py 192.0.2.1 cached.test 200 > /dev/null   # warm-up (JIT)
ip netns exec gwbG timeout 120 nice -n 19 python3 "$(dirname "$0")"/gateway-dns-bench.py 192.0.2.1 cached.test $N
kill -TERM $GPID; wait $GPID 2>/dev/null; grep -E "dns_cache_hits|dns_relayed" /tmp/gwb.out | tr -s ' ' | tr '\n' ' '; echo
kill $DPID; wait $DPID 2>/dev/null
ip netns del gwbG; ip netns del gwbS
