#!/usr/bin/env bash
# The newcomer's path of docs/getting-started.md, run for real (issue 9): packs the library (TcpIpSharp) and the tool
# (TcpIpSharp.Tool, command tcpipsharp) into a temporary feed, installs the tool from it into a temporary tool path
# (the package of this machine's RID, checked ReadyToRun; --version, decode), runs `tcpipsharp up` on a TAP in a
# throwaway namespace and pings and curls it, then makes a fresh console project in /tmp that takes TcpIpSharp from
# that feed, pastes in examples/ArticleClient.cs (getaddrinfo, connect, send, recv) and runs it against the kernel's
# python3 http.server through the TAP.
# Needs root, a Release build (./test.sh or `dotnet build TcpIpSharp.sln -c Release` first), iproute2, ping, curl,
# python3, and the NuGet registry for the library's dependencies. Prints package sizes, the example's output and the
# tool's version line; removes everything it made, also on failure. Exit 0 when every step did what the guide says.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

fail() { echo "newcomer: FAILED: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || fail "needs root (network namespace and TAP device)"
for t in ip ping curl python3; do command -v $t >/dev/null || fail "'$t' is not installed (Debian: iproute2 iputils-ping curl python3)"; done
[ -f "$repo/Stack/bin/Release/net10.0/TcpIpSharp.dll" ] && [ -f "$repo/Stack.Tap/bin/Release/net10.0/TcpIpSharp.Tap.dll" ] \
  || fail "no Release build: run 'dotnet build TcpIpSharp.sln -c Release' first"

work=$(mktemp -d /tmp/tcpipsharp-newcomer.XXXXXX)
ns="tis-newcomer-$$"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  ip netns del "$ns" 2>/dev/null || true
  rm -rf "$work"
}
[ -n "${NEWCOMER_KEEP:-}" ] && trap 'echo "kept $work and namespace $ns"' EXIT || trap cleanup EXIT
step() { echo "\$ $*"; }

feed="$work/feed"; tools="$work/tools"; version=$(sed -nE 's|.*<Version>(.*)</Version>.*|\1|p' "$repo/Directory.Build.props")
registry=$(dotnet nuget list source --format short 2>/dev/null | awk '$1 ~ /^E/ {print $2; exit}')
[ -n "$registry" ] || fail "no enabled NuGet source (dotnet nuget list source)"
cat >"$work/nuget.config" <<EOF
<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <packageSources>
    <clear />
    <add key="tcpipsharp-local" value="$feed" />
    <add key="registry" value="$registry" />
  </packageSources>
</configuration>
EOF

# 1. Pack the library and the tool.
cd "$repo"
step "dotnet pack Stack -c Release --no-build -o $feed"
timeout 120 dotnet pack Stack -c Release --no-build -o "$feed" -nologo -v q >"$work/pack.log" 2>&1 || { cat "$work/pack.log"; fail "dotnet pack Stack"; }
# The tool is one package per RID (ReadyToRun for linux-x64 and linux-arm64, IL for any other) and the package that
# points to them: pack builds and ReadyToRun-compiles each RID itself, so not --no-build here (the RID-neutral build in
# bin/Release is reused as it is).
step "dotnet pack Stack.Tap -c Release -o $feed"
timeout 240 dotnet pack Stack.Tap -c Release -o "$feed" -nologo -v q >"$work/pack.log" 2>&1 || { cat "$work/pack.log"; fail "dotnet pack Stack.Tap"; }
for id in TcpIpSharp TcpIpSharp.Tool TcpIpSharp.Tool.linux-x64 TcpIpSharp.Tool.linux-arm64 TcpIpSharp.Tool.any; do
  p="$feed/$id.$version.nupkg"
  [ -f "$p" ] || fail "missing $(basename "$p")"
  printf 'package %-40s %8d bytes\n' "$(basename "$p")" "$(stat -c %s "$p")"
done

