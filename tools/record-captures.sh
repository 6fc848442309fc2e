#!/usr/bin/env bash
# Records the project's own pcap fixtures between two real Linux peers.
#
# Run as root. Makes two throwaway network namespaces joined by a veth pair with every offload off
# (so the capture holds real on-the-wire frames with correct checksums) and IPv6 disabled (so there is
# no chatter), runs one scenario at a time under tcpdump on the responder's interface, and writes
# one pcap per scenario plus README.md into Stack.Tests/Captures/ (or the folder given as $1).
# The last scenario (ipv6.pcap) turns IPv6 on for the two ends with static addresses, no DAD, no router
# solicitations and permanent neighbour entries, so it holds no Neighbour Discovery (a warm cache).
# `record-captures.sh --ipv6 [DIR]` records only ipv6.pcap and leaves the others and README.md alone.
# `record-captures.sh --http-big [DIR]` records only http-get.pcap and http-post.pcap (1 MiB each way, warm
# neighbour caches: no ARP in them) and leaves the others and README.md alone.
# `record-captures.sh --http6 [DIR]` records only http6.pcap (curl -6 of the small file, no ND in it) likewise.
#
#   a = 192.0.2.1/24, MAC 02:00:00:00:00:01, the client (runs ping, arping, dig, udhcpc, curl, socat)
#   b = 192.0.2.2/24, MAC 02:00:00:00:00:02, the responder (kernel, dnsmasq, python http.server, socat)
#
# Every command is bounded by a timeout; a trap removes the namespaces, the processes started in them
# and the temporary files on any exit, including failure and Ctrl-C.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
only_ipv6=
only_big=
if [ "${1:-}" = --ipv6 ]; then only_ipv6=1; shift; fi
if [ "${1:-}" = --http-big ]; then only_big=1; shift; fi
only_http6=
if [ "${1:-}" = --http6 ]; then only_http6=1; shift; fi
out=${1:-$root/Stack.Tests/Captures}

if [ "$(id -u)" != 0 ]; then echo "record-captures.sh: must run as root (network namespaces, tcpdump)" >&2; exit 1; fi
tools="ip tcpdump ethtool arping ping dig dnsmasq udhcpc curl socat iptables capinfos tshark timeout ss"
[ -n "$only_ipv6" ] && tools="ip tcpdump ethtool ping curl socat capinfos tshark timeout ss"
[ -n "$only_big" ] && tools="ip tcpdump ethtool curl capinfos tshark timeout ss"
[ -n "$only_http6" ] && tools="ip tcpdump ethtool curl capinfos tshark timeout ss"
for tool in $tools; do
  command -v "$tool" >/dev/null || { echo "record-captures.sh: '$tool' is missing (see tools/README or test.sh for the Debian packages)" >&2; exit 1; }
done
python=/usr/bin/python3
[ -x "$python" ] || python=$(command -v python3) || { echo "record-captures.sh: python3 is missing" >&2; exit 1; }

A=rec-$$-a
B=rec-$$-b
IF_A=veth-a
IF_B=veth-b
IP_A=192.0.2.1
IP_B=192.0.2.2
MAC_A=02:00:00:00:00:01
MAC_B=02:00:00:00:00:02
tmp=$(mktemp -d /tmp/record-captures.XXXXXX)
bg_pids=()
capture_pid=

