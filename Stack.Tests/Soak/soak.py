#!/usr/bin/python3
"""Mixed traffic against `tcpipsharp up --admin` for a bounded time (SoakTests.cs runs it in the peer namespace).

usage: soak.py STACK_IP SECONDS LONG_TRANSFERS DNS_PREFIX EXPECTED_DNS_ADDRESS [RATE]

Runs at once, each in its own thread, until SECONDS have passed:
  - short HTTP requests: GET /bytes/N (N random up to 200,000), two clients of RATE requests a second each (10 by
    default; paced, so that the number of connections the stack holds in TIME-WAIT does not depend on the machine's
    speed), each body compared byte for byte;
  - LONG_TRANSFERS long downloads (20 to 50 MB), spread over the time, each compared byte for byte as it streams;
  - ping (iputils, 5 a second);
  - UDP echo to port 7: a random datagram (1 to 1,472 bytes, a sequence number first), the reply must be identical;
    a datagram with no reply within 300 ms is sent again (up to 10 times);
  - DNS: GET /resolve/<unique name under DNS_PREFIX>, answered by the stack's own resolver from dnsmasq, which must
    give EXPECTED_DNS_ADDRESS (RATE / 2 lookups a second).
Prints one line `soak {json}` with the counts; every error is listed (at most 20) and counted. Exit status 0 always
(the test asserts on the counts).
"""
import hashlib
import json
import os
import random
import socket
import subprocess
import sys
import threading
import time

STACK, SECONDS, LONG, DNS_PREFIX, DNS_EXPECTED = sys.argv[1], float(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5]
RATE = float(sys.argv[6]) if len(sys.argv) > 6 else 10.0
PERIOD = 251
BLOCK = bytes(i % PERIOD for i in range(PERIOD * 1024))  # the stack's /bytes/N pattern: byte i is i % 251
DEADLINE = time.monotonic() + SECONDS

lock = threading.Lock()
counts = {
    "http_requests": 0, "http_bytes": 0,
    "long_transfers": 0, "long_bytes": 0,
    "pings_sent": 0, "pings_received": 0,
    "udp_echoes": 0, "udp_bytes": 0, "udp_resent": 0, "udp_late_replies": 0,
    "dns_lookups": 0,
    "errors": 0,
}
errors = []


def add(**kw):
    with lock:
        for k, v in kw.items():
            counts[k] += v


def error(what):
    with lock:
        counts["errors"] += 1
        if len(errors) < 20:
            errors.append(what)


def http_get(path, timeout=60):
    """Returns (status line, socket, leftover body bytes); the caller reads the body."""
    s = socket.create_connection((STACK, 80), timeout=timeout)
    s.sendall(f"GET {path} HTTP/1.1\r\nHost: {STACK}\r\nConnection: close\r\n\r\n".encode())
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = s.recv(65536)
        if not chunk:
            raise IOError(f"{path}: connection closed in the headers: {head!r}")
        head += chunk
    head, _, rest = head.partition(b"\r\n\r\n")
    lines = head.decode("ascii", "replace").split("\r\n")
    length = next((int(l.split(":", 1)[1]) for l in lines if l.lower().startswith("content-length:")), -1)
    return lines[0], length, s, rest


def check_pattern(data, offset):
    """Whether data equals the pattern at offset."""
    at = 0
    while at < len(data):
        start = (offset + at) % PERIOD
        n = min(len(data) - at, len(BLOCK) - start)
        if data[at:at + n] != BLOCK[start:start + n]:
            return False
        at += n
    return True


def download(n, timeout=60):
    status, length, s, got = http_get(f"/bytes/{n}", timeout)
    with s:
        if not status.endswith(" 200 OK") or length != n:
            raise IOError(f"/bytes/{n}: {status} length {length}")
        offset = 0
        buf = bytearray(1 << 20)
        view = memoryview(buf)
        while True:
            if got:
                if not check_pattern(bytes(got), offset):
                    raise IOError(f"/bytes/{n}: wrong bytes near offset {offset}")
                offset += len(got)
                got = b""
            if offset >= n:
                break
            r = s.recv_into(view)
            if r == 0:
                break
            got = view[:r]
        if offset != n:
            raise IOError(f"/bytes/{n}: {offset} bytes, not {n}")
    return n


