using System.Diagnostics;
using TcpIpSharp.Links;
using TcpIpSharp.Wire;

namespace TcpIpSharp.Tests.Interop;

/// <summary>
/// The least a host must do to be pinged: answer ARP requests for its address and ICMP echo requests to it, built by
/// hand from the wire records. Proves a link carries frames both ways before the real stack is in play.
/// </summary>
public static class MiniResponder
{
    /// <summary>What <see cref="Serve"/> saw and did.</summary>
    public readonly record struct Tally(int FramesIn, int ArpReplies, int EchoReplies, int FramesFromSelf, int SendFailures);

    /// <summary>Writes the reply to <paramref name="frame"/> into <paramref name="reply"/> and returns its length, or 0 when the frame needs none.</summary>
    public static int Reply(ReadOnlySpan<byte> frame, Span<byte> reply, MacAddress mac, Ipv4Address ip)
    {
        if (EthernetFrame.TryParse(frame, out var ethernet) != WireError.None) return 0;
        if (ethernet.EtherType == EtherType.Arp)
        {
            if (ArpPacket.TryParse(ethernet.Payload, out var arp) != WireError.None) return 0;
            if (arp.Operation != ArpOperation.Request || arp.TargetProtocolAddress != ip) return 0;
            // RFC 826: swap sender and target, fill in our hardware address, reply to the asker directly.
            int n = new EthernetHeader(arp.SenderHardwareAddress, mac, EtherType.Arp).WriteTo(reply);
            n += new ArpHeader(ArpOperation.Reply, mac, ip, arp.SenderHardwareAddress, arp.SenderProtocolAddress).WriteTo(reply[n..]);
            return n;
        }
        if (ethernet.EtherType == EtherType.Ipv4)
        {
            if (Ipv4Packet.TryParse(ethernet.Payload, out var packet) != WireError.None) return 0;
            if (packet.Destination != ip || packet.IsFragment || packet.Protocol != IpProtocol.Icmp || !packet.IsChecksumValid) return 0;
            if (IcmpPacket.TryParse(packet.Payload, out var icmp) != WireError.None) return 0;
            if (icmp.Type != IcmpType.EchoRequest || !icmp.IsChecksumValid) return 0;
            int messageLength = icmp.Bytes.Length;
            int n = new EthernetHeader(ethernet.Source, mac, EtherType.Ipv4).WriteTo(reply);
            n += new Ipv4Header(ip, packet.Source, IpProtocol.Icmp, (ushort)(Ipv4Header.MinimumSize + messageLength), packet.Identification).WriteTo(reply[n..]);
            // RFC 792 echo: the reply carries the request's identifier, sequence number and data.
            var message = reply.Slice(n, messageLength);
            IcmpHeader.Echo(IcmpType.EchoReply, icmp.Identifier, icmp.SequenceNumber).WriteTo(message);
            icmp.Data.CopyTo(message[IcmpHeader.Size..]);
            IcmpHeader.FillChecksum(message);
            return n + messageLength;
        }
        return 0;
    }

    /// <summary>Answers on <paramref name="link"/> until <paramref name="done"/> says so or <paramref name="limit"/> passes.</summary>
    public static Tally Serve(ILink link, MacAddress mac, Ipv4Address ip, Func<bool> done, TimeSpan limit)
    {
        var frame = new byte[link.Capabilities.MaxFrameSize];
        var reply = new byte[link.Capabilities.MaxFrameSize];
        int framesIn = 0, arp = 0, echo = 0, fromSelf = 0, failures = 0;
        var clock = Stopwatch.StartNew();
        while (!done() && clock.Elapsed < limit)
        {
            link.WaitReadable(TimeSpan.FromMilliseconds(50));
            int length;
            while ((length = link.TryReceive(frame)) > 0)
            {
                framesIn++;
                if (MacAddress.Read(frame.AsSpan(6)) == mac) fromSelf++;
                int n = Reply(frame.AsSpan(0, length), reply, mac, ip);
                if (n == 0) continue;
                if (!link.TrySend(reply.AsSpan(0, n))) failures++;
                else if (EthernetFrame.TryParse(reply.AsSpan(0, n), out var sent) == WireError.None && sent.EtherType == EtherType.Arp) arp++;
                else echo++;
            }
        }
        return new Tally(framesIn, arp, echo, fromSelf, failures);
    }
}