cleanup() {
  local status=$?
  set +e
  for pid in ${capture_pid:+$capture_pid} "${bg_pids[@]}"; do kill "$pid" 2>/dev/null; done
  for ns in "$A" "$B"; do
    # Anything still running inside our own namespaces was started by this script.
    for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$pid" 2>/dev/null; done
    ip netns del "$ns" 2>/dev/null
  done
  wait 2>/dev/null
  if [ $status -ne 0 ]; then
    # KEEP_FAILED=DIR keeps what was recorded before the failure, for a look.
    [ -n "${KEEP_FAILED:-}" ] && cp -r "$tmp/out" "$KEEP_FAILED" 2>/dev/null
    echo "record-captures.sh: failed (status $status); namespaces and temporary files removed" >&2
  fi
  rm -rf "$tmp"
  exit $status
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Bounded command inside a namespace: in NS SECONDS CMD...
nsx() { local ns=$1 secs=$2; shift 2; timeout --kill-after=2 "$secs" ip netns exec "$ns" "$@"; }
say() { printf 'record-captures.sh: %s\n' "$*"; }

# ---------------------------------------------------------------------------------------------------
say "namespaces $A (client $IP_A) and $B (responder $IP_B)"
timeout 10 ip netns add "$A"
timeout 10 ip netns add "$B"
for ns in "$A" "$B"; do
  # Before the veth exists, so its ends are born with IPv6 off.
  nsx "$ns" 5 sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
  nsx "$ns" 5 ip link set lo up
done
timeout 10 ip -n "$A" link add "$IF_A" type veth peer name "$IF_B" netns "$B"
nsx "$A" 5 ip link set "$IF_A" address "$MAC_A"
nsx "$B" 5 ip link set "$IF_B" address "$MAC_B"
nsx "$A" 5 sysctl -qw "net.ipv6.conf.$IF_A.disable_ipv6=1"
nsx "$B" 5 sysctl -qw "net.ipv6.conf.$IF_B.disable_ipv6=1"
# Without this a veth capture shows 64 KB "frames" and partial checksums (TOOLCHAIN.md).
nsx "$A" 10 ethtool -K "$IF_A" tso off gso off gro off tx off rx off >/dev/null
nsx "$B" 10 ethtool -K "$IF_B" tso off gso off gro off tx off rx off >/dev/null
nsx "$A" 5 ip addr add "$IP_A/24" dev "$IF_A"
nsx "$B" 5 ip addr add "$IP_B/24" dev "$IF_B"
nsx "$A" 5 ip link set "$IF_A" up
nsx "$B" 5 ip link set "$IF_B" up
for _ in $(seq 50); do
  nsx "$A" 2 ip link show "$IF_A" | grep -q 'state UP' && nsx "$B" 2 ip link show "$IF_B" | grep -q 'state UP' && break
  sleep 0.1
done

# ---------------------------------------------------------------------------------------------------
# Capture control: one tcpdump per scenario on b's interface, started before and stopped after it.
flush_neighbours() {
  nsx "$A" 5 ip neigh flush dev "$IF_A"
  nsx "$B" 5 ip neigh flush dev "$IF_B"
}

start_capture() {
  local name=$1
  flush_neighbours  # each capture starts with its own ARP exchange, so it can be replayed alone
  rm -f "$tmp/$name.pcap" "$tmp/tcpdump.err"
  # -U: write each packet as it arrives; --immediate-mode: no buffering in libpcap; -Z root: keep
  # the right to write the file; -s 0: whole frames.
  ip netns exec "$B" timeout --kill-after=2 120 tcpdump -i "$IF_B" -s 0 -U --immediate-mode -Z root -n \
    -w "$tmp/$name.pcap" 2>"$tmp/tcpdump.err" &
  capture_pid=$!
  for _ in $(seq 100); do
    grep -q 'listening on' "$tmp/tcpdump.err" 2>/dev/null && return 0
    kill -0 "$capture_pid" 2>/dev/null || break
    sleep 0.05
  done
  cat "$tmp/tcpdump.err" >&2
  echo "record-captures.sh: tcpdump did not start" >&2
  return 1
}

stop_capture() {
  local name=$1
  sleep 0.5  # let the last frames arrive
  kill -INT "$capture_pid"
  wait "$capture_pid" || true
  capture_pid=
  mv "$tmp/$name.pcap" "$tmp/out/$name.pcap"
  say "$name.pcap: $(capinfos -c -M "$tmp/out/$name.pcap" | awk -F: '/Number of packets/ {gsub(/ /, "", $2); print $2}') frames"
}

wait_for_port() {  # wait_for_port NS PROTO PORT: until something listens there (bounded, 5 s)
  local ns=$1 proto=$2 port=$3
  for _ in $(seq 100); do
    nsx "$ns" 2 ss -Hln"${proto:0:1}" "sport = :$port" | grep -q . && return 0
    sleep 0.05
  done
  echo "record-captures.sh: nothing listens on $proto port $port in $ns" >&2
  return 1
}

start_bg() {  # start_bg NS SECONDS CMD...: a bounded background server inside a namespace
  local ns=$1 secs=$2; shift 2
  ip netns exec "$ns" timeout --kill-after=2 "$secs" "$@" &
  bg_pids+=($!)
}

stop_bg() {
  for pid in "${bg_pids[@]}"; do kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
  bg_pids=()
}

mkdir -p "$tmp/out" "$tmp/www"

# ---------------------------------------------------------------------------------------------------
# An HTTP GET and an HTTP POST of 1 MiB each with the neighbour caches warm (permanent entries: no ARP in the
# captures, as most real captures are), from curl on a to a python http.server on b that also takes POSTs (it reads
# the body and answers with its length and SHA-256). Replayed with the stack as either side (docs/replay.md).
record_http_big() {
  say "http-get, http-post: 1 MiB each way, neighbour caches warm"
  [ -e "$tmp/www/big.bin" ] || head -c 1048576 /dev/urandom >"$tmp/www/big.bin"
  cat >"$tmp/http-server.py" <<'PY'
import functools, hashlib, http.server, sys

class Handler(http.server.SimpleHTTPRequestHandler):
    def do_POST(self):
        length = int(self.headers["Content-Length"])
        digest, left = hashlib.sha256(), length
        while left:
            chunk = self.rfile.read(min(65536, left))
            if not chunk:
                break
            digest.update(chunk)
            left -= len(chunk)
        body = ("received %d bytes, sha256 %s\n" % (length - left, digest.hexdigest())).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass

http.server.HTTPServer((sys.argv[1], 80), functools.partial(Handler, directory=sys.argv[2])).serve_forever()
PY
  start_bg "$B" 120 "$python" "$tmp/http-server.py" "$IP_B" "$tmp/www"
  wait_for_port "$B" tcp 80
  flush_neighbours
  nsx "$A" 5 ip neigh replace "$IP_B" lladdr "$MAC_B" dev "$IF_A" nud permanent
  nsx "$B" 5 ip neigh replace "$IP_A" lladdr "$MAC_A" dev "$IF_B" nud permanent
  for name in http-get http-post; do
    rm -f "$tmp/$name.pcap" "$tmp/tcpdump.err"   # not start_capture: its neighbour flush would make ARP
    ip netns exec "$B" timeout --kill-after=2 120 tcpdump -i "$IF_B" -s 0 -U --immediate-mode -Z root -n \
      -w "$tmp/$name.pcap" 2>"$tmp/tcpdump.err" &
    capture_pid=$!
    for _ in $(seq 100); do grep -q 'listening on' "$tmp/tcpdump.err" 2>/dev/null && break; sleep 0.05; done
    if [ $name = http-get ]; then
      nsx "$A" 30 curl -sS --max-time 20 -o "$tmp/get.got" "http://$IP_B/big.bin"
    else
      # -H 'Expect:': no 100-continue round trip (curl asks for one above 1 MiB in some versions).
      nsx "$A" 30 curl -sS --max-time 20 -H 'Expect:' --data-binary @"$tmp/www/big.bin" -o "$tmp/post.got" "http://$IP_B/upload"
    fi
    sleep 1   # the server's FIN: python closes after curl has its bytes
    kill -INT "$capture_pid"
    wait "$capture_pid" || true
    capture_pid=
    grep -q '^0 packets dropped by kernel' "$tmp/tcpdump.err" || { cat "$tmp/tcpdump.err" >&2; echo "record-captures.sh: tcpdump dropped frames of $name" >&2; exit 1; }
    mv "$tmp/$name.pcap" "$tmp/out/$name.pcap"
    say "$name.pcap: $(capinfos -c -M "$tmp/out/$name.pcap" | awk -F: '/Number of packets/ {gsub(/ /, "", $2); print $2}') frames"
  done
  stop_bg
  nsx "$A" 5 ip neigh del "$IP_B" dev "$IF_A"
  nsx "$B" 5 ip neigh del "$IP_A" dev "$IF_B"
  cmp -s "$tmp/get.got" "$tmp/www/big.bin" || { echo "record-captures.sh: the 1 MiB GET differs" >&2; exit 1; }
  grep -q "received 1048576 bytes, sha256 $(sha256sum "$tmp/www/big.bin" | cut -d' ' -f1)" "$tmp/post.got" \
    || { cat "$tmp/post.got" >&2; echo "record-captures.sh: the 1 MiB POST was not received whole" >&2; exit 1; }
  if tshark -r "$tmp/out/http-get.pcap" -Y arp 2>/dev/null | grep -q . || tshark -r "$tmp/out/http-post.pcap" -Y arp 2>/dev/null | grep -q .; then
    echo "record-captures.sh: the 1 MiB captures hold ARP (the caches were to be warm)" >&2; exit 1
  fi
}

if [ -n "$only_big" ]; then
  record_http_big
  cp "$tmp/out/http-get.pcap" "$tmp/out/http-post.pcap" "$out/"
  say "wrote http-get.pcap and http-post.pcap into $out (README.md left as it is)"
  exit 0
fi

if [ -z "$only_ipv6" ] && [ -z "$only_http6" ]; then

# ---------------------------------------------------------------------------------------------------
say "arp: arping -c 3 from a to b"
start_capture arp
nsx "$A" 15 arping -q -c 3 -i "$IF_A" "$IP_B"
stop_capture arp

say "ping: ping -c 5"
start_capture ping
nsx "$A" 15 ping -q -c 5 -i 0.2 -W 2 "$IP_B" >/dev/null
stop_capture ping

say "ping-frag: ping -c 3 -s 4000 (fragmented both ways)"
start_capture ping-frag
nsx "$A" 15 ping -q -c 3 -i 0.2 -s 4000 -W 2 "$IP_B" >/dev/null
stop_capture ping-frag

# ---------------------------------------------------------------------------------------------------
say "dns: dig against dnsmasq"
start_bg "$B" 60 dnsmasq --keep-in-foreground --conf-file=/dev/null --no-resolv --no-hosts --no-poll --user=root \
  --pid-file="$tmp/dnsmasq-dns.pid" --interface="$IF_B" --bind-interfaces --port=53 --log-facility="$tmp/dnsmasq.log" \
  --local=/example.test/ \
  --address=/addr.example.test/192.0.2.30 \
  --host-record=host.example.test,192.0.2.20,2001:db8::20 \
  --host-record=mail.example.test,192.0.2.25 \
  --cname=www.example.test,host.example.test \
  --mx-host=example.test,mail.example.test,10 \
  --txt-record=example.test,"v=spf1 -all","second string"
wait_for_port "$B" udp 53
start_capture dns
dig_a() { nsx "$A" 10 dig @"$IP_B" +tries=1 +time=2 +short "$@"; }
{
  dig_a host.example.test A
  dig_a addr.example.test A
  dig_a www.example.test A
  dig_a host.example.test AAAA
  dig_a example.test MX
  dig_a example.test TXT
  nsx "$A" 10 dig @"$IP_B" +tries=1 +time=2 missing.example.test A | grep -o 'status: [A-Z]*'
} >"$tmp/dig.out"
stop_capture dns
stop_bg
grep -q '192.0.2.20' "$tmp/dig.out" && grep -q 'NXDOMAIN' "$tmp/dig.out" && grep -q 'mail.example.test' "$tmp/dig.out" \
  || { cat "$tmp/dig.out" >&2; echo "record-captures.sh: dnsmasq did not answer as configured" >&2; exit 1; }

# ---------------------------------------------------------------------------------------------------
say "dhcp: udhcpc on a against dnsmasq DHCP on b, then release"
cat >"$tmp/udhcpc.script" <<'EOF'
#!/bin/sh
# Minimal udhcpc script: configure the leased address (the release is sent from it), drop it on deconfig.
case "$1" in
  deconfig) ip addr flush dev "$interface" ;;
  bound|renew) ip addr flush dev "$interface"; ip addr add "$ip/${mask:-24}" dev "$interface"; touch "$(dirname "$0")/udhcpc.bound" ;;
