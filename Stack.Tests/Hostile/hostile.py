#!/usr/bin/python3
"""Hostile traffic for the stack under test (issue 8, item 3).

Run inside the test's namespace: hostile.py CASE [STACK_IP] [IFACE]. Frames are crafted with scapy and sent as
prebuilt bytes through one AF_PACKET socket (much faster than scapy's per-packet send). Cases that aim at an open
connection open one themselves (a kernel socket to the stack's echo port), learn its sequence numbers by sniffing,
attack it, and then check it still echoes: they exit 1 with a message when it did not survive.
Prints one line "sent N" (frames sent) on success.
"""
import os
import random
import socket
import struct
import sys
import threading
import time

try:
    from scapy.all import ARP, DNS, DNSQR, DNSRR, Ether, ICMP, IP, TCP, UDP, BOOTP, DHCP, Raw, fragment, conf  # noqa: F401
except ImportError:
    print("hostile.py needs scapy (Debian package python3-scapy)", file=sys.stderr)
    sys.exit(2)

conf.verb = 0
CASE = sys.argv[1]
STACK = sys.argv[2] if len(sys.argv) > 2 else "192.0.2.2"
IFACE = sys.argv[3] if len(sys.argv) > 3 else "tap0"
HOST = "192.0.2.1"          # the kernel's address on the TAP (the stack's gateway)
rng = random.Random(8)


def mac_of_iface(name):
    with open(f"/sys/class/net/{name}/address") as f:
        return f.read().strip()


def stack_mac():
    # The kernel has talked to the stack (the test pinged it first), so its neighbour table knows the MAC.
    for line in os.popen(f"ip neigh show {STACK} dev {IFACE}").read().splitlines():
        parts = line.split()
        if "lladdr" in parts:
            return parts[parts.index("lladdr") + 1]
    os.system(f"ping -c 1 -W 1 {STACK} >/dev/null")
    for line in os.popen(f"ip neigh show {STACK} dev {IFACE}").read().splitlines():
        parts = line.split()
        if "lladdr" in parts:
            return parts[parts.index("lladdr") + 1]
    fail(f"no neighbour entry for {STACK}")


def fail(message):
    print(message, file=sys.stderr)
    sys.exit(1)


def dns_wrong_id_server():
    """A DNS server on 198.51.100.1:53 that answers each query first with many answers carrying wrong IDs (and a
    wrong address, 198.51.100.66), then with the right one (198.51.100.7). Runs for HOSTILE_SECONDS."""
    n = int(os.environ.get("HOSTILE_DNS_LIES", "2000"))
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 * 1024 * 1024)
    s.bind(("198.51.100.1", 53))
    s.settimeout(0.5)
    deadline = time.time() + float(os.environ.get("HOSTILE_SECONDS", "20"))
    print("listening", flush=True)
    lies = 0
    while time.time() < deadline:
        try:
            data, peer = s.recvfrom(2048)
        except socket.timeout:
            continue
        q = DNS(data)
        lie = bytearray(bytes(DNS(id=0, qr=1, aa=1, rd=1, ra=1, qd=q.qd, an=DNSRR(rrname=q.qd.qname, type="A", ttl=60, rdata="198.51.100.66"))))
        for i in range(n):
            struct.pack_into("!H", lie, 0, (q.id + 1 + i) & 0xFFFF or 1)
            if (q.id + 1 + i) & 0xFFFF == q.id:
                continue
            s.sendto(bytes(lie), peer)
            lies += 1
            if i % 200 == 199:
                time.sleep(0.002)
        time.sleep(0.05)
        s.sendto(bytes(DNS(id=q.id, qr=1, aa=1, rd=1, ra=1, qd=q.qd, an=DNSRR(rrname=q.qd.qname, type="A", ttl=60, rdata="198.51.100.7"))), peer)
    print(f"sent {lies}")