def paced(rate):
    """Yields until the deadline, at most `rate` times a second (late iterations are not made up)."""
    period, next_at = 1.0 / rate, time.monotonic()
    while True:
        now = time.monotonic()
        if now >= DEADLINE:
            return
        if now < next_at:
            time.sleep(min(next_at - now, DEADLINE - now))
            continue
        next_at = max(next_at + period, now)
        yield


def short_http(seed):
    rng = random.Random(seed)
    for _ in paced(RATE):
        n = rng.randint(0, 200_000)
        try:
            add(http_requests=1, http_bytes=download(n))
        except Exception as e:  # noqa: BLE001 - every failure is a counted error
            error(f"short http {n}: {e!r}")


def long_transfers():
    rng = random.Random(7)
    for i in range(LONG):
        start = DEADLINE - SECONDS + i * SECONDS / LONG
        while time.monotonic() < start:
            time.sleep(0.05)
        n = rng.randint(20 << 20, 50 << 20)
        try:
            add(long_transfers=1, long_bytes=download(n, timeout=120))
        except Exception as e:  # noqa: BLE001
            error(f"long transfer {n}: {e!r}")


def pings():
    count = max(1, int(SECONDS * 5))
    r = subprocess.run(["ping", "-q", "-i", "0.2", "-W", "2", "-c", str(count), STACK], capture_output=True, text=True, timeout=SECONDS + 30)
    for line in r.stdout.splitlines():
        if "packets transmitted" in line:
            fields = line.split()
            add(pings_sent=int(fields[0]), pings_received=int(fields[3]))
            return
    error(f"ping printed no summary: {r.stdout} {r.stderr}")


def udp_echo():
    rng = random.Random(11)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.connect((STACK, 7))
    s.settimeout(0.3)
    seq = 0
    while time.monotonic() < DEADLINE:
        seq += 1
        payload = seq.to_bytes(8, "big") + rng.randbytes(rng.randint(0, 1464))
        for attempt in range(10):
            if attempt:
                add(udp_resent=1)
            s.send(payload)
            answered = False
            try:
                while True:
                    reply = s.recv(2048)
                    if reply[:8] != payload[:8]:
                        add(udp_late_replies=1)  # the echo of an earlier datagram sent again: both came back
                        continue
                    if reply != payload:
                        error(f"udp echo {seq}: {len(reply)} bytes differ from the {len(payload)} sent")
                    answered = True
                    break
            except socket.timeout:
                pass
            if answered:
                add(udp_echoes=1, udp_bytes=len(payload))
                break
        else:
            error(f"udp echo {seq}: no reply to 10 sends")
        time.sleep(0.01)


def dns():
    i = 0
    for _ in paced(RATE / 2):
        i += 1
        name = f"n{i}-{os.getpid()}.{DNS_PREFIX}"
        try:
            status, length, s, body = http_get(f"/resolve/{name}", timeout=60)
            with s:
                while length < 0 or len(body) < length:
                    chunk = s.recv(4096)
                    if not chunk:
                        break
                    body += chunk
            text = body.decode("ascii", "replace").strip()
            if not status.endswith(" 200 OK") or text.split()[:2] != [name, DNS_EXPECTED]:
                error(f"dns {name}: {status} {text!r}")
            else:
                add(dns_lookups=1)
        except Exception as e:  # noqa: BLE001
            error(f"dns {name}: {e!r}")


threads = [threading.Thread(target=f, args=a, daemon=True) for f, a in [
    (short_http, (1,)), (short_http, (2,)), (long_transfers, ()), (pings, ()), (udp_echo, ()), (dns, ()),
]]
for t in threads:
    t.start()
for t in threads:
    t.join(SECONDS + 300)
    if t.is_alive():
        error(f"{t.name} did not finish within {SECONDS + 300} s")
counts["error_list"] = errors
print("soak " + json.dumps(counts), flush=True)