esac
exit 0
EOF
chmod +x "$tmp/udhcpc.script"
# --no-ping: dnsmasq would otherwise ping the address before offering it; keeps the exchange to the
# four DHCP messages plus the ARP that the release needs.
start_bg "$B" 60 dnsmasq --keep-in-foreground --conf-file=/dev/null --no-resolv --no-hosts --no-poll --user=root \
  --pid-file="$tmp/dnsmasq-dhcp.pid" --interface="$IF_B" --bind-interfaces --port=0 --log-facility="$tmp/dnsmasq.log" \
  --dhcp-range=192.0.2.100,192.0.2.150,255.255.255.0,1h --dhcp-leasefile="$tmp/leases" --no-ping \
  --dhcp-option=option:router,"$IP_B" --dhcp-option=option:dns-server,"$IP_B" --domain=example.test
wait_for_port "$B" udp 67
nsx "$A" 5 ip addr flush dev "$IF_A"
start_capture dhcp
# udhcpc runs in the foreground until the script says it is bound; SIGUSR2 then makes it release the
# lease (a unicast DHCPRELEASE from the leased address) and SIGTERM ends it.
ip netns exec "$A" timeout --kill-after=2 30 udhcpc -i "$IF_A" -f -t 3 -T 2 -A 1 -p "$tmp/udhcpc.pid" -s "$tmp/udhcpc.script" \
  -x hostname:client-a >"$tmp/udhcpc.out" 2>&1 &
