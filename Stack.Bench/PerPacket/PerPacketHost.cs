using System.Buffers.Binary;
using TcpIpSharp.Transport.Tcp;
using TcpIpSharp.Transport.Udp;
using TcpIpSharp.Wire;

namespace TcpIpSharp.Bench.PerPacket;

/// <summary>
/// The stack under test (A, 192.0.2.10, or 2001:db8::a over IPv6) with <c>connections</c> established TCP connections
/// to a peer stack (B, 192.0.2.11 or 2001:db8::b): one measured connection (timestamps off, so a full segment
/// carries 1460 bytes over IPv4 and 1440 over IPv6 at MTU 1500) and the rest idle (1 KB rings). Frames that B sent
/// during setup (ARP request or neighbour solicitation, echo request, UDP datagram, a full data segment, a pure ACK)
/// are kept as templates; afterwards A's link is a sink and the suites inject those templates, patching sequence and
/// acknowledgment numbers (with an incremental checksum update) so that each one is new to A.
/// <para>
/// Over IPv6 both stacks are dual-stack (their IPv4 addresses stay configured) with one static global address each,
/// duplicate address detection and router solicitation off; the connections, templates and answers are all IPv6.
/// Over IPv4 IPv6 is off, as before IPv6 existed, so the IPv4 rows compare with earlier sessions'.
/// </para>
/// </summary>
internal sealed class PerPacketHost : IDisposable
{
    /// <summary>
    /// `profile ... norack`: the measured connection without RACK-TLP (the duplicate-ACK threshold and the tail probe of
    /// before issue 16), so that a pure ACK does the work it did at 1c8a23c and the cost of the interface split can be
    /// told from that of RACK's per-ACK records (docs/benchmarks.md).
    /// </summary>
    public static bool WithoutRack { get; set; }

    /// <summary>The measured connection's full-segment payload over IPv4 (MTU 1500, no timestamps: 1500 - 20 - 20).</summary>
    public const int Ipv4Payload = 1460;
    /// <summary>Over IPv6 (1500 - 40 - 20): the frame on the wire is the same 1514 bytes as over IPv4.</summary>
    public const int Ipv6Payload = 1440;
    public static readonly Ipv4Address Ipv4A = Ipv4Address.Parse("192.0.2.10"), Ipv4B = Ipv4Address.Parse("192.0.2.11");
    public static readonly Ipv6Address Ipv6A = Ipv6Address.Parse("2001:db8::a"), Ipv6B = Ipv6Address.Parse("2001:db8::b");

    public readonly IpFamily Family;
    public readonly Frames Layout;
    /// <summary>A full segment's payload: <see cref="Ipv4Payload"/> or <see cref="Ipv6Payload"/>.</summary>
    public readonly int Payload;
    public readonly IpAddress AddressA, AddressB;
    public readonly NetworkStack A, B;
    public readonly BenchLink LinkA, LinkB;
    public readonly TimeSpan Now = TimeSpan.FromSeconds(10);
    public readonly TcpConnection Connection;      // A's end of the measured connection
    public readonly UdpEndpoint Udp;               // A's UDP endpoint, port 7000
    /// <summary>B's ARP request for A (IPv4) or neighbour solicitation for A's address (IPv6).</summary>
    public readonly byte[] ArpRequest;
    public readonly byte[] EchoRequest, UdpDatagram, DataSegment, PureAck;
    public uint DataSequence;                      // the sequence number of the next segment B "sends"
    public uint AckedTo;                           // what A has been told is acknowledged