def dhcp_wrong_xid_server():
    """A DHCP server on IFACE that answers every DISCOVER with many OFFERs whose xid is wrong. Runs for HOSTILE_SECONDS."""
    from scapy.all import sendp
    n = int(os.environ.get("HOSTILE_DHCP_LIES", "200"))
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, IFACE.encode())
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("", 67))
    s.settimeout(0.5)
    out = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    out.bind((IFACE, 0))
    mine = mac_of_iface(IFACE)
    deadline = time.time() + float(os.environ.get("HOSTILE_SECONDS", "6"))
    print("listening", flush=True)
    lies = 0
    while time.time() < deadline:
        try:
            data, _ = s.recvfrom(2048)
        except socket.timeout:
            continue
        if len(data) < 240 or data[0] != 1:
            continue
        xid = struct.unpack("!I", data[4:8])[0]
        chaddr = data[28:34]
        for i in range(n):
            offer = (Ether(src=mine, dst="ff:ff:ff:ff:ff:ff") / IP(src="198.51.100.1", dst="255.255.255.255") / UDP(sport=67, dport=68)
                     / BOOTP(op=2, xid=(xid + 1 + i) & 0xFFFFFFFF, yiaddr="198.51.100.50", siaddr="198.51.100.1", chaddr=chaddr + b"\0" * 10, flags=0x8000)
                     / DHCP(options=[("message-type", "offer"), ("server_id", "198.51.100.1"), ("lease_time", 600),
                                     ("subnet_mask", "255.255.255.0"), ("router", "198.51.100.1"), "end"]))
            out.send(bytes(offer))
            lies += 1
    print(f"sent {lies}")


if CASE == "dns-wrong-id-server":
    dns_wrong_id_server()
    sys.exit(0)
if CASE == "dhcp-wrong-xid-server":
    dhcp_wrong_xid_server()
    sys.exit(0)

MY_MAC = mac_of_iface(IFACE)
SMAC = stack_mac()
raw = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
raw.bind((IFACE, 0))
raw.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 * 1024 * 1024)
sent = 0


def eth(payload, src=None):
    return Ether(src=src or MY_MAC, dst=SMAC) / payload


def send(frames, pace=0):
    """Sends prebuilt frames (scapy packets or bytes); pace = frames between short sleeps (lets the TAP queue drain)."""
    global sent
    for i, f in enumerate(frames):
        data = f if isinstance(f, (bytes, bytearray)) else bytes(f)
        for _ in range(200):
            try:
                raw.send(data)
                break
            except (BlockingIOError, OSError) as e:
                if getattr(e, "errno", None) not in (105, 11):   # ENOBUFS, EAGAIN: the TAP queue is full
                    raise
                time.sleep(0.001)
        sent += 1
        if pace and i % pace == pace - 1:
            time.sleep(0.002)


def with_bad_ip_checksum(pkt):
    b = bytearray(bytes(pkt))
    b[24] ^= 0x5A
    return bytes(b)


def ip_bytes(ver_ihl=None, total=None, proto=1, payload=b"\x08\x00\xf7\xff\x00\x00\x00\x00"):
    """An IPv4 header built by hand (so lengths can lie), with a correct header checksum."""
    ihl = 5
    vi = ver_ihl if ver_ihl is not None else 0x45
    tl = total if total is not None else 20 + len(payload)
    h = bytearray(struct.pack("!BBHHHBBH4s4s", vi, 0, tl & 0xFFFF, 1, 0, 64, proto, 0, socket.inet_aton(HOST), socket.inet_aton(STACK)))
    s = sum(struct.unpack("!10H", bytes(h)))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    struct.pack_into("!H", h, 10, ~s & 0xFFFF)
    return bytes(h) + payload * (1 if ihl else 0)


def l2(ip_payload):
    return bytes(Ether(src=MY_MAC, dst=SMAC, type=0x0800)) + ip_payload


# ---- an open connection to attack (cases aimed at a connection) ----