udhcpc_pid=$!
bg_pids+=($udhcpc_pid)
for _ in $(seq 200); do [ -e "$tmp/udhcpc.bound" ] && break; sleep 0.05; done
[ -e "$tmp/udhcpc.bound" ] || { cat "$tmp/udhcpc.out" >&2; echo "record-captures.sh: udhcpc got no lease" >&2; exit 1; }
sleep 0.2
kill -USR2 "$(cat "$tmp/udhcpc.pid")"  # udhcpc itself: timeout would not pass SIGUSR2 on
for _ in $(seq 100); do grep -q 'release' "$tmp/udhcpc.out" && break; sleep 0.05; done
grep -q 'release' "$tmp/udhcpc.out" || { cat "$tmp/udhcpc.out" >&2; echo "record-captures.sh: udhcpc did not release" >&2; exit 1; }
stop_capture dhcp
stop_bg
nsx "$A" 5 ip addr flush dev "$IF_A"
nsx "$A" 5 ip addr add "$IP_A/24" dev "$IF_A"

# ---------------------------------------------------------------------------------------------------
say "http: curl a small file from python http.server on b"
"$python" -c 'import sys; sys.stdout.write("".join("line %04d of the small file served to curl\n" % i for i in range(80)))' >"$tmp/www/small.txt"
head -c 1048576 /dev/urandom >"$tmp/www/big.bin"
start_bg "$B" 120 "$python" -m http.server 80 --bind "$IP_B" --directory "$tmp/www" >"$tmp/http.log" 2>&1
wait_for_port "$B" tcp 80
start_capture http
nsx "$A" 15 curl -sS --max-time 10 -o "$tmp/small.got" "http://$IP_B/small.txt"
stop_capture http
cmp -s "$tmp/small.got" "$tmp/www/small.txt" || { echo "record-captures.sh: http transfer differs" >&2; exit 1; }

