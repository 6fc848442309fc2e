#!/bin/bash
# A 1 GiB HTTP download with curl from `tcpipsharp up` over a TAP without offloads, and from nginx over a veth without
# offloads, alternating in one run (issue 18's target: the stack at least 0.6 of nginx).
# usage (root): tools/curl-vs-nginx.sh BINDIR [LABEL]     BINDIR holds the tcpipsharp built from some commit
# env: ROUNDS (3), BYTES (1073741824), UPARGS (more arguments for tcpipsharp up)
# Namespaces clK (curl, the TAP and the stack) and clN (nginx), addresses 192.0.2.0/24 and 198.51.100.0/24, all removed
# on exit; nginx's file lives in /dev/shm (tmpfs) so the disk is not measured. "Without offloads": the stack runs with
# --no-offload (no virtio-net header, the kernel checksums and segments nothing for it; batched through io_uring, its
# default then), and both ends of the veth have tx/rx checksumming, TSO, GSO and GRO off. Prints one line per download:
# Gbit/s, the server's CPU seconds (utime+stime), the bytes curl got, and the 1-minute load average.
BIN=$1; LABEL=${2:-run}; ROUNDS=${ROUNDS:-3}; BYTES=${BYTES:-1073741824}
X=$(mktemp -d /dev/shm/curl-vs-nginx.XXXXXX); chmod 755 $X   # nginx's worker (not root) reads the file
K=clK; A=clN
cleanup() {
  if [ -f $X/stack.pid ]; then S=$(cat $X/stack.pid); kill -TERM $S 2>/dev/null
    for i in 1 2 3 4 5 6; do kill -0 $S 2>/dev/null || break; sleep 0.5; done; kill -KILL $S 2>/dev/null; fi
  [ -f $X/ngx.pid ] && kill $(cat $X/ngx.pid) 2>/dev/null; sleep 1
  ip netns del $K 2>/dev/null; ip netns del $A 2>/dev/null; rm -rf $X
}
trap cleanup EXIT
ip netns add $K; ip netns add $A
ip link add vB netns $K type veth peer name vA netns $A
for n in $K $A; do ip -n $n link set lo up; done
ip netns exec $K ethtool -K vB tx off rx off tso off gso off gro off > /dev/null 2>&1
ip netns exec $A ethtool -K vA tx off rx off tso off gso off gro off > /dev/null 2>&1
ip -n $A link set vA up; ip -n $K link set vB up
ip -n $A addr add 198.51.100.1/24 dev vA; ip -n $K addr add 198.51.100.2/24 dev vB
ip -n $K tuntap add dev cltap0 mode tap; ip -n $K link set cltap0 up; ip -n $K addr add 192.0.2.1/24 dev cltap0
ip netns exec $K sysctl -qw net.ipv6.conf.cltap0.disable_ipv6=1
mkdir -p $X/ngx $X/www; head -c $BYTES /dev/zero > $X/www/g
cat > $X/ngx/nginx.conf <<NG
worker_processes 1; pid $X/ngx/nginx.pid; error_log stderr warn; events { worker_connections 64; }
http { access_log off; client_body_temp_path $X/ngx/cb; proxy_temp_path $X/ngx/px; fastcgi_temp_path $X/ngx/fc;
  uwsgi_temp_path $X/ngx/uw; scgi_temp_path $X/ngx/sc;
  server { listen 8080; root $X/www; } }
NG
ip netns exec $A nginx -p $X/ngx -c $X/ngx/nginx.conf -g 'daemon off;' 2> $X/ngx.err & echo $! > $X/ngx.pid
ip netns exec $K $BIN/tcpipsharp up --tap cltap0 --ip 192.0.2.2/24 --no-ipv6 --no-mdns --services http --no-offload $UPARGS > $X/stack.out 2>&1 & echo $! > $X/stack.pid
sleep 3
echo "$LABEL veth offloads: $(ip netns exec $K ethtool -k vB | grep -E '^(tcp-segmentation-offload|generic-receive-offload|tx-checksumming):' | tr -s ' \n' ' ')"
# CPU time (utime+stime, clock ticks) of a process and its children (nginx's worker is the master's child).
ticks() { local t=0 p; for p in $1 $(cat /proc/$1/task/*/children 2>/dev/null); do
  t=$((t + $(awk '{print $14 + $15}' /proc/$p/stat 2>/dev/null || echo 0))); done; echo $t; }
run() { # name url
  local pid; [ "$1" = stack ] && pid=$(cat $X/stack.pid) || pid=$(cat $X/ngx.pid)
  local load; load=$(cut -d' ' -f1 /proc/loadavg); local t0; t0=$(ticks $pid)
  local out; out=$(ip netns exec $K timeout 120 curl -s -o /dev/null -w '%{size_download} %{time_total}' "$2")
  local cpu; cpu=$(echo "scale=2; ($(ticks $pid) - $t0) / $(getconf CLK_TCK)" | bc)
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
