import socket, struct, sys, time, statistics
# N sequential A queries for NAME to SERVER:53 over UDP; prints queries/s and the median and 99th percentile in us.
server, name, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
q = b"".join(bytes([len(l)]) + l.encode() for l in name.split(".")) + b"\0" + struct.pack("!HH", 1, 1)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(2); s.connect((server, 53))
lat = []; lost = 0; start = time.perf_counter()
for i in range(n):
    t = time.perf_counter(); s.send(struct.pack("!HHHHHH", i & 0xFFFF, 0x0100, 1, 0, 0, 0) + q)
    try:
        while struct.unpack("!H", s.recv(512)[:2])[0] != i & 0xFFFF: pass
        lat.append(time.perf_counter() - t)
    except socket.timeout: lost += 1
total = time.perf_counter() - start
lat.sort()
print(f"{n / total:.0f} q/s median {lat[len(lat)//2]*1e6:.0f} us p99 {lat[int(len(lat)*0.99)]*1e6:.0f} us lost {lost}")