# ---------------------------------------------------------------------------------------------------
# Loss: a 1 MB download with 5% of the frames arriving at a (the data) dropped by a's INPUT chain.
# The drop is on the receiving side of the data so that b retransmits; dropping on b's INPUT would only
# lose a's cumulative ACKs (few retransmissions) and put frames in b's capture that b never processed.
# The capture is on b's interface: it holds every segment b sent, the ones a dropped included, and every
# frame b received, so it is b's complete view of the connection.
say "tcp-loss: curl of a 1 MB file with 5% random drop at a"
nsx "$A" 5 iptables -A INPUT -i "$IF_A" -p tcp --sport 80 -m statistic --mode random --probability 0.05 -j DROP
start_capture tcp-loss
nsx "$A" 60 curl -sS --max-time 50 -o "$tmp/big.got" "http://$IP_B/big.bin"
stop_capture tcp-loss
nsx "$A" 5 iptables -F INPUT
stop_bg
cmp -s "$tmp/big.got" "$tmp/www/big.bin" || { echo "record-captures.sh: lossy transfer differs" >&2; exit 1; }

# ---------------------------------------------------------------------------------------------------
say "udp-echo: socat echo on b port 7, datagrams of 1, 100, 1000, 1472, 1473 and 3000 bytes"
start_bg "$B" 60 socat UDP4-RECVFROM:7,bind="$IP_B",fork PIPE
wait_for_port "$B" udp 7
start_capture udp-echo
for size in 1 100 1000 1472 1473 3000; do
  "$python" -c "import sys; sys.stdout.write(''.join(chr(97 + i % 26) for i in range($size)))" >"$tmp/udp.$size"
  nsx "$A" 10 socat -t 0.3 -b 8192 - "UDP4:$IP_B:7" <"$tmp/udp.$size" >"$tmp/udp.$size.got"
  cmp -s "$tmp/udp.$size" "$tmp/udp.$size.got" || { echo "record-captures.sh: UDP echo of $size bytes differs" >&2; exit 1; }
done
stop_capture udp-echo
stop_bg

say "udp-closed: a datagram to closed port 9 on b"
start_capture udp-closed
printf 'is anyone there?\n' | nsx "$A" 10 socat -t 1 - "UDP4:$IP_B:9" 2>/dev/null || true
stop_capture udp-closed

say "tcp-closed: TCP connect to closed port 81 on b"
start_capture tcp-closed
nsx "$A" 10 curl -sS --max-time 5 "http://$IP_B:81/" 2>/dev/null && { echo "record-captures.sh: port 81 answered" >&2; exit 1; }
stop_capture tcp-closed

record_http_big

fi  # the IPv4 scenarios

