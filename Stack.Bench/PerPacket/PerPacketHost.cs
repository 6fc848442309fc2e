using System.Buffers.Binary;
using TcpIpSharp.Transport.Tcp;
using TcpIpSharp.Transport.Udp;
using TcpIpSharp.Wire;

namespace TcpIpSharp.Bench.PerPacket;

/// <summary>
/// The stack under test (A, 192.0.2.10) with <c>connections</c> established TCP connections to a peer stack (B,
/// 192.0.2.11): one measured connection (timestamps off, so a full segment carries 1460 bytes) and the rest idle
/// (1 KB rings). Frames that B sent during setup (ARP request, echo request, UDP datagram, a 1460-byte data segment,
/// a pure ACK) are kept as templates; afterwards A's link is a sink and the suites inject those templates, patching
/// sequence and acknowledgment numbers (with an incremental checksum update) so that each one is new to A.
/// </summary>
internal sealed class PerPacketHost : IDisposable
{
    public const int Payload = 1460;
    public static readonly Ipv4Address AddressA = Ipv4Address.Parse("192.0.2.10"), AddressB = Ipv4Address.Parse("192.0.2.11");

    public readonly NetworkStack A, B;
    public readonly BenchLink LinkA, LinkB;
    public readonly TimeSpan Now = TimeSpan.FromSeconds(10);
    public readonly TcpConnection Connection;      // A's end of the measured connection
    public readonly UdpEndpoint Udp;               // A's UDP endpoint, port 7000
    public readonly byte[] ArpRequest, EchoRequest, UdpDatagram, DataSegment, PureAck;
    public uint DataSequence;                      // the sequence number of the next segment B "sends"
    public uint AckedTo;                           // what A has been told is acknowledged

    public PerPacketHost(int connections)
    {
        (LinkA, LinkB) = BenchLink.CreatePair();
        var recorded = new List<byte[]>();
        LinkB.Recorded = recorded;
        var options = new NetworkStackOptions { PrefixLength = 24, TcpSynQueue = 1024 };
        A = new NetworkStack(LinkA, options with { MacAddress = MacAddress.Parse("02:00:00:00:00:0a"), Address = AddressA }, new SeededRandomSource(1));
        B = new NetworkStack(LinkB, options with { MacAddress = MacAddress.Parse("02:00:00:00:00:0b"), Address = AddressB }, new SeededRandomSource(2));

        // The measured connection: big rings, no timestamps (1460-byte segments), B's window large enough for any burst.
        var measured = new TcpConnectionOptions { Timestamps = false, SendBufferSize = 8 << 20, ReceiveBufferSize = 1 << 20 };
        var listener = A.ListenTcp(5001, 4, measured);
        var client = B.ConnectTcp(AddressA, 5001, measured with { ReceiveBufferSize = 8 << 20 });
        TcpConnection? server = null;
        Pump(() => server is not null || listener.TryAccept(out server));
        Connection = server!;

        ArpRequest = recorded.First(f => BinaryPrimitives.ReadUInt16BigEndian(f.AsSpan(Frames.EtherType)) == 0x0806
            && BinaryPrimitives.ReadUInt16BigEndian(f.AsSpan(Frames.Ip + 6)) == 1 && Ipv4Address.Read(f.AsSpan(Frames.Ip + 24)) == AddressA);
        LinkB.Recorded = null;

        // The idle ones: 1 KB rings, opened 500 at a time.
        var idle = new TcpConnectionOptions { SendBufferSize = 1024, ReceiveBufferSize = 1024 };
        var idleListener = A.ListenTcp(80, 1024, idle);
        for (int opened = 1; opened < connections;)
        {
            int batch = Math.Min(500, connections - opened);
            for (int i = 0; i < batch; i++) B.ConnectTcp(AddressA, 80, idle);
            int accepted = 0;
            Pump(() => { while (idleListener.TryAccept(out _)) accepted++; return accepted == batch; });
            opened += batch;
        }
        if (A.Tcp.Count != connections) throw new InvalidOperationException($"A has {A.Tcp.Count} connections, wanted {connections}");

        Udp = A.OpenUdp(7000);
        var udpB = B.OpenUdp(7001);
        var echo = B.OpenEchoClient(0x4242);

        // Templates from B, recorded and not delivered.
        LinkB.Connected = false;
        LinkB.Recorded = recorded;
        recorded.Clear();
        echo.Send(AddressA, 1, 56, Now);
        udpB.SendTo(new byte[64], AddressA, 7000);
        client.Send(new byte[Payload]);
        B.Poll(Now);
        EchoRequest = recorded.Single(f => f[Frames.IpProtocol] == 1);
        UdpDatagram = recorded.Single(f => f[Frames.IpProtocol] == 17);
        DataSegment = recorded.Single(f => f[Frames.IpProtocol] == 6 && f.Length == Frames.TcpHeader + 20 + Payload);
        DataSequence = BinaryPrimitives.ReadUInt32BigEndian(DataSegment.AsSpan(Frames.TcpSequence));

        // B's pure ACK: A sends one segment to B, B acknowledges it (now, or when its delayed-ACK timer runs).
        LinkB.Connected = true;
        Connection.Send(new byte[Payload]);
        A.Poll(Now);
        recorded.Clear();
        B.Poll(Now);
        B.Poll(Now + TimeSpan.FromMilliseconds(500));
        PureAck = recorded.Last(f => f[Frames.IpProtocol] == 6 && f.Length == Frames.TcpHeader + 20 && f[Frames.TcpFlags] == 0x10);
        AckedTo = BinaryPrimitives.ReadUInt32BigEndian(PureAck.AsSpan(Frames.TcpAcknowledgment));
        LinkB.Connected = false;
        LinkB.Recorded = null;
        LinkA.Connected = false;
        LinkA.TcpSentTo = AckedTo;
        A.Poll(Now);    // B's ACK reaches A: nothing outstanding now
        // B's data segment was recorded before A's segment reached B: acknowledge what B has acknowledged since, as
        // the next segment of a one-way transfer does (an older ACK number is valid too, but not the common case).
        Frames.Patch32(DataSegment, Frames.TcpAcknowledgment, AckedTo, Frames.TcpChecksum);
        if (Connection.State != TcpState.Established) throw new InvalidOperationException("the measured connection is " + Connection.State);
    }