# 2. Install the tool, ask its version, decode a capture.
# NuGet: the packages come from our feed, their dependencies from the registry this machine uses; a packages folder of
# its own, so a TcpIpSharp of the same version restored earlier cannot stand in for the one just packed (set only now:
# packing uses the repository's own restore).
export NUGET_PACKAGES="$work/packages"
step "dotnet tool install TcpIpSharp.Tool --version $version --tool-path $tools --configfile nuget.config"
timeout 180 dotnet tool install TcpIpSharp.Tool --version "$version" --tool-path "$tools" --configfile "$work/nuget.config" >"$work/tool.log" 2>&1 \
  || { cat "$work/tool.log"; fail "dotnet tool install"; }
# The CLI picks the package of this machine's RID; on x64 and arm64 that one is ReadyToRun (its program's assembly
# carries native code: a READYTORUN_HEADER, signature "RTR", behind the CLI header's ManagedNativeHeader).
case "$(uname -m)" in x86_64) rid=linux-x64 ;; aarch64) rid=linux-arm64 ;; *) rid=any ;; esac
installed="$tools/.store/tcpipsharp.tool/$version/tcpipsharp.tool.$rid/$version/tools/net10.0/$rid"
[ -d "$installed" ] || fail "no TcpIpSharp.Tool.$rid installed: $(ls "$tools/.store/tcpipsharp.tool/$version" 2>/dev/null | tr '\n' ' ')"
if [ "$rid" != any ]; then
  # A RID-specific tool's command is a link to its own executable (the IL package's is a launcher of the dll).
  entry=$(readlink -f "$tools/tcpipsharp")
  [ "$entry" = "$(readlink -f "$installed")/TcpIpSharp.Tap" ] || fail "tcpipsharp runs $entry, not the package TcpIpSharp.Tool.$rid"
  step "ReadyToRun? $installed"
  python3 - "$installed" <<'PY' || fail "the $rid package is not ReadyToRun"
import struct, sys
def ready_to_run(path):
    d = open(path, 'rb').read()
    pe = struct.unpack_from('<I', d, 0x3c)[0]
    sections, optional = struct.unpack_from('<H', d, pe + 6)[0], struct.unpack_from('<H', d, pe + 20)[0]
    magic = struct.unpack_from('<H', d, pe + 24)[0]
    directories = pe + 24 + (96 if magic == 0x10b else 112)
    def offset(rva):
        for i in range(sections):
            size, va, _, raw = struct.unpack_from('<IIII', d, pe + 24 + optional + 40 * i + 8)
            if va <= rva < va + max(size, 1): return rva - va + raw
        raise ValueError(f"RVA {rva:#x} in no section")
    cli = offset(struct.unpack_from('<I', d, directories + 14 * 8)[0])
    native = struct.unpack_from('<I', d, cli + 64)[0]
    return native != 0 and struct.unpack_from('<I', d, offset(native))[0] == 0x00525452
for name in ('TcpIpSharp.Tap.dll', 'TcpIpSharp.dll', 'System.CommandLine.dll'):
    ok = ready_to_run(f"{sys.argv[1]}/{name}")
    print(f"{name}: {'ReadyToRun' if ok else 'IL only'}")
    if not ok: sys.exit(1)
PY
fi
step "tcpipsharp --version"
line=$("$tools/tcpipsharp" --version) || fail "tcpipsharp --version"
echo "$line"
[ "$line" = "tcpipsharp $version" ] || fail "version line '$line', expected 'tcpipsharp $version'"
step "tcpipsharp decode Stack.Tests/Captures/ping.pcap"
"$tools/tcpipsharp" decode "$repo/Stack.Tests/Captures/ping.pcap" >"$work/decode.txt" || fail "tcpipsharp decode"
head -4 "$work/decode.txt"
grep -q "ICMP echo request" "$work/decode.txt" || fail "decode printed no ICMP echo request"

# 3. A throwaway namespace with a TAP: the kernel's side is 192.0.2.1, the stack will be 192.0.2.2.
step "ip netns add $ns; ip -n $ns tuntap add dev tap0 mode tap; ip -n $ns addr add 192.0.2.1/24 dev tap0; ip -n $ns link set tap0 up"
ip netns add "$ns"
ip -n "$ns" link set lo up
ip -n "$ns" tuntap add dev tap0 mode tap
ip -n "$ns" addr add 192.0.2.1/24 dev tap0
ip -n "$ns" link set tap0 up

