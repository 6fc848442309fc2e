#!/usr/bin/env python3
"""Where a TCP sender stalled: every pause of more than 100 ms between the frames it sent, in a pcap (classic format,
Ethernet, IPv4) written by the sender itself (`tcpipsharp send --pcap FILE`, or tools/loss-ab.sh with PCAP=FILE).

usage: tools/rto-gaps.py FILE SENDER-IPV4 [N]
Prints one summary line per pause (what was sent last, the last ACK before it with its SACK blocks, what went next),
then the 40 frames before each of the first N pauses (default 0), sequence numbers relative to the first data byte.
A pause after an ACK that came in after the last frame sent is a stall of the sender; one after the last frame with
no ACK since is a retransmission timeout waiting for a lost segment or ACK."""
import struct, sys

def frames(path, sender):
    with open(path, 'rb') as f:
        magic = struct.unpack('<I', f.read(24)[:4])[0]
        nano = magic == 0xa1b23c4d
        while True:
            h = f.read(16)
            if len(h) < 16:
                return
            sec, frac, incl, _ = struct.unpack('<IIII', h)
            d = f.read(incl)
            if d[12:14] != b'\x08\x00' or len(d) < 34:
                continue
            ip = d[14:]; ihl = (ip[0] & 15) * 4
            if ip[9] != 6:
                continue
            tcp = ip[ihl:]; off = (tcp[12] >> 4) * 4
            seq, ack = struct.unpack('>II', tcp[4:12])
            length = struct.unpack('>H', ip[2:4])[0] - ihl - off
            sacks, opts, i = [], tcp[20:off], 0
            while i < len(opts) and opts[i] != 0:
                if opts[i] == 1:
                    i += 1; continue
                if i + 1 >= len(opts) or opts[i + 1] < 2:
                    break
                if opts[i] == 5:
                    sacks += [struct.unpack('>II', opts[j:j + 8]) for j in range(i + 2, i + opts[i + 1] - 7, 8)]
                i += opts[i + 1]
            yield sec + frac / (1e9 if nano else 1e6), ip[12:16] == sender, seq, ack, length, sacks

def main():
    if len(sys.argv) < 3:
        print(__doc__); sys.exit(2)
    sender = bytes(int(x) for x in sys.argv[2].split('.'))
    show = int(sys.argv[3]) if len(sys.argv) > 3 else 0
    pk = list(frames(sys.argv[1], sender))
    base = next((p[2] for p in pk if p[1] and p[4] > 0), 0)
    rel = lambda s: (s - base) & 0xffffffff
    out = [i for i, p in enumerate(pk) if p[1]]
    gaps = [b for a, b in zip(out, out[1:]) if pk[b][0] - pk[a][0] > 0.1]
    print(f"{len(pk)} frames, {len(gaps)} pauses over 100 ms")
    for g in gaps:
        last = max(i for i in out if i < g)
        acks = [p for p in pk[:g] if not p[1]]
        a = acks[-1] if acks else None
        ack_text = f"last ACK {rel(a[3])} at {a[0] - pk[last][0]:+.6f} s, SACK {[(rel(l), rel(r)) for l, r in a[5]]}" if a else "no ACK"
        print(f"{pk[g][0] - pk[last][0]:.3f} s after sending {rel(pk[last][2])}; {ack_text}; then {rel(pk[g][2])}")
    for g in gaps[:show]:
        print(f"---- before the pause at frame {g}")
        for t, mine, seq, ack, length, sacks in pk[max(0, g - 40):g + 3]:
            print(f"{t:.6f} > seq {rel(seq)} len {length}" if mine else
                  f"{t:.6f}   < ack {rel(ack)} SACK {[(rel(l), rel(r)) for l, r in sacks]}")

main()