    /// <summary>Hands A one frame and polls it once.</summary>
    public void Inject(byte[] frame)
    {
        LinkA.Feed(frame);
        A.Poll(Now);
    }

    /// <summary>Injects B's next in-order 1460-byte data segment.</summary>
    public void InjectData()
    {
        Frames.Patch32(DataSegment, Frames.TcpSequence, DataSequence, Frames.TcpChecksum);
        DataSequence += Payload;
        Inject(DataSegment);
    }

    private byte[][] _dataBatch = [];

    /// <summary>Injects B's next <paramref name="count"/> in-order data segments, all taken by one poll (a batch read from the link).</summary>
    public void InjectDataBatch(int count)
    {
        if (_dataBatch.Length < count) _dataBatch = [.. Enumerable.Range(0, count).Select(_ => (byte[])DataSegment.Clone())];
        for (int i = 0; i < count; i++)
        {
            Frames.Patch32(_dataBatch[i], Frames.TcpSequence, DataSequence, Frames.TcpChecksum);
            DataSequence += Payload;
        }
        LinkA.FeedBatch(_dataBatch, count);
        A.Poll(Now);
    }

    /// <summary>Injects a pure ACK acknowledging <paramref name="to"/>.</summary>
    public void InjectAck(uint to)
    {
        // In order: the template was recorded after B's data segment, which A never took, so its sequence number is ahead.
        Frames.Patch32(PureAck, Frames.TcpSequence, DataSequence, Frames.TcpChecksum);
        Frames.Patch32(PureAck, Frames.TcpAcknowledgment, to, Frames.TcpChecksum);
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
            Frames.Patch32(_ackBatch[i], Frames.TcpSequence, DataSequence, Frames.TcpChecksum);
            Frames.Patch32(_ackBatch[i], Frames.TcpAcknowledgment, AckedTo, Frames.TcpChecksum);
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
