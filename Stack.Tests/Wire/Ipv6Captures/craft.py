#!/usr/bin/env python3
"""Writes crafted-ipv6.pcap: IPv6 messages the kernel capture lacks (router advertisement with every option a host reads,
redirect, MLDv2 and MLDv1 queries, MLDv1 report and done, packet too big, time exceeded, parameter problem, routing and
fragment headers), built field by field here, independently of the stack's writers, and checked with tshark."""
import ipaddress, struct, sys

def a(text): return ipaddress.IPv6Address(text).packed
def csum(data):
    if len(data) % 2: data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16: s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF
def icmp6(src, dst, msg):
    pseudo = a(src) + a(dst) + struct.pack("!I3xB", len(msg), 58)
    c = csum(pseudo + msg)
    return msg[:2] + struct.pack("!H", c) + msg[4:]
def ip6(src, dst, nh, payload, hlim=255, tc=0, flow=0):
    return struct.pack("!IHBB", 6 << 28 | tc << 20 | flow, len(payload), nh, hlim) + a(src) + a(dst) + payload
def eth(dst, src, payload): return bytes.fromhex(dst.replace(":", "")) + bytes.fromhex(src.replace(":", "")) + b"\x86\xdd" + payload
R, H = "fe80::1", "fe80::ff:fe00:2"
RMAC, HMAC = "02:00:00:00:00:0a", "02:00:00:00:00:02"
frames = []
# 1. Router advertisement: hop limit 64, M=0 O=1, lifetime 1800, reachable 30000 ms, retrans 1000 ms; SLLA, MTU 1480,
#    prefix 2001:db8:1::/64 L A valid 86400 preferred 14400, RDNSS 2001:db8:1::53 lifetime 600, DNSSL example.test lifetime 600.
opts = bytes([1, 1]) + bytes.fromhex(RMAC.replace(":", ""))
opts += struct.pack("!BBHI", 5, 1, 0, 1480)
opts += struct.pack("!BBBBIII", 3, 4, 64, 0xC0, 86400, 14400, 0) + a("2001:db8:1::")
opts += struct.pack("!BBHI", 25, 3, 0, 600) + a("2001:db8:1::53")
names = b"\x07example\x04test\x00"
names += b"\0" * (-(8 + len(names)) % 8)
opts += struct.pack("!BBHI", 31, (8 + len(names)) // 8, 0, 600) + names
ra = struct.pack("!BBHBBHII", 134, 0, 0, 64, 0x40, 1800, 30000, 1000) + opts
frames.append(eth("33:33:00:00:00:01", RMAC, ip6(R, "ff02::1", 58, icmp6(R, "ff02::1", ra))))
# 2. Redirect: target fe80::2, destination 2001:db8:2::7, TLLA.
rd = struct.pack("!BBHI", 137, 0, 0, 0) + a("fe80::2") + a("2001:db8:2::7") + bytes([2, 1]) + bytes.fromhex("020000000014")
frames.append(eth(HMAC, RMAC, ip6(R, H, 58, icmp6(R, H, rd))))
# 3. MLDv2 general query: max response 10000 ms, S=0 QRV 2 QQIC 125, no sources; with a router-alert hop-by-hop header.
hbh = bytes([58, 0, 5, 2, 0, 0, 1, 0])
q2 = struct.pack("!BBHHH", 130, 0, 0, 10000, 0) + a("::") + struct.pack("!BBH", 0x02, 125, 0)
frames.append(eth("33:33:00:00:00:01", RMAC, ip6(R, "ff02::1", 0, hbh + icmp6(R, "ff02::1", q2), hlim=1)))
# 4. MLDv2 group-and-source-specific query for ff05::1:3 from 2001:db8::9, max response code 0x8a00 (exponential form).
q2s = struct.pack("!BBHHH", 130, 0, 0, 0x8A00, 0) + a("ff05::1:3") + struct.pack("!BBH", 0x0A, 0x90, 1) + a("2001:db8::9")
frames.append(eth("33:33:00:01:00:03", RMAC, ip6(R, "ff05::1:3", 0, hbh + icmp6(R, "ff05::1:3", q2s), hlim=1)))
# 5-7. MLDv1 query (24 bytes, max delay 10000), report and done for ff02::1:ff00:2.
q1 = struct.pack("!BBHHH", 130, 0, 0, 10000, 0) + a("::")
frames.append(eth("33:33:00:00:00:01", RMAC, ip6(R, "ff02::1", 0, hbh + icmp6(R, "ff02::1", q1), hlim=1)))
g = "ff02::1:ff00:2"
r1 = struct.pack("!BBHHH", 131, 0, 0, 0, 0) + a(g)
frames.append(eth("33:33:ff:00:00:02", HMAC, ip6(H, g, 0, hbh + icmp6(H, g, r1), hlim=1)))
d1 = struct.pack("!BBHHH", 132, 0, 0, 0, 0) + a(g)
frames.append(eth("33:33:00:00:00:02", HMAC, ip6(H, "ff02::2", 0, hbh + icmp6(H, "ff02::2", d1), hlim=1)))
# 8. Packet too big, MTU 1280, quoting a UDP datagram 2001:db8::2.5000 > 2001:db8:2::7.53 (the quote cut short).
inner_udp = struct.pack("!HHHH", 5000, 53, 1400, 0x1234) + b"q" * 64
inner = ip6("2001:db8::2", "2001:db8:2::7", 17, inner_udp, hlim=64)
inner = inner[:4] + struct.pack("!H", 1400) + inner[6:]
ptb = struct.pack("!BBHI", 2, 0, 0, 1280) + inner
frames.append(eth(HMAC, RMAC, ip6("2001:db8::1", "2001:db8::2", 58, icmp6("2001:db8::1", "2001:db8::2", ptb), hlim=64)))
# 9. Time exceeded (hop limit, code 0) quoting an echo request.
echo = struct.pack("!BBHHH", 128, 0, 0, 7, 1) + b"ping"
echo = icmp6("2001:db8::2", "2001:db8:2::7", echo)
te = struct.pack("!BBHI", 3, 0, 0, 0) + ip6("2001:db8::2", "2001:db8:2::7", 58, echo, hlim=1)
frames.append(eth(HMAC, RMAC, ip6("2001:db8::1", "2001:db8::2", 58, icmp6("2001:db8::1", "2001:db8::2", te), hlim=64)))
# 10. Parameter problem code 2 (unrecognised option) pointer 42, quoting a packet with a destination option 0x87.
dst = bytes([17, 0, 0x87, 2, 0, 0, 1, 0])
quoted = ip6("2001:db8::2", "2001:db8::1", 60, dst + struct.pack("!HHHH", 6000, 7, 8, 0), hlim=64)
pp = struct.pack("!BBHI", 4, 2, 0, 42) + quoted
frames.append(eth(HMAC, RMAC, ip6("2001:db8::1", "2001:db8::2", 58, icmp6("2001:db8::1", "2001:db8::2", pp), hlim=64)))
# 11. A UDP datagram behind a routing header of type 253 (experimental, RFC 4727) with segments left 0, then a destination options header.
udp = struct.pack("!HHHH", 7000, 7, 12, 0) + b"rout"
rt = bytes([60, 2, 253, 0, 0, 0, 0, 0]) + a("2001:db8::99")
do = bytes([17, 0, 1, 4, 0, 0, 0, 0])
pseudo = a("2001:db8::1") + a("2001:db8::2") + struct.pack("!I3xB", len(udp), 17)
udp = udp[:6] + struct.pack("!H", csum(pseudo + udp) or 0xFFFF) + udp[8:]
frames.append(eth(HMAC, RMAC, ip6("2001:db8::1", "2001:db8::2", 43, rt + do + udp, hlim=64)))
# 12. An atomic fragment (offset 0, M clear, RFC 6946) carrying a whole echo reply.
echo = icmp6("2001:db8::1", "2001:db8::2", struct.pack("!BBHHH", 129, 0, 0, 9, 3) + b"atomic!!")
frag = struct.pack("!BBHI", 58, 0, 0, 0xCAFE)
frames.append(eth(HMAC, RMAC, ip6("2001:db8::1", "2001:db8::2", 44, frag + echo, hlim=64)))
# 13. A TCP SYN over IPv6 with a flow label and traffic class.
syn = struct.pack("!HHIIBBHHH", 40000, 80, 1000, 0, 0x60, 0x02, 65535, 0, 0) + struct.pack("!BBH", 2, 4, 1440)
pseudo = a("2001:db8::2") + a("2001:db8::1") + struct.pack("!I3xB", len(syn), 6)
syn = syn[:16] + struct.pack("!H", csum(pseudo + syn)) + syn[18:]
frames.append(eth(RMAC, HMAC, ip6("2001:db8::2", "2001:db8::1", 6, syn, hlim=64, tc=0xb8, flow=0x12345)))

with open(sys.argv[1] if len(sys.argv) > 1 else "crafted-ipv6.pcap", "wb") as f:
    f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
    for i, fr in enumerate(frames):
        f.write(struct.pack("<IIII", 1_700_000_000 + i, 0, len(fr), len(fr)) + fr)