class Victim:
    """A kernel TCP connection to the stack's echo service, with the numbers needed to forge segments in it."""

    def __init__(self):
        from scapy.all import AsyncSniffer
        self.sock = socket.create_connection((STACK, 7), timeout=5)
        self.sport = self.sock.getsockname()[1]
        sniffer = AsyncSniffer(iface=IFACE, filter=f"tcp and src host {STACK} and dst port {self.sport}", count=1, timeout=5)
        sniffer.start()
        time.sleep(0.3)
        self.echo(b"hello" * 200)
        sniffer.join()
        if not sniffer.results:
            fail("could not see the stack's segments on the victim connection")
        seg = sniffer.results[0][TCP]
        self.stack_seq = seg.seq + len(bytes(seg.payload))  # the stack's SND.NXT after its echo
        self.my_seq = seg.ack                                 # the stack's RCV.NXT
        self.window = seg.window

    def echo(self, data):
        self.sock.sendall(data)
        got = b""
        while len(got) < len(data):
            chunk = self.sock.recv(65536)
            if not chunk:
                fail("the victim connection was closed by the stack")
            got += chunk
        if got != data:
            fail("the victim connection echoed different bytes")

    def forge(self, flags, seq_delta=0, ack=None, payload=b"", seq=None, **kw):
        return eth(IP(src=HOST, dst=STACK) / TCP(sport=self.sport, dport=7, flags=flags,
                                                 seq=(seq if seq is not None else self.my_seq + seq_delta) & 0xFFFFFFFF,
                                                 ack=(ack if ack is not None else self.stack_seq) & 0xFFFFFFFF,
                                                 window=65535, **kw) / payload)

    def check_undisturbed(self):
        time.sleep(0.2)
        try:
            for i in range(5):
                self.echo(bytes((i + j) % 256 for j in range(3000)))
        except (ConnectionResetError, BrokenPipeError, socket.timeout) as e:
            fail(f"the victim connection did not survive: {e!r}")
        self.sock.close()


def syn(sport, src=HOST, flags="S", **kw):
    return eth(IP(src=src, dst=STACK) / TCP(sport=sport, dport=80, flags=flags, seq=rng.randrange(1 << 32), window=64240, **kw))


