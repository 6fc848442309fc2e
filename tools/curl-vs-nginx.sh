#!/bin/bash
# A 1 GiB HTTP download with curl from `tcpipsharp up` over a TAP without offloads, and from nginx over a veth without
# offloads, alternating in one run (issue 18's target: the stack at least 0.6 of nginx).
# usage (root): tools/curl-vs-nginx.sh BINDIR [LABEL]              one build (BINDIR holds the tcpipsharp built from some commit)
#               tools/curl-vs-nginx.sh LABEL=BINDIR [LABEL=BINDIR...]  several builds, alternating with nginx in every round
# env: ROUNDS (3), BYTES (1073741824), UPARGS (more arguments for tcpipsharp up)
# Namespaces clK (curl, the TAPs and the stacks) and clN (nginx), addresses 192.0.2.0/24 and 198.51.100.0/24, all removed
# on exit; nginx's file lives in /dev/shm (tmpfs) so the disk is not measured. "Without offloads": the stacks run with
# --no-offload (no virtio-net header, the kernel checksums and segments nothing for them; batched through io_uring, their
# default then), and both ends of the veth have tx/rx checksumming, TSO, GSO and GRO off. Each build runs its own `up`
# on its own TAP (build i: cltapI, the kernel at 192.0.2.(16i+1)/28, the stack at 192.0.2.(16i+2)/28), all started and
# warmed before the first round; an idle stack sleeps. One round downloads from every build, then from nginx.
# Prints one line per download: Gbit/s, the server's CPU seconds (its threads' and its children's, from schedstat; the
# stack's is nearly all its one stack thread, which also runs the kernel's receive of every frame it writes to the
# TAP: curl's TCP input), that CPU as a share of the download's time (busy), the bytes curl got, and the 1-minute load average.
if [[ "$1" == *=* ]]; then BUILDS=("$@"); else BUILDS=("${2:-run}=$1"); fi
ROUNDS=${ROUNDS:-3}; BYTES=${BYTES:-1073741824}
X=$(mktemp -d /dev/shm/curl-vs-nginx.XXXXXX); chmod 755 $X   # nginx's worker (not root) reads the file
K=clK; A=clN; TAPDEV=cltap0; UPARGS="--no-offload $UPARGS"; BIN=${BUILDS[0]#*=}
. "$(dirname "$0")/stack-vs-nginx.inc.sh"
make_namespaces nooffload
mkdir -p $X/www; head -c $BYTES /dev/zero > $X/www/g
start_nginx 64
for i in "${!BUILDS[@]}"; do   # the stacks, build i on cltapI
  label=${BUILDS[$i]%%=*}; bin=${BUILDS[$i]#*=}; tap=cltap$i
  [ $i -gt 0 ] && ip -n $K tuntap add dev $tap mode tap
  ip -n $K link set $tap up; ip -n $K addr add 192.0.2.$((16 * i + 1))/28 dev $tap
  ip netns exec $K sysctl -qw net.ipv6.conf.$tap.disable_ipv6=1
  ip netns exec $K $bin/tcpipsharp up --tap $tap --ip 192.0.2.$((16 * i + 2))/28 --no-ipv6 --no-mdns --services http $UPARGS > $X/stack-$label.out 2>&1 &
  echo $! > $X/stack-$label.pid
done
sleep 3
echo "veth offloads: $(ip netns exec $K ethtool -k vB | grep -E '^(tcp-segmentation-offload|generic-receive-offload|tx-checksumming):' | tr -s ' \n' ' ')"
run() { # label pid url
  local load; load=$(cut -d' ' -f1 /proc/loadavg); cpuns $2 > $X/cpu0
  local out; out=$(ip netns exec $K timeout 120 curl -s -o /dev/null -w '%{size_download} %{time_total}' "$3")
  cpuns $2 > $X/cpu1; local ns; ns=$(cpudiff $X/cpu0 $X/cpu1)
  local size=${out%% *} secs=${out##* }
  echo "$1 round=$r bytes=$size seconds=$secs gbit_s=$(echo "scale=2; $size * 8 / $secs / 1000000000" | bc) server_cpu_s=$(echo "scale=2; $ns / 1000000000" | bc) busy=$(echo "scale=2; $ns / 1000000000 / $secs" | bc) load=$load"
}
# Warm-up, not reported: each stack's JIT (two 1 GB downloads: the hot paths reach tier 1), nginx's file into the page cache.
for i in "${!BUILDS[@]}"; do for w in 1 2; do ip netns exec $K curl -s -o /dev/null http://192.0.2.$((16 * i + 2))/bytes/1000000000; done; done
ip netns exec $K curl -s -o /dev/null http://198.51.100.1:8080/g
for r in $(seq 1 $ROUNDS); do
  for i in "${!BUILDS[@]}"; do
    label=${BUILDS[$i]%%=*}; run "$label stack" $(cat $X/stack-$label.pid) http://192.0.2.$((16 * i + 2))/bytes/$BYTES; sleep 1
  done
  run "nginx" $(cat $X/ngx.pid) http://198.51.100.1:8080/g; sleep 1
done
