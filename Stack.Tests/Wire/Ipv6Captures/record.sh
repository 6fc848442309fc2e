#!/bin/bash
# Records kernel-ipv6.pcap: real IPv6 frames from the Linux kernel between two network namespaces joined by a veth pair
# (every offload off, so every checksum is the real one). Run as root from this folder. Addresses: fe80::/64 and
# 2001:db8::/32 only, inside namespaces this script makes and removes.
set -euo pipefail
out=${1:-kernel-ipv6.pcap}
a=v6rec-a-$$; b=v6rec-b-$$
cleanup() { ip netns del "$a" 2>/dev/null || true; ip netns del "$b" 2>/dev/null || true; }
trap cleanup EXIT
ip netns add "$a"; ip netns add "$b"
ip link add veth-a netns "$a" address 02:00:00:00:00:01 type veth peer name veth-b netns "$b" address 02:00:00:00:00:02
ip netns exec "$a" sysctl -qw net.ipv6.conf.veth-a.disable_ipv6=1; ip netns exec "$b" sysctl -qw net.ipv6.conf.veth-b.disable_ipv6=1
ip netns exec "$a" ip link set veth-a up; ip netns exec "$b" ip link set veth-b up
ip netns exec "$a" ethtool -K veth-a tso off gso off gro off tx off rx off >/dev/null 2>&1 || true
ip netns exec "$b" ethtool -K veth-b tso off gso off gro off tx off rx off >/dev/null 2>&1 || true
ip netns exec "$b" tcpdump -U -i veth-b -w "$out" 2>/dev/null & dump=$!
sleep 2
# IPv6 on: DAD neighbour solicitations, MLDv2 reports, router solicitations from both ends.
ip netns exec "$a" sysctl -qw net.ipv6.conf.veth-a.disable_ipv6=0; ip netns exec "$b" sysctl -qw net.ipv6.conf.veth-b.disable_ipv6=0
ip netns exec "$a" ip -6 addr add 2001:db8::1/64 dev veth-a; ip netns exec "$b" ip -6 addr add 2001:db8::2/64 dev veth-b
sleep 4
# Echo (NS/NA first), a fragmented echo (fragment headers both ways), a hop limit of 1.
ip netns exec "$a" ping -6 -c 2 -i 0.2 2001:db8::2 >/dev/null
ip netns exec "$a" ping -6 -c 1 -s 3000 2001:db8::2 >/dev/null
ip netns exec "$a" ping -6 -c 1 fe80::ff:fe00:2%veth-a >/dev/null
# UDP to a closed port (destination unreachable quoting it), DNS-shaped UDP, a TCP handshake to a closed port (RST),
# a UDP datagram with a destination options header (PadN) and a hop-by-hop header (router alert).
ip netns exec "$a" python3 - <<'PY'
import socket, struct
s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
s.sendto(b"x" * 17, ("2001:db8::2", 9))
q = struct.pack("!HHHHHH", 0x1234, 0x0100, 1, 0, 0, 0) + b"\x04host\x07example\x04test\x00" + struct.pack("!HH", 28, 1)
s.sendto(q, ("2001:db8::2", 53))
# IPV6_DSTOPTS = 59, IPV6_HOPOPTS = 54: a PadN(4) destination option header, and a router-alert hop-by-hop header.
s.setsockopt(socket.IPPROTO_IPV6, 59, bytes([0, 0, 1, 4, 0, 0, 0, 0]))
s.sendto(b"dstopt", ("2001:db8::2", 9))
s.setsockopt(socket.IPPROTO_IPV6, 59, b"")
s.setsockopt(socket.IPPROTO_IPV6, 54, bytes([0, 0, 5, 2, 0, 0, 1, 0]))
s.sendto(b"hopopt", ("2001:db8::2", 9))
t = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
t.settimeout(2)
try: t.connect(("2001:db8::2", 81))
except OSError: pass
PY
sleep 1
kill "$dump"; wait "$dump" 2>/dev/null || true