    public PerPacketHost(int connections, IpFamily family = IpFamily.IPv4)
    {
        Family = family;
        Layout = Frames.For(family);
        var f = Layout;
        bool v6 = family == IpFamily.IPv6;
        Payload = v6 ? Ipv6Payload : Ipv4Payload;
        AddressA = v6 ? Ipv6A : Ipv4A;
        AddressB = v6 ? Ipv6B : Ipv4B;
        (LinkA, LinkB) = BenchLink.CreatePair();
        LinkA.Layout = LinkB.Layout = f;
        var recorded = new List<byte[]>();
        LinkB.Recorded = recorded;
        // The global bound on connections (16,384 by default) raised for the 100,000-connection rows (issue 18).
        var options = new NetworkStackOptions { PrefixLength = 24, TcpSynQueue = 1024, TcpMaxConnections = Math.Max(16_384, connections + 16) };
        Net.Ipv6.Ipv6Options Ipv6(Ipv6Address address) => new()
        {
            StaticAddresses = [(address, 64)],
            DupAddrDetectTransmits = 0,
            Autoconfigure = false,
            RouterSolicitations = 0,
        };
        A = new NetworkStack(LinkA, options with { MacAddress = MacAddress.Parse("02:00:00:00:00:0a"), Address = Ipv4A, Ipv6 = v6 ? Ipv6(Ipv6A) : null }, new SeededRandomSource(1));
        B = new NetworkStack(LinkB, options with { MacAddress = MacAddress.Parse("02:00:00:00:00:0b"), Address = Ipv4B, Ipv6 = v6 ? Ipv6(Ipv6B) : null }, new SeededRandomSource(2));

        // Static addresses without DAD become usable on the first poll (and the stacks send their MLD reports).
        Pump(() => true);

        // The measured connection: big rings, no timestamps (full segments of Payload bytes), B's window large enough for any burst.
        var measured = new TcpConnectionOptions { Timestamps = false, SendBufferSize = 8 << 20, ReceiveBufferSize = 1 << 20, RackLossDetection = !WithoutRack };
        var listener = A.ListenTcp(5001, 4, measured);
        var client = B.ConnectTcp(AddressA, 5001, measured with { ReceiveBufferSize = 8 << 20 });
        TcpConnection? server = null;
        Pump(() => server is not null || listener.TryAccept(out server));
        Connection = server!;

        ArpRequest = v6
            ? recorded.First(r => f.IsFamily(r) && r[f.IpProtocol] == 58 && r[f.TcpHeader] == 135 && Ipv6Address.Read(r.AsSpan(f.TcpHeader + 8)) == Ipv6A)
            : recorded.First(r => BinaryPrimitives.ReadUInt16BigEndian(r.AsSpan(Frames.EtherType)) == 0x0806
                && BinaryPrimitives.ReadUInt16BigEndian(r.AsSpan(Frames.Ip + 6)) == 1 && Ipv4Address.Read(r.AsSpan(Frames.Ip + 24)) == Ipv4A);
        LinkB.Recorded = null;

        // The idle ones: 1 KB rings, opened 500 at a time.
        var idle = new TcpConnectionOptions { SendBufferSize = 1024, ReceiveBufferSize = 1024 };
        // One listening port per 15,000 of them: B's ephemeral ports (RFC 6056, 16,384 by default) are per peer and port.
        var idleListeners = new List<Transport.Tcp.TcpListener>();
        for (int opened = 1; opened < connections;)
        {
            int port = (opened - 1) / 15_000;
            if (port == idleListeners.Count) idleListeners.Add(A.ListenTcp((ushort)(80 + port), 1024, idle));
            int batch = Math.Min(500, Math.Min(connections - opened, 15_000 - (opened - 1) % 15_000));
            for (int i = 0; i < batch; i++) B.ConnectTcp(AddressA, (ushort)(80 + port), idle);
            int accepted = 0;
            Pump(() => { while (idleListeners[port].TryAccept(out _)) accepted++; return accepted == batch; });
            opened += batch;
        }
        if (A.Tcp.Count != connections) throw new InvalidOperationException($"A has {A.Tcp.Count} connections, wanted {connections}");

        // Over IPv6 bound to :: (both families, as a Pico program binding '' gets); over IPv4 to 0.0.0.0 as before.
        UdpEndpoint Open(NetworkStack stack, ushort port) => v6
            ? (stack.OpenUdp(port, IpAddress.Any, out var endpoint) == NetError.None ? endpoint! : throw new InvalidOperationException("cannot bind UDP port " + port))
            : stack.OpenUdp(port);
        Udp = Open(A, 7000);
        var udpB = Open(B, 7001);
        var echo = B.OpenEchoClient(0x4242);

        // Templates from B, recorded and not delivered.
        LinkB.Connected = false;
        LinkB.Recorded = recorded;
        recorded.Clear();
        echo.Send(AddressA, 1, 56, Now);
        udpB.SendTo(new byte[64], AddressA, 7000);
        client.Send(new byte[Payload]);
        B.Poll(Now);
        recorded.RemoveAll(r => !f.IsFamily(r));
        EchoRequest = recorded.Single(r => r[f.IpProtocol] == f.Icmp && r[f.TcpHeader] == (v6 ? 128 : 8));
        UdpDatagram = recorded.Single(r => r[f.IpProtocol] == 17);
        DataSegment = recorded.Single(r => r[f.IpProtocol] == 6 && r.Length == f.TcpHeader + 20 + Payload);
        DataSequence = BinaryPrimitives.ReadUInt32BigEndian(DataSegment.AsSpan(f.TcpSequence));

        // B's pure ACK: A sends one segment to B, B acknowledges it (now, or when its delayed-ACK timer runs).
        LinkB.Connected = true;
        Connection.Send(new byte[Payload]);
        A.Poll(Now);
        recorded.Clear();
        B.Poll(Now);
        // B's delayed ACK (40 ms). Not later: by 500 ms B's tail-loss probe resends its data segment (A never took
        // it), which carries the ACK instead, and A would then take that data and be ahead of the templates.
        bool IsPureAck(byte[] r) => f.IsFamily(r) && r[f.IpProtocol] == 6 && r.Length == f.TcpHeader + 20 && r[f.TcpFlags] == 0x10;
        for (int ms = 1; ms <= 200 && !recorded.Any(IsPureAck); ms++) B.Poll(Now + TimeSpan.FromMilliseconds(ms));
        PureAck = recorded.Last(IsPureAck);
        AckedTo = BinaryPrimitives.ReadUInt32BigEndian(PureAck.AsSpan(f.TcpAcknowledgment));
        LinkB.Connected = false;
        LinkB.Recorded = null;
        LinkA.Connected = false;
        LinkA.TcpSentTo = AckedTo;
        A.Poll(Now);    // B's ACK reaches A: nothing outstanding now
        if (Connection.Available != 0 || recorded.Any(r => f.IsFamily(r) && r[f.IpProtocol] == 6 && r.Length > f.TcpHeader + 20))
            throw new InvalidOperationException("B sent data while its pure ACK was recorded: A is ahead of the data template");
        // B's data segment was recorded before A's segment reached B: acknowledge what B has acknowledged since, as
        // the next segment of a one-way transfer does (an older ACK number is valid too, but not the common case).
        Frames.Patch32(DataSegment, Layout.TcpAcknowledgment, AckedTo, Layout.TcpChecksum);
        if (Connection.State != TcpState.Established) throw new InvalidOperationException("the measured connection is " + Connection.State);
    }

