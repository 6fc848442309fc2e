#!/usr/bin/env python3
# usage: tools/repeat-conversation.py IN.pcap OUT.pcap FRAMES   (classic pcap, Ethernet, IPv4, one TCP conversation)
# Repeats a pcap's single TCP conversation N times, each copy with its own client port (checksum fixed by RFC 1624)
# and its times shifted past the previous copy: a large capture of distinct connections for a speed run.
import struct, sys
src, dst, target = sys.argv[1], sys.argv[2], int(sys.argv[3])
data = open(src, 'rb').read()
header, body = data[:24], data[24:]
recs, at = [], 0
while at < len(body):
    ts, us, incl, orig = struct.unpack('<IIII', body[at:at+16])
    recs.append((ts, us, orig, bytearray(body[at+16:at+16+incl]))); at += 16 + incl
client_port = None
for _, _, _, f in recs:
    if f[23] == 6 and f[47] & 0x02 and not f[47] & 0x10:  # the SYN: its source port is the client's
        client_port = struct.unpack('>H', f[34:36])[0]; break
span = (recs[-1][0] - recs[0][0]) * 1_000_000 + recs[-1][1] - recs[0][1] + 100_000
def csum_adjust(old_sum, old, new):
    s = (~old_sum & 0xFFFF) + (~old & 0xFFFF) + new
    s = (s & 0xFFFF) + (s >> 16); s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF
out = [header]; n = 0; copy = 0
while n < target:
    port = client_port + copy if client_port + copy < 65536 else 1024 + copy
    for ts, us, orig, f in recs:
        if n >= target: break
        g = bytearray(f)
        if g[12:14] == b'\x08\x00' and g[23] == 6:
            for off in (34, 36):
                if struct.unpack('>H', g[off:off+2])[0] == client_port:
                    old_sum = struct.unpack('>H', g[50:52])[0]
                    g[off:off+2] = struct.pack('>H', port)
                    g[50:52] = struct.pack('>H', csum_adjust(old_sum, client_port, port))
        t = ts * 1_000_000 + us + copy * span
        out.append(struct.pack('<IIII', t // 1_000_000, t % 1_000_000, len(g), orig) + bytes(g)); n += 1
    copy += 1
open(dst, 'wb').write(b''.join(out))
print(f"{n} frames, {copy} copies of the conversation, client ports {client_port}..{client_port + copy - 1}")
