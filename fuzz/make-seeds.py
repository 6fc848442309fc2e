#!/usr/bin/python3
"""Writes the small hand-made seed corpus in fuzz/corpus (run once; the files are committed). Needs python3-scapy."""
import os
import struct
from scapy.all import ARP, BOOTP, DHCP, DNS, DNSQR, DNSRR, Ether, ICMP, IP, IPOption_Router_Alert, TCP, UDP, Raw, fragment

here = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")
S, P = "192.0.2.2", "192.0.2.1"
SM, PM = "02:00:00:00:00:02", "02:00:00:00:00:01"


def put(target, name, data):
    os.makedirs(os.path.join(here, target), exist_ok=True)
    with open(os.path.join(here, target, name), "wb") as f:
        f.write(bytes(data))


def e(p):
    return Ether(src=PM, dst=SM) / p


frames = {
    "arp-request": Ether(src=PM, dst="ff:ff:ff:ff:ff:ff") / ARP(op=1, hwsrc=PM, psrc=P, pdst=S),
    "arp-reply": Ether(src=PM, dst=SM) / ARP(op=2, hwsrc=PM, psrc=P, hwdst=SM, pdst=S),
    "icmp-echo": e(IP(src=P, dst=S) / ICMP(id=1, seq=1) / (b"x" * 56)),
    "udp-echo": e(IP(src=P, dst=S) / UDP(sport=4000, dport=7) / b"hello"),
    "udp-closed-port": e(IP(src=P, dst=S) / UDP(sport=4000, dport=9999) / b"hello"),
    "tcp-syn": e(IP(src=P, dst=S) / TCP(sport=40000, dport=80, flags="S", seq=1000, options=[("MSS", 1460), ("SAckOK", b""), ("Timestamp", (1, 0)), ("NOP", None), ("WScale", 7)])),
    "tcp-synack-for-connect": e(IP(src=P, dst=S) / TCP(sport=5001, dport=49152, flags="SA", seq=5000, ack=1, options=[("MSS", 1460)])),
    "tcp-rst": e(IP(src=P, dst=S) / TCP(sport=5001, dport=49152, flags="R", seq=5001)),
    "icmp-frag-needed": e(IP(src=P, dst=S) / ICMP(type=3, code=4, nexthopmtu=576) / IP(src=S, dst=P) / TCP(sport=49152, dport=5001, flags="S", seq=1)),
}
for name, f in frames.items():
    put("receive", name, f)
frags = [e(x) for x in fragment(IP(src=P, dst=S) / UDP(sport=4000, dport=7) / (b"F" * 3000), fragsize=1480)]
for i, f in enumerate(frags):
    put("receive", f"fragment-{i}", f)


def seq(*fs):
    out = b""
    for f in fs:
        b = bytes(f)
        out += struct.pack("!H", len(b)) + b
    return out


put("stateful", "fragments", seq(*frags))
put("stateful", "fragments-reversed", seq(*reversed(frags)))
put("stateful", "syn-then-data", seq(frames["tcp-syn"], e(IP(src=P, dst=S) / TCP(sport=40000, dport=80, flags="PA", seq=1001, ack=1) / b"GET / HTTP/1.0\r\n\r\n")))
put("stateful", "connect-answered", seq(frames["tcp-synack-for-connect"], e(IP(src=P, dst=S) / TCP(sport=5001, dport=49152, flags="A", seq=5001, ack=1001, window=0))))
put("stateful", "arp-then-ping", seq(frames["arp-reply"], frames["icmp-echo"]))