# 4. The stack as a host: ping it, curl its status page.
step "ip netns exec $ns tcpipsharp up --tap tap0 --ip 192.0.2.2/24 &"
ip netns exec "$ns" "$tools/tcpipsharp" up --tap tap0 --ip 192.0.2.2/24 >"$work/up.log" 2>&1 &
up=$!; pids+=("$up")
for i in $(seq 1 40); do ip netns exec "$ns" ping -c 1 -W 1 192.0.2.2 >/dev/null 2>&1 && break; sleep 0.25; [ "$i" = 40 ] && { cat "$work/up.log"; fail "the stack did not answer ping within 20 s"; }; done
step "ip netns exec $ns ping -c 3 -i 0.2 192.0.2.2"
ip netns exec "$ns" ping -c 3 -i 0.2 192.0.2.2 | tail -2 || fail "ping"
step "ip netns exec $ns curl -s http://192.0.2.2/"
ip netns exec "$ns" curl -sS -m 10 http://192.0.2.2/ >"$work/curl.txt" || fail "curl http://192.0.2.2/"
head -3 "$work/curl.txt"
[ -s "$work/curl.txt" ] || fail "curl got an empty page"
kill -TERM "$up"; wait "$up" 2>/dev/null || true

# 5. A first socket program from the package: the Pico client example against the kernel's http.server.
mkdir -p "$work/www"; echo "Hello from the kernel's http.server" >"$work/www/index.html"
step "ip netns exec $ns python3 -m http.server 8000 --bind 192.0.2.1 &"
ip netns exec "$ns" python3 -m http.server 8000 --bind 192.0.2.1 --directory "$work/www" >"$work/http.log" 2>&1 &
pids+=("$!")
cd "$work"
step "dotnet new console -o hello"
timeout 120 dotnet new console -o hello >"$work/new.log" 2>&1 || { cat "$work/new.log"; fail "dotnet new console"; }
cp "$work/nuget.config" hello/nuget.config
cd hello
step "dotnet add package TcpIpSharp --version $version"
timeout 180 dotnet add package TcpIpSharp --version "$version" >"$work/add.log" 2>&1 || { cat "$work/add.log"; fail "dotnet add package"; }
step "cp examples/ArticleClient.cs . ; cat > Program.cs"
cp "$repo/examples/ArticleClient.cs" .
sed -n '/^```csharp newcomer-program/,/^```/p' "$repo/docs/getting-started.md" | sed '1d;$d' >Program.cs
[ -s Program.cs ] || fail "no Program.cs in docs/getting-started.md (a \`\`\`csharp newcomer-program block)"
step "dotnet build -c Release   (CA1416, the Linux-only TapLink without a platform declaration, is an error here)"
timeout 240 dotnet build -c Release -nologo -v q -p:WarningsAsErrors=CA1416 >"$work/build.log" 2>&1 || { cat "$work/build.log"; fail "dotnet build of the console project"; }
for i in $(seq 1 40); do ip netns exec "$ns" python3 -c "import socket; socket.create_connection(('192.0.2.1', 8000), 1)" 2>/dev/null && break; sleep 0.25; done
step "ip netns exec $ns dotnet run -c Release --no-build -- 192.0.2.1 8000"
timeout 60 ip netns exec "$ns" dotnet run -c Release --no-build -- 192.0.2.1 8000 >"$work/run.txt" 2>&1 || { cat "$work/run.txt"; fail "the example program"; }
echo "--- the example's output"
cat "$work/run.txt"
echo "---"
grep -q "^HTTP/1.0 200 OK" "$work/run.txt" || fail "no 'HTTP/1.0 200 OK' from the example"
grep -q "Hello from the kernel's http.server" "$work/run.txt" || fail "the example did not print the page"
echo "newcomer: ok"
