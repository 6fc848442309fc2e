# Sourced by tools/gateway-cps.sh and tools/gateway-iperf.sh: the namespaces of a gateway measurement and their cleanup.
# Set before sourcing: PREFIX (two letters: the namespaces' and the veth's names start with it) and TAG (the temporary
# directory's name). It gives X (a temporary directory), G (the guest: made by the caller per gateway, removed by
# stop_gw), S (the gateway's namespace, 198.51.100.1 on its loopback), K and NG (the kernel's figure: 198.51.100.2 and
# 198.51.100.1 joined by a veth), stop_gw (ends the gateway whose pid is in $X/gw.pid, then calls gw_stopped if the
# caller defines it, and removes the guest) and, on exit, cleanup (the gateway, every server whose pid is in $X/*.pid,
# the namespaces, $X). No route leaves any namespace.
X=$(mktemp -d /tmp/$TAG.XXXXXX); chmod 755 $X
G=${PREFIX}G; S=${PREFIX}S; K=${PREFIX}K; NG=${PREFIX}N
stop_gw() {
  if [ -f $X/gw.pid ]; then local P=$(cat $X/gw.pid); kill -TERM $P 2>/dev/null
    for i in $(seq 1 20); do kill -0 $P 2>/dev/null || break; sleep 0.25; done; kill -KILL $P 2>/dev/null; rm -f $X/gw.pid
    if declare -F gw_stopped > /dev/null; then gw_stopped; fi; fi
  ip netns del $G 2>/dev/null
}
cleanup() {
  stop_gw
  for f in $X/*.pid; do [ -f "$f" ] && kill $(cat $f) 2>/dev/null; done; sleep 0.5
  for n in $S $K $NG; do ip netns del $n 2>/dev/null; done; rm -rf $X
}
trap cleanup EXIT
ip netns add $S; ip netns add $K; ip netns add $NG
for n in $S $K $NG; do ip -n $n link set lo up; done
ip -n $S addr add 198.51.100.1/24 dev lo
ip link add ${PREFIX}v0 netns $K type veth peer name ${PREFIX}v1 netns $NG
ip -n $K link set ${PREFIX}v0 up; ip -n $NG link set ${PREFIX}v1 up
ip -n $K addr add 198.51.100.2/24 dev ${PREFIX}v0; ip -n $NG addr add 198.51.100.1/24 dev ${PREFIX}v1