# IGMP (issue 17): the stack is in 239.1.2.3 (FuzzTargets joins it); queries of each version, another member's report.
def igmp(msg):
    msg = bytearray(msg)
    msg[2:4] = b"\0\0"
    total = sum(struct.unpack("!%dH" % (len(msg) // 2), bytes(msg))) if len(msg) % 2 == 0 else 0
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    msg[2:4] = struct.pack("!H", ~total & 0xFFFF)
    return bytes(msg)


def igmp_frame(src, dst, msg):
    mac = "01:00:5e:%02x:%02x:%02x" % (int(dst.split(".")[1]) & 0x7F, int(dst.split(".")[2]), int(dst.split(".")[3]))
    return Ether(src=PM, dst=mac) / IP(src=src, dst=dst, ttl=1, proto=2, options=[IPOption_Router_Alert()]) / Raw(igmp(msg))


G = bytes([239, 1, 2, 3])
igmp_frames = {
    "igmp-v3-general-query": igmp_frame("0.0.0.0", "224.0.0.1", b"\x11\x64\0\0" + bytes(4) + b"\x02\x7d\0\0"),
    "igmp-v3-exponential-code": igmp_frame(P, "239.1.2.3", b"\x11\xff\0\0" + G + b"\x02\x7d\0\x01" + bytes([192, 0, 2, 9])),
    "igmp-v2-group-query": igmp_frame(P, "239.1.2.3", b"\x11\x0a\0\0" + G),
    "igmp-v1-query": igmp_frame(P, "224.0.0.1", b"\x11\0\0\0" + bytes(4)),
    "igmp-v2-report-other-member": igmp_frame(P, "239.1.2.3", b"\x16\0\0\0" + G),
}
for name, f in igmp_frames.items():
    put("receive", name, f)
put("stateful", "igmp-v2-query-then-other-report", seq(igmp_frames["igmp-v2-group-query"], igmp_frames["igmp-v2-report-other-member"], igmp_frames["igmp-v3-general-query"]))

q = DNSQR(qname="www.example.test", qtype="A")
put("dns", "query", DNS(id=1, rd=1, qd=q))
put("dns", "answer-a-cname", DNS(id=1, qr=1, rd=1, ra=1, qd=q, an=DNSRR(rrname="www.example.test", type="CNAME", rdata="web.example.test") / DNSRR(rrname="web.example.test", type="A", rdata="192.0.2.7")))
put("dns", "answer-mx-txt", DNS(id=2, qr=1, qd=DNSQR(qname="example.test", qtype="MX"), an=DNSRR(rrname="example.test", type="MX", rdata=b"\x00\x0a\x04mail\xc0\x0c") / DNSRR(rrname="example.test", type="TXT", rdata=["v=spf1 -all", "x"])))
put("dns", "nxdomain-soa", DNS(id=3, qr=1, rcode=3, qd=q, ns=DNSRR(rrname="example.test", type="SOA", rdata=b"\x02ns\xc0\x0c\x04host\xc0\x0c" + struct.pack("!5I", 1, 2, 3, 4, 5))))
put("dns", "compression-loop", b"\x00\x04\x81\x80\x00\x01\x00\x01\x00\x00\x00\x00\xc0\x0c\x00\x01\x00\x01\xc0\x0c\x00\x01\x00\x01\x00\x00\x00\x3c\x00\x04\xc0\x00\x02\x07")

mac = bytes.fromhex("020000000002")
base = BOOTP(op=2, xid=0x12345678, yiaddr="192.0.2.50", siaddr="192.0.2.1", chaddr=mac + b"\0" * 10)
put("dhcp", "offer", base / DHCP(options=[("message-type", "offer"), ("server_id", "192.0.2.1"), ("lease_time", 600), ("subnet_mask", "255.255.255.0"), ("router", "192.0.2.1"), ("name_server", "192.0.2.1", "192.0.2.9"), "end"]))
put("dhcp", "ack", base / DHCP(options=[("message-type", "ack"), ("server_id", "192.0.2.1"), ("lease_time", 600), ("renewal_time", 300), ("rebinding_time", 525), ("interface-mtu", 1400), ("hostname", b"pico"), "end"]))
put("dhcp", "overload", BOOTP(op=2, xid=1, chaddr=mac + b"\0" * 10, sname=b"\x35\x01\x02\xff", file=b"\xff") / DHCP(options=[("message-type", "offer"), (52, b"\x03"), "end"]))

put("tcp-options", "syn-all", b"\x02\x04\x05\xb4\x04\x02\x08\x0a\x00\x00\x00\x01\x00\x00\x00\x00\x01\x03\x03\x07")
put("tcp-options", "sack-blocks", b"\x01\x01\x05\x12" + struct.pack("!4I", 1, 2, 3, 4) + b"\x00\x00\x00\x05\x00\x00\x00\x06")
put("tcp-options", "length-zero", b"\x02\x00\x05\xb4")
put("tcp-options", "length-one", b"\x03\x01\x07\x00")
put("tcp-options", "overlong", b"\x02\x28\x05\xb4")
put("tcp-options", "eol-then-junk", b"\x00\xff\xff\xff")

# NTP (issue 17): replies to the SNTP client; an origin of zero is replaced by the request's nonce in the target.
ntp_ts = struct.pack("!II", 0xED000000, 0x80000000)
def ntp(flags=0x24, stratum=2, refid=b"\xc0\x00\x02\x01", origin=b"\0" * 8, transmit=ntp_ts, extra=b""):
    return bytes([flags, stratum, 6, 0xEC]) + b"\0" * 8 + refid + ntp_ts + origin + ntp_ts + transmit + extra
put("ntp", "reply", ntp())
put("ntp", "kod-rate", ntp(stratum=0, refid=b"RATE"))
put("ntp", "kod-deny", ntp(stratum=0, refid=b"DENY"))
put("ntp", "unsynchronised", ntp(flags=0xE4))
put("ntp", "client-mode", ntp(flags=0x23))
put("ntp", "zero-transmit", ntp(transmit=b"\0" * 8))
put("ntp", "with-mac", ntp(extra=b"\0\0\0\x01" + b"\xaa" * 16))
put("ntp", "short", ntp()[:20])

# IPv6 (issue 14): the fuzz stack is dual-stack, fe80::ff:fe00:2 (EUI-64 of SM) and 2001:db8::2, peer fe80::1.
from scapy.all import (IPv6, ICMPv6EchoRequest, ICMPv6ND_NS, ICMPv6ND_NA, ICMPv6ND_RA, ICMPv6NDOptSrcLLAddr, ICMPv6NDOptDstLLAddr,
                       ICMPv6NDOptPrefixInfo, ICMPv6NDOptMTU, ICMPv6NDOptRDNSS, ICMPv6NDOptDNSSL, ICMPv6PacketTooBig, ICMPv6MLQuery2,
                       IPv6ExtHdrFragment, IPv6ExtHdrRouting, IPv6ExtHdrDestOpt, IPv6ExtHdrHopByHop, RouterAlert, PadN, fragment6)
S6, G6, P6 = "fe80::ff:fe00:2", "2001:db8::2", "fe80::1"
SN = "ff02::1:ff00:2"
v6 = {
    "ipv6-echo-link-local": e(IPv6(src=P6, dst=S6) / ICMPv6EchoRequest(id=1, seq=1, data=b"x" * 56)),
    "ipv6-echo-global": e(IPv6(src="2001:db8::1", dst=G6) / ICMPv6EchoRequest(id=1, seq=2, data=b"y" * 56)),
    "ipv6-ns-for-us": Ether(src=PM, dst="33:33:ff:00:00:02") / IPv6(src=P6, dst=SN, hlim=255) / ICMPv6ND_NS(tgt=S6) / ICMPv6NDOptSrcLLAddr(lladdr=PM),
    "ipv6-dad-probe-for-us": Ether(src=PM, dst="33:33:ff:00:00:02") / IPv6(src="::", dst=SN, hlim=255) / ICMPv6ND_NS(tgt=G6),
    "ipv6-na-for-peer": e(IPv6(src=P6, dst=S6, hlim=255) / ICMPv6ND_NA(tgt=P6, R=0, S=1, O=1) / ICMPv6NDOptDstLLAddr(lladdr=PM)),
    "ipv6-ra-prefix-mtu-rdnss": Ether(src=PM, dst="33:33:00:00:00:01") / IPv6(src=P6, dst="ff02::1", hlim=255) / ICMPv6ND_RA(routerlifetime=1800)
        / ICMPv6NDOptSrcLLAddr(lladdr=PM) / ICMPv6NDOptMTU(mtu=1400) / ICMPv6NDOptPrefixInfo(prefix="2001:db8:1::", prefixlen=64, validlifetime=600, preferredlifetime=300)
        / ICMPv6NDOptRDNSS(dns=["2001:db8:1::53"], lifetime=600) / ICMPv6NDOptDNSSL(searchlist=["example.test."], lifetime=600),
    "ipv6-udp-echo": e(IPv6(src=P6, dst=S6) / UDP(sport=4000, dport=7) / b"hello6"),
    "ipv6-udp-closed-port": e(IPv6(src=P6, dst=S6) / UDP(sport=4000, dport=9999) / b"hello6"),
    "ipv6-tcp-syn": e(IPv6(src=P6, dst=S6) / TCP(sport=40000, dport=80, flags="S", seq=1000, options=[("MSS", 1440), ("SAckOK", b""), ("Timestamp", (1, 0)), ("NOP", None), ("WScale", 7)])),
    "ipv6-packet-too-big": e(IPv6(src=P6, dst=S6) / ICMPv6PacketTooBig(mtu=1280) / IPv6(src=S6, dst=P6) / TCP(sport=49153, dport=5001, flags="S", seq=1)),
    "ipv6-mld-query": Ether(src=PM, dst="33:33:00:00:00:01") / IPv6(src=P6, dst="ff02::1", hlim=1) / IPv6ExtHdrHopByHop(options=[RouterAlert(value=0)]) / ICMPv6MLQuery2(mrd=1000),
    "ipv6-routing-type0": e(IPv6(src=P6, dst=S6) / IPv6ExtHdrRouting(type=0, segleft=1, addresses=["2001:db8::99"]) / ICMPv6EchoRequest()),
    "ipv6-destopts-chain": e(IPv6(src=P6, dst=S6) / IPv6ExtHdrDestOpt(options=[PadN(optdata=b"\0\0\0\0")]) / IPv6ExtHdrDestOpt(options=[PadN(optdata=b"\0\0\0\0")]) / ICMPv6EchoRequest()),
}
for name, f in v6.items():
    put("receive", name, f)
frags6 = [e(x) for x in fragment6(IPv6(src=P6, dst=S6) / IPv6ExtHdrFragment(id=7) / UDP(sport=4000, dport=7) / (b"G" * 3000), 1280)]
for i, f in enumerate(frags6):
    put("receive", f"ipv6-fragment-{i}", f)
put("stateful", "ipv6-fragments-reversed", seq(*reversed(frags6)))
put("stateful", "ipv6-ra-then-echo-to-slaac", seq(v6["ipv6-ra-prefix-mtu-rdnss"], e(IPv6(src=P6, dst="2001:db8:1::ff:fe00:2") / ICMPv6EchoRequest(id=1, seq=1))))
put("stateful", "ipv6-syn-then-data", seq(v6["ipv6-tcp-syn"], e(IPv6(src=P6, dst=S6) / TCP(sport=40000, dport=80, flags="PA", seq=1001, ack=1) / b"GET / HTTP/1.0\r\n\r\n")))

# Real frames: every IPv6 frame of Stack.Tests/Wire/Ipv6Captures/kernel-ipv6.pcap (Linux's own ND, MLD, echo, fragments).
from scapy.all import rdpcap
captures = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Stack.Tests", "Wire", "Ipv6Captures", "kernel-ipv6.pcap")
for i, f in enumerate(rdpcap(captures)):
    put("receive", f"ipv6-kernel-{i + 1:02d}", bytes(f))

# mdns: messages as a u16 length, a flags byte (1: from an ordinary port; 2: unicast to the responder) and the message.
def mdns(*messages):
    out = b""
    for flags, m in messages:
        m = bytes(m)
        out += struct.pack("!HB", len(m), flags) + m
    return out


mq = DNS(id=0, qd=DNSQR(qname="PicoW.local", qtype="A"))
put("mdns", "query-a", mdns((0, mq)))
put("mdns", "qu-any-and-legacy", mdns((0, DNS(id=0, qd=DNSQR(qname="PicoW.local", qtype="ALL", qclass=0x8001))), (1, DNS(id=7, qd=DNSQR(qname="web._http._tcp.local", qtype="SRV")))))
put("mdns", "known-answer", mdns((0, DNS(id=0, qd=DNSQR(qname="_http._tcp.local", qtype="PTR"), an=DNSRR(rrname="_http._tcp.local", type="PTR", ttl=4500, rdata="web._http._tcp.local")))))
put("mdns", "probe-tiebreak", mdns((0, DNS(id=0, qd=DNSQR(qname="PicoW.local", qtype="ALL"), ns=DNSRR(rrname="PicoW.local", type="A", ttl=120, rdata="192.0.2.200")))))
put("mdns", "conflict-and-browse-answer", mdns(
    (0, DNS(id=0, qr=1, aa=1, an=DNSRR(rrname="PicoW.local", type="A", rclass=0x8001, ttl=120, rdata="192.0.2.99"))),
    (0, DNS(id=0, qr=1, aa=1, an=DNSRR(rrname="_http._tcp.local", type="PTR", ttl=4500, rdata="other._http._tcp.local"),
            ar=DNSRR(rrname="other._http._tcp.local", type="TXT", rclass=0x8001, ttl=4500, rdata=["a=b"])
            / DNSRR(rrname="other._http._tcp.local", type="SRV", rclass=0x8001, ttl=120, rdata=b"\x00\x00\x00\x00\x1f\x90\x05other\x05local\x00")
            / DNSRR(rrname="other.local", type="A", rclass=0x8001, ttl=120, rdata="192.0.2.1")))))
put("mdns", "reverse-unicast", mdns((2, DNS(id=0, qd=DNSQR(qname="2.2.0.192.in-addr.arpa", qtype="PTR")))))
