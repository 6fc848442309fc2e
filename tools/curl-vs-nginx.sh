#!/bin/bash
# A 1 GiB HTTP download with curl from `tcpipsharp up` over a TAP without offloads, and from nginx over a veth without
# offloads, alternating in one run (issue 18's target: the stack at least 0.6 of nginx).
# usage (root): tools/curl-vs-nginx.sh BINDIR [LABEL]     BINDIR holds the tcpipsharp built from some commit
# env: ROUNDS (3), BYTES (1073741824), UPARGS (more arguments for tcpipsharp up)
# Namespaces clK (curl, the TAP and the stack) and clN (nginx), addresses 192.0.2.0/24 and 198.51.100.0/24, all removed
# on exit; nginx's file lives in /dev/shm (tmpfs) so the disk is not measured. "Without offloads": the stack runs with
# --no-offload (no virtio-net header, the kernel checksums and segments nothing for it; batched through io_uring, its
# default then), and both ends of the veth have tx/rx checksumming, TSO, GSO and GRO off. Prints one line per download:
# Gbit/s, the server's CPU seconds (its threads' and its children's, from schedstat), the bytes curl got, and the 1-minute load average.
BIN=$1; LABEL=${2:-run}; ROUNDS=${ROUNDS:-3}; BYTES=${BYTES:-1073741824}
X=$(mktemp -d /dev/shm/curl-vs-nginx.XXXXXX); chmod 755 $X   # nginx's worker (not root) reads the file
K=clK; A=clN; TAPDEV=cltap0; UPARGS="--no-offload $UPARGS"
. "$(dirname "$0")/stack-vs-nginx.inc.sh"
make_namespaces nooffload
mkdir -p $X/www; head -c $BYTES /dev/zero > $X/www/g
start_servers 64
echo "$LABEL veth offloads: $(ip netns exec $K ethtool -k vB | grep -E '^(tcp-segmentation-offload|generic-receive-offload|tx-checksumming):' | tr -s ' \n' ' ')"
run() { # name url
  local pid; pid=$(server_pid $1)
  local load; load=$(cut -d' ' -f1 /proc/loadavg); cpuns $pid > $X/cpu0
  local out; out=$(ip netns exec $K timeout 120 curl -s -o /dev/null -w '%{size_download} %{time_total}' "$2")
  cpuns $pid > $X/cpu1; local cpu; cpu=$(echo "scale=2; $(cpudiff $X/cpu0 $X/cpu1) / 1000000000" | bc)
  local size=${out%% *} secs=${out##* }
  echo "$LABEL $1 round=$r bytes=$size seconds=$secs gbit_s=$(echo "scale=2; $size * 8 / $secs / 1000000000" | bc) server_cpu_s=$cpu load=$load"
}
# Warm-up, not reported: the stack's JIT, nginx's file into the page cache.
ip netns exec $K curl -s -o /dev/null http://192.0.2.2/bytes/100000000
ip netns exec $K curl -s -o /dev/null http://198.51.100.1:8080/g
for r in $(seq 1 $ROUNDS); do
  run stack http://192.0.2.2/bytes/$BYTES; sleep 1
  run nginx http://198.51.100.1:8080/g; sleep 1
done