# ---------------------------------------------------------------------------------------------------
# IPv6 with the neighbour caches warm: a = 2001:db8::1, b = 2001:db8::2 (/64, nodad), link-locals from the
# MACs (EUI-64). Router solicitations and DAD are off before IPv6 comes up; the MLD reports Linux sends when
# it does are over before the capture starts; permanent neighbour entries mean no NS/NA in the capture.
IP6_A=2001:db8::1
IP6_B=2001:db8::2
for side in "$A:$IF_A" "$B:$IF_B"; do
  ns=${side%%:*} ifc=${side#*:}
  nsx "$ns" 5 sysctl -qw "net.ipv6.conf.$ifc.accept_dad=0" "net.ipv6.conf.$ifc.router_solicitations=0" \
    "net.ipv6.conf.$ifc.accept_ra=0" "net.ipv6.conf.$ifc.addr_gen_mode=0"
  nsx "$ns" 5 sysctl -qw "net.ipv6.conf.$ifc.disable_ipv6=0"
done
nsx "$A" 5 ip -6 addr add "$IP6_A/64" dev "$IF_A" nodad
nsx "$B" 5 ip -6 addr add "$IP6_B/64" dev "$IF_B" nodad
nsx "$A" 5 ip -6 neigh replace "$IP6_B" lladdr "$MAC_B" dev "$IF_A" nud permanent
nsx "$B" 5 ip -6 neigh replace "$IP6_A" lladdr "$MAC_A" dev "$IF_B" nud permanent
sleep 3  # the MLD reports of the groups IPv6 joined (robustness 2, 1 s apart) go before the capture

# An HTTP GET over IPv6 with data (curl -6 of the small file from python's http.server bound to b's address), so the
# replay's TCP rewriting is tested on an IPv6 conversation from either side; no ND (permanent neighbour entries).
record_http6() {
  say "http6: curl -6 of the small file from python http.server on [$IP6_B]"
  [ -e "$tmp/www/small.txt" ] || "$python" -c 'import sys; sys.stdout.write("".join("line %04d of the small file served to curl\n" % i for i in range(80)))' >"$tmp/www/small.txt"
  start_bg "$B" 60 "$python" -m http.server 80 --bind "$IP6_B" --directory "$tmp/www" >"$tmp/http6.log" 2>&1
  wait_for_port "$B" tcp 80
  rm -f "$tmp/http6.pcap" "$tmp/tcpdump.err"   # not start_capture: its neighbour flush would make ND
  ip netns exec "$B" timeout --kill-after=2 120 tcpdump -i "$IF_B" -s 0 -U --immediate-mode -Z root -n \
    -w "$tmp/http6.pcap" 2>"$tmp/tcpdump.err" &
  capture_pid=$!
  for _ in $(seq 100); do grep -q 'listening on' "$tmp/tcpdump.err" 2>/dev/null && break; sleep 0.05; done
  nsx "$A" 15 curl -sS --max-time 10 -o "$tmp/small6.got" "http://[$IP6_B]/small.txt"
  stop_capture http6
  stop_bg
  cmp -s "$tmp/small6.got" "$tmp/www/small.txt" || { echo "record-captures.sh: the IPv6 http transfer differs" >&2; exit 1; }
  if tshark -r "$tmp/out/http6.pcap" -Y 'icmpv6.type >= 133 && icmpv6.type <= 137' 2>/dev/null | grep -q .; then
    echo "record-captures.sh: http6.pcap holds Neighbour Discovery (the caches were to be warm)" >&2; exit 1
  fi
}
if [ -n "$only_http6" ]; then
  record_http6
  cp "$tmp/out/http6.pcap" "$out/"
  say "wrote http6.pcap into $out (README.md left as it is)"
  exit 0
fi
start_bg "$B" 60 socat UDP6-RECVFROM:7,bind="[$IP6_B]",fork PIPE
wait_for_port "$B" udp 7
say "ipv6: ping -6 (one fragmented), UDP6 echo, UDP6 to a closed port, TCP6 to a closed port; no ND"
rm -f "$tmp/ipv6.pcap" "$tmp/tcpdump.err"   # not start_capture: its neighbour flush would make ND
ip netns exec "$B" timeout --kill-after=2 120 tcpdump -i "$IF_B" -s 0 -U --immediate-mode -Z root -n \
  -w "$tmp/ipv6.pcap" 2>"$tmp/tcpdump.err" &
capture_pid=$!
for _ in $(seq 100); do grep -q 'listening on' "$tmp/tcpdump.err" 2>/dev/null && break; sleep 0.05; done
nsx "$A" 15 ping -6 -q -c 3 -i 0.2 -W 2 "$IP6_B" >/dev/null
nsx "$A" 15 ping -6 -q -c 2 -i 0.2 -s 3000 -W 2 "$IP6_B" >/dev/null
for size in 1 1000 1452 1453 3000; do
  "$python" -c "import sys; sys.stdout.write(''.join(chr(97 + i % 26) for i in range($size)))" >"$tmp/udp6.$size"
  nsx "$A" 10 socat -t 0.3 -b 8192 - "UDP6:[$IP6_B]:7" <"$tmp/udp6.$size" >"$tmp/udp6.$size.got"
  cmp -s "$tmp/udp6.$size" "$tmp/udp6.$size.got" || { echo "record-captures.sh: UDP6 echo of $size bytes differs" >&2; exit 1; }
done
printf 'is anyone there?\n' | nsx "$A" 10 socat -t 1 - "UDP6:[$IP6_B]:9" 2>/dev/null || true
nsx "$A" 10 curl -sS --max-time 5 "http://[$IP6_B]:81/" 2>/dev/null && { echo "record-captures.sh: port 81 answered" >&2; exit 1; }
stop_capture ipv6
stop_bg
[ -n "$only_ipv6" ] || record_http6
if tshark -r "$tmp/out/ipv6.pcap" -Y 'icmpv6.type >= 133 && icmpv6.type <= 137' 2>/dev/null | grep -q .; then
  echo "record-captures.sh: ipv6.pcap holds Neighbour Discovery (the caches were to be warm)" >&2; exit 1
fi
if [ -n "$only_ipv6" ]; then
  cp "$tmp/out/ipv6.pcap" "$out/"
  say "wrote ipv6.pcap into $out (README.md left as it is)"
  exit 0
fi

# ---------------------------------------------------------------------------------------------------
say "checking the captures (capinfos, tshark expert info)"
for f in "$tmp"/out/*.pcap; do
  # In the loss capture Linux retransmits with segments collapsed across the original boundaries, and
  # tshark's HTTP reassembly then reports "New fragment overlaps old data" as an error although every
  # frame is well formed: check that one with TCP reassembly off.
  opts=()
  [ "$(basename "$f")" = tcp-loss.pcap ] && opts=(-o tcp.desegment_tcp_streams:FALSE)
  if tshark -r "$f" "${opts[@]}" -q -z expert 2>/dev/null | grep -qiE 'malformed|^Errors'; then
    tshark -r "$f" "${opts[@]}" -q -z expert >&2
    echo "record-captures.sh: $(basename "$f") has malformed or erroneous frames" >&2
    exit 1
  fi
done

# Every checksum must verify. One exception is real Linux behaviour and is kept: a TCP checksum of 0xffff
# where 0x0000 is computed. Both are ones'-complement zero and the receiver accepts either, but tshark marks
# the first "Bad" (a warning, citing RFC 1624). Such frames are listed in the README.
ck=(-o ip.check_checksum:TRUE -o tcp.check_checksum:TRUE -o udp.check_checksum:TRUE)
negative_zero=()
for f in "$tmp"/out/*.pcap; do
  bad=$(tshark -r "$f" "${ck[@]}" -T fields -e frame.number \
    -Y '(ip.checksum.status==0 || udp.checksum.status==0 || icmp.checksum.status==0 || tcp.checksum.status==0) && !(tcp.checksum==0xffff)' 2>/dev/null)
  [ -z "$bad" ] || { echo "record-captures.sh: $(basename "$f"): bad checksums in frames $(echo $bad)" >&2; exit 1; }
  nz=$(tshark -r "$f" "${ck[@]}" -T fields -e frame.number -Y 'tcp.checksum==0xffff && tcp.checksum.status==0' 2>/dev/null)
  [ -z "$nz" ] || negative_zero+=("\`$(basename "$f")\` frames $(echo $nz | sed 's/ /, /g')")
done

count() { capinfos -c -M "$1" | awk -F: '/Number of packets/ {gsub(/ /, "", $2); print $2}'; }
bytes() { stat -c %s "$1"; }
mkdir -p "$out"
{
  cat <<EOF
# Captures recorded by the project

These pcaps are the project's own data, recorded by \`tools/record-captures.sh\` on $(date -u +%Y-%m-%d)
(kernel $(uname -r), $(tcpdump --version 2>&1 | head -1), $(dnsmasq --version | head -1 | cut -d' ' -f1-3),
$(curl --version | head -1 | cut -d' ' -f1-2), $(socat -V | sed -n 's/^socat version \([^ ]*\).*/socat \1/p')).
Re-run the script as root to make them again (timestamps, IP ids, ports and sequence numbers will differ).

Two network namespaces joined by a veth pair, every offload off on both ends (\`ethtool -K IF tso off gso off
gro off tx off rx off\`: no 64 KB frames, every checksum is the real one) and IPv6 disabled (no chatter):

| host | role | interface | IPv4 | MAC |
|------|------|-----------|------|-----|
| a | client (ping, arping, dig, udhcpc, curl, socat) | veth-a | 192.0.2.1/24 | 02:00:00:00:00:01 |
| b | **responder** (Linux kernel, dnsmasq, python http.server, socat) | veth-b | 192.0.2.2/24 | 02:00:00:00:00:02 |

Every capture is taken with \`tcpdump -U -w\` on **b's interface** (veth-b), so it is b's complete view: each
frame b sent and each frame b received. A replay test configures the stack as b (192.0.2.2/24,
02:00:00:00:00:02), feeds it the frames from a, and compares its replies with b's.
Both neighbour caches are flushed before each capture, so each one starts with its own ARP exchange, except in
\`http-get.pcap\`, \`http-post.pcap\`, \`ipv6.pcap\` and \`http6.pcap\`, taken with permanent neighbour entries (warm caches, as most real
captures are: no ARP or ND in them). The two 1 MiB captures are replayed with the stack as either host (docs/replay.md).

| file | frames | bytes | what happens |
|------|-------:|------:|--------------|
EOF
  describe() {
    case $1 in
      arp) echo '`arping -c 3 -i veth-a 192.0.2.2` from a: three broadcast ARP requests, three replies from b.' ;;
      ping) echo '`ping -c 5 -i 0.2` from a: ARP, then five ICMP echo requests (56 data bytes) and b'"'"'s five echo replies.' ;;
      ping-frag) echo '`ping -c 3 -i 0.2 -s 4000` from a: each 4028-byte echo request arrives as three IPv4 fragments and b answers with a reply fragmented the same way (MTU 1500).' ;;
      dns) echo 'dig from a against dnsmasq on b (port 53, `--local=/example.test/`): `host.example.test` A (192.0.2.20, `--host-record`), `addr.example.test` A (192.0.2.30, `--address`), `www.example.test` A (CNAME to host.example.test, `--cname`), `host.example.test` AAAA (2001:db8::20), `example.test` MX (10 mail.example.test, `--mx-host`, with the A of mail.example.test as additional), `example.test` TXT ("v=spf1 -all" "second string", `--txt-record`), and `missing.example.test` A answered NXDOMAIN. dig sends EDNS (OPT record with a cookie).' ;;
      dhcp) echo 'busybox udhcpc on a (address removed first) against dnsmasq DHCP on b (range 192.0.2.100-150, router and DNS 192.0.2.2, domain example.test, `--no-ping`): DISCOVER, OFFER, REQUEST, ACK, then a unicast RELEASE from the leased address (with the ARP it needs). Here b is the server; a DHCP-client test plays a.' ;;
      http) echo '`curl http://192.0.2.2/small.txt` from a against `python3 -m http.server` on b: TCP handshake with MSS, SACK-permitted, timestamps and window scale, GET, the HTTP/1.0 response headers and a 3,440-byte body in several segments, FIN from b first.' ;;
      tcp-loss) echo '`curl` of a 1 MiB random file from the same server, with `iptables -A INPUT -i veth-a -p tcp --sport 80 -m statistic --mode random --probability 0.05 -j DROP` on **a**: about 5% of b'"'"'s data segments are lost after the capture point, so b retransmits (fast retransmit on SACKs, and timeouts). The drop is at a so that every frame in the capture was really sent or received by b.' ;;
      udp-echo) echo 'socat UDP echo (`UDP4-RECVFROM:7,fork PIPE`) on b; from a one datagram each of 1, 100, 1000, 1472, 1473 and 3000 bytes (letters a..z), each echoed back; 1473 and 3000 exceed the MTU and are fragmented both ways. Each datagram comes from its own ephemeral port.' ;;
      udp-closed) echo 'One 17-byte datagram from a to port 9 on b, where nothing listens: b answers ICMP destination unreachable, port unreachable, quoting the datagram.' ;;
      tcp-closed) echo '`curl http://192.0.2.2:81/` from a: a SYN to a closed port, answered by RST+ACK.' ;;
      http-get) echo '`curl http://192.0.2.2/big.bin` from a: a 1 MiB random file from a python http.server on b (`SimpleHTTPRequestHandler`, HTTP/1.0), with the neighbour caches warm (permanent entries: no ARP in the capture).' ;;
      http-post) echo '`curl -H '"'"'Expect:'"'"' --data-binary @big.bin http://192.0.2.2/upload` from a: the same 1 MiB file POSTed to the same server, which reads the body and answers `received 1048576 bytes, sha256 ...`; neighbour caches warm (no ARP).' ;;
      http6) echo '`curl http://[2001:db8::2]/small.txt` from a against `python3 -m http.server --bind 2001:db8::2` on b: the small file of `http.pcap` over IPv6, warm neighbour caches (no ND).' ;;
      ipv6) echo 'IPv6 with warm neighbour caches (a 2001:db8::1, b 2001:db8::2, permanent neighbour entries, no DAD or router solicitations: no ND in the capture): `ping -6 -c 3`, `ping -6 -c 2 -s 3000` (fragmented both ways), socat UDP6 echo on b port 7 of 1, 1000, 1452, 1453 and 3000 bytes (the last two fragmented), a datagram to closed UDP port 9 (ICMPv6 port unreachable) and `curl http://[2001:db8::2]:81/` (RST+ACK).' ;;
    esac
  }
  for name in arp ping ping-frag dns dhcp http tcp-loss udp-echo udp-closed tcp-closed http-get http-post ipv6 http6; do
    f="$tmp/out/$name.pcap"
    printf '| `%s.pcap` | %s | %s | %s |\n' "$name" "$(count "$f")" "$(bytes "$f")" "$(describe "$name")"
  done
  cat <<EOF