def run():
    c = CASE
    # ---- Ethernet and IPv4 header lengths and checksums ----
    if c == "eth-runt":
        send([bytes(Ether(src=MY_MAC, dst=SMAC, type=0x0800))[:14] + b"\x45"] * 50)
    elif c == "ip-bad-version":
        send([l2(ip_bytes(ver_ihl=0x65))] * 50)
    elif c == "ip-ihl-too-small":
        send([l2(ip_bytes(ver_ihl=0x43))] * 50)
    elif c == "ip-ihl-beyond-packet":
        send([l2(ip_bytes(ver_ihl=0x4F, total=28))] * 50)
    elif c == "ip-total-length-beyond-frame":
        send([l2(ip_bytes(total=1400))] * 50)
    elif c == "ip-total-length-below-header":
        send([l2(ip_bytes(total=12))] * 50)
    elif c == "ip-bad-checksum":
        send([with_bad_ip_checksum(eth(IP(src=HOST, dst=STACK) / ICMP(id=9, seq=i))) for i in range(50)])
    # ---- ICMP, UDP, TCP header lengths and checksums ----
    elif c == "icmp-truncated":
        send([l2(ip_bytes(proto=1, payload=b"\x08\x00\xf7"))] * 50)
    elif c == "icmp-bad-checksum":
        send([eth(IP(src=HOST, dst=STACK) / ICMP(id=9, seq=i, chksum=0x1234)) for i in range(50)])
    elif c == "udp-length-too-small":
        send([eth(IP(src=HOST, dst=STACK) / UDP(sport=5000, dport=7, len=4) / b"abcdef")] * 50)
    elif c == "udp-length-beyond-packet":
        send([eth(IP(src=HOST, dst=STACK) / UDP(sport=5000, dport=7, len=400) / b"abcdef")] * 50)
    elif c == "udp-bad-checksum":
        send([eth(IP(src=HOST, dst=STACK) / UDP(sport=5000, dport=7, chksum=0x1234) / b"abcdef")] * 50)
    elif c == "tcp-data-offset-too-small":
        send([eth(IP(src=HOST, dst=STACK) / TCP(sport=40000 + i, dport=80, flags="S", dataofs=3)) for i in range(50)])
    elif c == "tcp-data-offset-beyond-segment":
        send([eth(IP(src=HOST, dst=STACK) / TCP(sport=40000 + i, dport=80, flags="S", dataofs=15)) for i in range(50)])
    elif c == "tcp-truncated-header":
        send([l2(ip_bytes(proto=6, payload=b"\x9c\x40\x00\x50\x00\x00"))] * 50)
    elif c == "tcp-bad-checksum":
        send([syn(41000 + i, chksum=0x1234) for i in range(50)])
    # ---- TCP options ----
    elif c == "tcp-option-length-zero":
        send([forge_options(42000 + i, b"\x02\x00\x05\xb4") for i in range(50)])
    elif c == "tcp-option-length-one":
        send([forge_options(43000 + i, b"\x03\x01\x07\x00") for i in range(50)])
    elif c == "tcp-option-length-overlong":
        send([forge_options(44000 + i, b"\x02\x28\x05\xb4") for i in range(50)])
    # ---- flag combinations (no connection) ----
    elif c == "tcp-syn-fin":
        send([syn(45000 + i, flags="SF") for i in range(50)])
    elif c == "tcp-fin-urg-psh-no-ack":
        send([syn(46000 + i, flags="FUP") for i in range(50)])
    elif c == "tcp-null-flags":
        send([syn(47000 + i, flags="") for i in range(50)])
    elif c == "land":
        send([eth(IP(src=STACK, dst=STACK) / TCP(sport=80, dport=80, flags="S", seq=1000 + i)) for i in range(50)])
    # ---- blind attacks on an open connection (RFC 5961) ----
    elif c.startswith("conn-"):
        v = Victim()
        w = max(v.window, 1024)
        if c == "conn-rst-in-window":
            # RFC 5961 3.2: in the window but not exactly RCV.NXT: a challenge ACK, no reset.
            send([v.forge("R", seq_delta=1 + i * 7 % (w - 1)) for i in range(20)])
        elif c == "conn-rst-out-of-window":
            send([v.forge("R", seq_delta=(1 << 30) + i) for i in range(20)] + [v.forge("R", seq_delta=-(1 << 20) - i) for i in range(20)])
        elif c == "conn-syn-in-window":
            # RFC 5961 4.2: any SYN on a synchronized connection gets a challenge ACK.
            send([v.forge("S", seq_delta=i * 11 % w) for i in range(20)])
        elif c == "conn-syn-out-of-window":
            send([v.forge("S", seq_delta=(1 << 30) + i) for i in range(20)])
        elif c == "conn-ack-unsent-data":
            # RFC 5961 5.2: an ACK beyond SND.NXT is dropped (and answered with an ACK).
            send([v.forge("A", ack=v.stack_seq + 100000 + i, payload=b"X" * 10, seq_delta=100000) for i in range(20)] +
                 [v.forge("A", ack=v.stack_seq + 5000000 + i) for i in range(20)])
        elif c == "conn-data-beyond-window":
            send([v.forge("PA", seq_delta=(1 << 30) + i * 1000, payload=b"Z" * 500) for i in range(20)])
        else:
            fail(f"unknown case {c}")
        v.check_undisturbed()
    # ---- fragments ----
    elif c == "teardrop":
        frames = []
        for i in range(50):
            a = IP(src=HOST, dst=STACK, id=1000 + i, flags="MF", frag=0, proto=17) / (b"\x13\x88\x00\x07\x00\x34\x00\x00" + b"A" * 32)
            b = IP(src=HOST, dst=STACK, id=1000 + i, flags=0, frag=3, proto=17) / (b"B" * 40)   # starts at 24, inside the first
            frames += [eth(a), eth(b)]
        send(frames)
    elif c == "ping-of-death":
        frames = []
        for i in range(5):
            big = IP(src=HOST, dst=STACK, id=2000 + i) / ICMP(id=7, seq=i) / (b"P" * 65510)
            frs = fragment(big, fragsize=1480)
            last = frs[-1]
            last.frag = (65528 // 8)                          # ends beyond 65,535
            frames += [eth(f) for f in frs[:-1]] + [eth(last)]
        send(frames, pace=50)
    elif c == "fragment-trains":
        # Thousands of first fragments never completed: the reassembly table and byte budget stay bounded.
        send([eth(IP(src=HOST, dst=STACK, id=i, flags="MF", frag=0, proto=17) / (b"\x13\x88\x00\x07\x05\xdc\x00\x00" + b"F" * 1000))
              for i in range(5000)], pace=100)
    # ---- ARP ----
    elif c == "arp-reply-flood":
        frames = []
        for i in range(5000):
            ip = f"192.0.2.{10 + i % 240}" if i < 240 else f"198.51.100.{i % 250}"
            mac = "02:00:00:%02x:%02x:%02x" % ((i >> 16) & 255, (i >> 8) & 255, i & 255)
            frames.append(Ether(src=mac, dst=SMAC) / ARP(op=2, hwsrc=mac, psrc=ip, hwdst=SMAC, pdst=STACK))
        send(frames, pace=100)
    elif c == "arp-spoof-gateway":
        # Unsolicited replies and requests claiming the gateway's address from another MAC.
        evil = "02:66:66:66:66:66"
        send([Ether(src=evil, dst=SMAC) / ARP(op=2, hwsrc=evil, psrc=HOST, hwdst=SMAC, pdst=STACK) for _ in range(50)] +
             [Ether(src=evil, dst="ff:ff:ff:ff:ff:ff") / ARP(op=1, hwsrc=evil, psrc=HOST, pdst=STACK) for _ in range(50)] +
             [Ether(src=evil, dst="ff:ff:ff:ff:ff:ff") / ARP(op=1, hwsrc=evil, psrc=HOST, pdst=HOST) for _ in range(50)])
    # ---- floods ----
    elif c == "syn-flood":
        n = int(os.environ.get("HOSTILE_SYNS", "100000"))
        send(syn_flood_frames(n), pace=200)
    elif c == "half-open":
        # Connections from one host (198.51.100.200, 10,000 ports) that never complete the handshake.
        n = int(os.environ.get("HOSTILE_HALF_OPEN", "10000"))
        send(syn_flood_frames(n, fixed_source=200), pace=200)
    elif c == "zero-window":
        zero_window()
    else:
        fail(f"unknown case {c}")


def forge_options(sport, options):
    t = TCP(sport=sport, dport=80, flags="S", seq=rng.randrange(1 << 32), window=64240)
    t.dataofs = 5 + (len(options) + 3) // 4
    t.options = []
    pkt = IP(src=HOST, dst=STACK) / t
    b = bytearray(bytes(pkt))          # header with no options, checksum computed below
    opts = options + b"\x00" * ((-len(options)) % 4)
    b = b[:40] + opts
    b[32] = (5 + len(opts) // 4) << 4
    struct.pack_into("!H", b, 2, len(b))
    struct.pack_into("!H", b, 10, 0)
    struct.pack_into("!H", b, 10, checksum(bytes(b[:20])))
    struct.pack_into("!H", b, 36, 0)
    pseudo = bytes(b[12:20]) + struct.pack("!BBH", 0, 6, len(b) - 20)
    struct.pack_into("!H", b, 36, checksum(pseudo + bytes(b[20:])))
    return bytes(Ether(src=MY_MAC, dst=SMAC, type=0x0800)) + bytes(b)


def checksum(data):
    if len(data) % 2:
        data += b"\x00"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def syn_flood_frames(n, fixed_source=None):
    """n SYNs from spoofed off-link sources (198.51.100.0/24: the stack answers through the gateway, which drops the
    answers as it does not forward), built by patching the bytes of one template."""
    template = bytearray(bytes(eth(IP(src="198.51.100.1", dst=STACK) / TCP(sport=1, dport=80, flags="S", window=64240, options=[("MSS", 1460)]))))
    frames = []
    for i in range(n):
        b = bytearray(template)
        b[14 + 15] = fixed_source or 1 + i % 250                   # last byte of the source address
        struct.pack_into("!H", b, 34, 1024 + (i * 7) % 64000 if fixed_source is None else 1024 + i)   # source port
        struct.pack_into("!I", b, 38, rng.randrange(1 << 32))                                            # sequence number
        struct.pack_into("!H", b, 24, 0)
        struct.pack_into("!H", b, 24, checksum(bytes(b[14:34])))
        struct.pack_into("!H", b, 50, 0)
        pseudo = bytes(b[26:34]) + struct.pack("!BBH", 0, 6, len(b) - 34)
        struct.pack_into("!H", b, 50, checksum(pseudo + bytes(b[34:])))
        frames.append(bytes(b))
    return frames


def zero_window():
    """Connections that request data and then advertise a zero window forever (a kernel socket never read, tiny buffer)."""
    socks = []
    for _ in range(20):
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 2048)
        s.connect((STACK, 80))
        s.sendall(b"GET /bytes/10000000 HTTP/1.1\r\nHost: x\r\n\r\n")
        socks.append(s)
    time.sleep(2)   # the stack fills the windows and probes them
    # Meanwhile it still serves others.
    out = os.popen(f"curl -s --max-time 10 http://{STACK}/bytes/100000 | wc -c").read().strip()
    if out != "100000":
        fail(f"a download while 20 zero-window connections were held got {out} bytes")
    for s in socks:
        s.close()


run()
print(f"sent {sent}")
