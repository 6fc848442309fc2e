# Sourced by tools/ab-vs-nginx.sh and tools/curl-vs-nginx.sh: the stack on a TAP in namespace $K beside nginx in
# namespace $A, the two namespaces joined by a veth (vB 198.51.100.2 in $K, vA 198.51.100.1 in $A), the TAP TAPDEV
# 192.0.2.1/24 in $K for the stack at 192.0.2.2. The caller sets X (a temporary directory, readable by nginx's
# worker), K, A, BIN (the directory of tcpipsharp) and TAPDEV. Everything made here is removed on exit.

cleanup() {
  local f S i   # every stack started: $X/stack.pid here, $X/stack-LABEL.pid in tools/curl-vs-nginx.sh
  for f in $X/stack*.pid; do [ -f $f ] || continue; S=$(cat $f); kill -TERM $S 2>/dev/null   # a background job inherits SIGINT ignored (README)
    for i in 1 2 3 4 5 6; do kill -0 $S 2>/dev/null || break; sleep 0.5; done; kill -KILL $S 2>/dev/null; done
  [ -f $X/ngx.pid ] && kill $(cat $X/ngx.pid) 2>/dev/null; sleep 1
  ip netns del $K 2>/dev/null; ip netns del $A 2>/dev/null; rm -rf $X
}

# The namespaces, the veth and the TAP (not yet up). With "nooffload": checksumming, TSO, GSO and GRO off at both veth ends.
make_namespaces() {
  trap cleanup EXIT
  ip netns add $K; ip netns add $A
  ip link add vB netns $K type veth peer name vA netns $A
  for n in $K $A; do ip -n $n link set lo up; done
  if [ "$1" = nooffload ]; then
    ip netns exec $K ethtool -K vB tx off rx off tso off gso off gro off > /dev/null 2>&1
    ip netns exec $A ethtool -K vA tx off rx off tso off gso off gro off > /dev/null 2>&1
  fi
  ip -n $A link set vA up; ip -n $K link set vB up
  ip -n $A addr add 198.51.100.1/24 dev vA; ip -n $K addr add 198.51.100.2/24 dev vB
  ip -n $K tuntap add dev $TAPDEV mode tap
}

# The TAP up with the kernel's address; nginx (one worker, serving $X/www on 8080; $1: worker_connections, $2: more
# for the http block, $3: more for listen); the stack (`up` with the HTTP service and $UPARGS). Waits 3 s for both.
start_servers() {
  ip -n $K link set $TAPDEV up; ip -n $K addr add 192.0.2.1/24 dev $TAPDEV
  ip netns exec $K sysctl -qw net.ipv6.conf.$TAPDEV.disable_ipv6=1
  start_nginx "$@"
  ip netns exec $K $BIN/tcpipsharp up --tap $TAPDEV --ip 192.0.2.2/24 --no-ipv6 --no-mdns --services http $UPARGS > $X/stack.out 2>&1 & echo $! > $X/stack.pid
  sleep 3
}

# nginx alone, as start_servers starts it (not waited for).
start_nginx() {
  mkdir -p $X/ngx
  cat > $X/ngx/nginx.conf <<NG
worker_processes 1; pid $X/ngx/nginx.pid; error_log stderr warn; events { worker_connections $1; }
http { access_log off; client_body_temp_path $X/ngx/cb; proxy_temp_path $X/ngx/px; fastcgi_temp_path $X/ngx/fc;
  uwsgi_temp_path $X/ngx/uw; scgi_temp_path $X/ngx/sc; $2
  server { listen 8080 $3; root $X/www; } }
NG
  ip netns exec $A nginx -p $X/ngx -c $X/ngx/nginx.conf -g 'daemon off;' 2> $X/ngx.err & echo $! > $X/ngx.pid
}

# The pid of the server named stack or nginx.
server_pid() { [ "$1" = stack ] && cat $X/stack.pid || cat $X/ngx.pid; }

# CPU time (ns on a CPU, from schedstat) of a process's threads and its children's (nginx's worker): the server's cost,
# which moves less with the machine's load than requests per second do. One "TID NS" line per thread; cpudiff sums
# what each thread ran between two snapshots (a thread that ended in between, as the JIT's background worker does
# when idle, is left out rather than counted negative; a new one counts from 0).
cpuns() { local p t; for p in $1 $(cat /proc/$1/task/*/children 2>/dev/null); do for t in /proc/$p/task/*; do
  echo "${t##*/} $(cut -d' ' -f1 $t/schedstat 2>/dev/null)"; done; done; }
cpudiff() { awk 'NR==FNR {a[$1]=$2; next} $2 != "" {s += $2 - ($1 in a ? a[$1] : 0)} END {printf "%.0f", s}' "$1" "$2"; }
