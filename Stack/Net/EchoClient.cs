using System.Buffers.Binary;

namespace TcpIpSharp.Net;

/// <summary>
/// An ICMP echo client (what <c>ping</c> uses): sends echo requests with one identifier and queues the replies.
/// The data carries the send time in its first 8 bytes, then a fixed pattern the reply is checked against.
/// </summary>
public sealed class EchoClient
{
    private readonly NetworkStack _stack;
    private readonly Queue<EchoReply> _replies;
    private readonly int _capacity;

    internal EchoClient(NetworkStack stack, ushort identifier, int capacity)
    {
        _stack = stack;
        Identifier = identifier;
        _capacity = capacity;
        _replies = new Queue<EchoReply>(capacity);
    }

    /// <summary>The echo identifier this client uses.</summary>
    public ushort Identifier { get; }
    /// <summary>Replies waiting to be taken.</summary>
    public int Count => _replies.Count;

    /// <summary>Sends an echo request (ICMP or ICMPv6, by the destination's family) with <paramref name="payloadLength"/> bytes of data (8 at least, up to 65,507).</summary>
    public NetError Send(Wire.IpAddress destination, ushort sequence, int payloadLength, TimeSpan now)
        => destination.IsIpv4 ? _stack.Ipv4.SendEchoRequest(destination.AsIpv4, Identifier, sequence, payloadLength, now)
           : _stack.Internet.Ipv6 is { } v6 ? v6.SendEchoRequest(destination.AsIpv6, Identifier, sequence, payloadLength, now) : NetError.NetworkUnreachable;

    /// <summary>Takes the oldest reply.</summary>
    public bool TryReceive(out EchoReply reply) => _replies.TryDequeue(out reply);

    /// <summary>Closes the client.</summary>
    public void Close()
    {
        _stack.Ipv4.CloseEchoClient(this);
        _stack.Internet.Ipv6?.RemoveEchoClient(this);
    }

    internal void Deliver(Wire.IpAddress from, byte ttl, ushort sequence, ReadOnlySpan<byte> data, TimeSpan now)
    {
        if (_replies.Count >= _capacity) return;
        var rtt = data.Length >= 8 ? now - TimeSpan.FromTicks(BinaryPrimitives.ReadInt64BigEndian(data)) : TimeSpan.Zero;
        bool intact = true;
        for (int i = 8; i < data.Length; i++) if (data[i] != Pattern(i)) { intact = false; break; }
        _replies.Enqueue(new EchoReply(from, sequence, data.Length, rtt, ttl, intact));
    }

    internal static byte Pattern(int index) => (byte)index;
}