    /// <summary>Hands A one frame and polls it once.</summary>
    public void Inject(byte[] frame)
    {
        LinkA.Feed(frame);
        A.Poll(Now);
    }

    /// <summary>Injects B's next in-order full data segment.</summary>
    public void InjectData()
    {
        Frames.Patch32(DataSegment, Layout.TcpSequence, DataSequence, Layout.TcpChecksum);
        DataSequence += (uint)Payload;
        Inject(DataSegment);
    }

    private byte[][] _dataBatch = [];

    /// <summary>Injects B's next <paramref name="count"/> in-order data segments, all taken by one poll (a batch read from the link).</summary>
    public void InjectDataBatch(int count)
    {
        if (_dataBatch.Length < count) _dataBatch = [.. Enumerable.Range(0, count).Select(_ => (byte[])DataSegment.Clone())];
        for (int i = 0; i < count; i++)
        {
            Frames.Patch32(_dataBatch[i], Layout.TcpSequence, DataSequence, Layout.TcpChecksum);
            DataSequence += (uint)Payload;
        }
        LinkA.FeedBatch(_dataBatch, count);
        A.Poll(Now);
    }

    /// <summary>Injects a pure ACK acknowledging <paramref name="to"/>.</summary>
    public void InjectAck(uint to)
    {
        // In order: the template was recorded after B's data segment, which A never took, so its sequence number is ahead.
        Frames.Patch32(PureAck, Layout.TcpSequence, DataSequence, Layout.TcpChecksum);
        Frames.Patch32(PureAck, Layout.TcpAcknowledgment, to, Layout.TcpChecksum);
        AckedTo = to;
        Inject(PureAck);
    }

    private byte[][] _ackBatch = [];

    /// <summary>Injects <paramref name="count"/> pure ACKs, each acknowledging <paramref name="step"/> more bytes, all taken by one poll (a batch read from the link).</summary>
    public void InjectAckBatch(int count, uint step)
    {
        if (_ackBatch.Length < count) _ackBatch = [.. Enumerable.Range(0, count).Select(_ => (byte[])PureAck.Clone())];
        for (int i = 0; i < count; i++)
        {
            AckedTo += step;
            Frames.Patch32(_ackBatch[i], Layout.TcpSequence, DataSequence, Layout.TcpChecksum);
            Frames.Patch32(_ackBatch[i], Layout.TcpAcknowledgment, AckedTo, Layout.TcpChecksum);
        }
        LinkA.FeedBatch(_ackBatch, count);
        A.Poll(Now);
    }

    /// <summary>Polls both stacks until <paramref name="done"/> holds (throws after 100,000 rounds).</summary>
    public void Pump(Func<bool> done)
    {
        for (int i = 0; i < 100_000; i++)
        {
            bool worked = A.Poll(Now) | B.Poll(Now);
            if (done() && !worked) return;
        }
        throw new TimeoutException($"the stacks did not settle: A {string.Join("; ", A.TcpSnapshot())} | B {string.Join("; ", B.TcpSnapshot().Take(3))} | A arp {A.Statistics.Arp.Received}/{A.Statistics.Arp.Sent} B arp {B.Statistics.Arp.Received}/{B.Statistics.Arp.Sent}");
    }

    public void Dispose()
    {
        A.Dispose();
        B.Dispose();
    }
}
