#!/bin/bash
# 1 GiB downloaded and uploaded with curl from nginx through `tcpipsharp gateway` (a TUN with offloads), beside the
# kernel routing the same over a veth with offloads, in one run (issue 19's "guest curl figures beside the
# kernel-routed ones"). Each upload is compared with the original by SHA-256.
# usage (root): tools/gateway-curl.sh PROGRAM      PROGRAM: a built tcpipsharp (Stack.Tap/bin/Release/net10.0/tcpipsharp)
# env: ROUNDS (3)
# Namespaces (no route leaves any; all removed on exit): gkS (the gateway and an nginx on 198.51.100.1 on its
# loopback), gkG (the guest, 192.0.2.2, default route into the TUN), gkK and gkN (client 192.0.2.2 and nginx
# 198.51.100.1 joined by a veth: the kernel's figure). nginx's file and uploads live in /dev/shm (tmpfs): the disk is
# not measured. Prints per round and path: download and upload MB/s, bytes, whether the upload is exact, the load.
[ $# -ge 1 ] || { sed -n 2,10p "$0"; exit 2; }
set -u
BIN=$1; ROUNDS=${ROUNDS:-3}
X=$(mktemp -d /dev/shm/gwc.XXXX); chmod 755 $X
S=gkS; G=gkG; K=gkK; N=gkN
cleanup(){ for n in $S $G $K $N; do ip netns pids $n 2>/dev/null | xargs -r kill 2>/dev/null; done; sleep 0.5; for n in $S $G $K $N; do ip netns del $n 2>/dev/null; done; rm -rf $X; }
trap cleanup EXIT
mkdir -p $X/www/up $X/cb; chmod 777 $X/www/up $X/cb
head -c 1073741824 /dev/urandom > $X/www/g.bin; chmod 644 $X/www/g.bin; H=$(sha256sum < $X/www/g.bin | cut -d' ' -f1)
for w in S N; do cat > $X/ngx$w.conf <<C
worker_processes 1; pid $X/ngx$w.pid; error_log stderr warn; events { worker_connections 256; }
http { access_log off; client_body_temp_path $X/cb; server { listen 198.51.100.1:8080; root $X/www; client_max_body_size 2g; location /up/ { dav_methods PUT; create_full_put_path on; } } }
C
done
for n in $S $N; do ip netns add $n; ip -n $n link set lo up; ip -n $n addr add 198.51.100.1/24 dev lo; done
ip netns add $K; ip -n $K link set lo up
ip link add gkk0 netns $K type veth peer name gkn0 netns $N
ip -n $K addr add 192.0.2.2/24 dev gkk0; ip -n $K link set gkk0 up; ip -n $K route add default dev gkk0
ip -n $N addr add 192.0.2.1/24 dev gkn0; ip -n $N link set gkn0 up
ip netns exec $S nginx -p $X -c $X/ngxS.conf -g "daemon off;" &
ip netns exec $N nginx -p $X -c $X/ngxN.conf -g "daemon off;" &
ip netns add $G; ip -n $G link set lo up
ip netns exec $S $BIN gateway --tun gktun0 --ip 192.0.2.1/24 > $X/gw.out 2>&1 &
for i in $(seq 1 80); do grep -qs "gateway on" $X/gw.out && break; sleep 0.25; done
ip -n $S link set gktun0 netns $G; ip -n $G addr add 192.0.2.2/24 dev gktun0; ip -n $G link set gktun0 up; ip -n $G route add default dev gktun0
sleep 1
ip netns exec $G curl -s -o /dev/null http://198.51.100.1:8080/g.bin; ip netns exec $K curl -s -o /dev/null http://198.51.100.1:8080/g.bin
for r in $(seq 1 $ROUNDS); do
  for ns in $G $K; do
    d=$(ip netns exec $ns curl -sS --fail -o /dev/null -w '%{speed_download} %{size_download}' http://198.51.100.1:8080/g.bin)
    u=$(ip netns exec $ns curl -sS --fail -o /dev/null -w '%{speed_upload} %{size_upload}' -T $X/www/g.bin http://198.51.100.1:8080/up/u$r$ns.bin)
    hu=$(sha256sum < $X/www/up/u$r$ns.bin | cut -d' ' -f1); rm -f $X/www/up/u$r$ns.bin
    echo "round=$r $([ $ns = $G ] && echo gateway || echo kernel) down_MBps=$(echo $d | awk '{printf "%.0f", $1/1e6}') bytes=$(echo $d | cut -d' ' -f2) up_MBps=$(echo $u | awk '{printf "%.0f", $1/1e6}') up_exact=$([ "$hu" = "$H" ] && echo yes || echo NO) load=$(cut -d' ' -f1 /proc/loadavg)"
  done
done
