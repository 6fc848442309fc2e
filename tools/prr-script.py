#!/usr/bin/env python3
# Writes the PRR packetdrill scripts (Stack.Tests/Tcp/Scripts/prr-*.pkt) from RFC 6937/9937 pseudocode:
#   tools/prr-script.py NewReno Stack.Tests/Tcp/Scripts/prr-proportional-reduction.pkt
#   tools/prr-script.py Cubic Stack.Tests/Tcp/Scripts/prr-proportional-reduction-cubic.pkt
import math,sys
cc=sys.argv[1]; out=sys.argv[2]
MSS=1000; recoverfs=20000
ssthresh=10000 if cc=="NewReno" else int(20000*0.7)
share="one new segment for every two ACKs" if cc=="NewReno" else "seven new segments for every ten ACKs"
L=[f"""// Proportional Rate Reduction (RFC 6937 3 and 6, RFC 9937) with {cc}: one segment of twenty lost. The first two
// duplicate ACKs each let one new segment out (limited transmit, RFC 3042); the third starts recovery with
// ssthresh = {ssthresh} ({'half' if cc=='NewReno' else '0.7 times'} the window; RFC 5681 3.2: limited-transmit data left out) and RecoverFS = 20000
// (cwnd before the reduction, as Linux's prior_cwnd), and lets the fast retransmission out. While pipe is above
// ssthresh, PRR sends ssthresh / RecoverFS of what is delivered, {share}
// (sndcnt = CEIL(prr_delivered * ssthresh / RecoverFS) - prr_out), where RFC 6675 alone would send nothing until
// pipe fell below cwnd = ssthresh. Once pipe reaches ssthresh the reduction bound holds it there: these duplicate
// ACKs do not advance SND.UNA, so the conservative bound (prr_delivered - prr_out) applies and each ACK lets one
// segment out for the one it reports delivered. The full ACK ends recovery with cwnd = ssthresh. The expected
// segments were computed from the RFC's pseudocode (tools/prr-script.py), not taken from the stack.
--tcp.CongestionControl={cc}
--tcp.InitialWindowSegments=20
0     listen(8080, 1)
+0    < S 0:0(0) win 65535 <mss 1000,sackOK,nop,nop,nop,wscale 7>
+0    > S. 0:0(0) ack 1 <mss 1460,nop,nop,sackOK,nop,wscale 3>
+0.1  < . 1:1(0) ack 1 win 500
+0    accept()
+0    write(40000)"""]
for i in range(20):
    L.append(f"+0    > . {1+i*1000}:{1001+i*1000}(1000) ack 1")
L.append("+0    %{ cwnd == 20000 }%")
sndmax=20001
prr_del=prr_out=0; prop=bound=0
rtx=False
k=0
while True:
    k+=1
    right=(k+1)*1000+1
    if right>sndmax or k>27: break
    L.append(f"+0.002 < . 1:1(0) ack 1 win 500 <nop,nop,sack 1001:{right}>")
    if k<3:
        L.append(f"+0    > . {sndmax}:{sndmax+1000}(1000) ack 1"); sndmax+=1000; continue
    prr_del+=1000
    pipe=(1000 if rtx else 0)+(sndmax-right)
    if pipe>ssthresh:
        snd=math.ceil(prr_del*ssthresh/recoverfs)-prr_out; prop+=1
    else:
        snd=min(ssthresh-pipe, max(prr_del-prr_out,1000)); bound+=1
    if prr_out==0: snd=max(snd,MSS)
    cwnd=pipe+max(snd,0)
    if k==3:
        L.append("+0    > . 1:1001(1000) ack 1"); rtx=True; prr_out+=1000; pipe+=1000
    while cwnd-pipe>=MSS and sndmax<40001:
        flag="P." if sndmax+1000==40001 else "."
        L.append(f"+0    > {flag} {sndmax}:{sndmax+1000}(1000) ack 1"); sndmax+=1000; prr_out+=1000; pipe+=1000
    if k==17:
        L.append(f"+0    %{{ stats.PrrProportionalAcks == {prop} and stats.PrrBoundAcks == {bound} }}%")
L.append(f"+0    %{{ stats.PrrProportionalAcks == {prop} and stats.PrrBoundAcks == {bound} }}%")
L.append(f"+0.002 < . 1:1(0) ack {sndmax} win 500")
rest=40001-sndmax
if rest>0:
    L.append(f"// The rest of the write goes at once: {rest} bytes, within cwnd = ssthresh.")
    n=min(rest, ssthresh)//1000
    for i in range(n):
        flag="P." if sndmax+1000==40001 else "."
        L.append(f"+0    > {flag} {sndmax}:{sndmax+1000}(1000) ack 1"); sndmax+=1000
L.append(f"+0    %{{ cwnd == {ssthresh} and stats.FastRetransmits == 1 }}%")
open(out,"w").write("\n".join(L)+"\n")