Every IPv4, ICMP, UDP and TCP checksum in them verifies.
EOF
  if [ ${#negative_zero[@]} -gt 0 ]; then
    cat <<EOF
Kept as found: $(IFS=';'; echo "${negative_zero[*]}" | sed 's/;/; /g') carry the TCP checksum 0xffff where
0x0000 is computed. Both are ones'-complement zero (RFC 1071) and Linux accepted the frame, but tshark marks
it "Bad" with a warning citing RFC 1624; a comparison with tshark's \`tcp.checksum.status\` must expect that.
EOF
  fi
  cat <<EOF

All captures pass \`tshark -r F -q -z expert\` with no malformed or error-level item. The loss capture has the
expected retransmission, duplicate-ACK and out-of-order notes and warnings; it is checked with
\`-o tcp.desegment_tcp_streams:FALSE\`, because Linux collapses segments when it retransmits and tshark's HTTP
reassembly then reports "New fragment overlaps old data" although every frame is well formed.
EOF
} >"$tmp/out/README.md"

cp "$tmp"/out/*.pcap "$tmp/out/README.md" "$out/"
total=$(du -cb "$out"/*.pcap | tail -1 | cut -f1)
say "wrote $(ls "$tmp"/out/*.pcap | wc -l) captures, $total bytes, into $out"
