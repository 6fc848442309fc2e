using TcpIpSharp.Storage;
using TcpIpSharp.Wire;

namespace TcpIpSharp.Transport.Udp;

/// <summary>
/// A bound UDP port at the core level: a bounded queue of received datagrams with their senders, a send call,
/// and the last ICMP error reported for it. Used on the stack thread only.
/// </summary>
public sealed class UdpEndpoint
{
    /// <summary>Largest UDP payload in one IPv4 datagram: 65,535 − 20 − 8.</summary>
    public const int MaximumPayload = 65507;

    private readonly DatagramQueue _queue;
    private readonly UdpTable _table;
    private readonly IUdpOutput _output;

    internal UdpEndpoint(UdpTable table, IUdpOutput output, IpAddress localAddress, ushort port, int queueBytes, int queueDatagrams)
    {
        _table = table;
        _output = output;
        LocalAddress = localAddress;
        LocalPort = port;
        _queue = new DatagramQueue(queueBytes, queueDatagrams);
    }

    /// <summary>The local address bound (<see cref="IpAddress.Any"/> for any address of either family).</summary>
    public IpAddress LocalAddress { get; }
    /// <summary>The local port.</summary>
    public ushort LocalPort { get; }
    /// <summary>True once closed.</summary>
    public bool IsClosed { get; private set; }
    /// <summary>Whether sending to a broadcast address is allowed (SO_BROADCAST).</summary>
    public bool AllowBroadcast { get; set; }
    /// <summary>Opened with SO_REUSEADDR: the port may be shared with other such endpoints, each getting a copy of every multicast and broadcast datagram.</summary>
    public bool ReuseAddress { get; internal init; }
    /// <summary>TTL of IPv4 multicast datagrams sent (IP_MULTICAST_TTL); 1 by default, as RFC 1112 6.1 and Linux.</summary>
    public byte MulticastTimeToLive { get; set; } = 1;
    /// <summary>Whether IPv4 multicast datagrams sent to a group this stack has joined are delivered here too (IP_MULTICAST_LOOP; on by default, as Linux).</summary>
    public bool MulticastLoop { get; set; } = true;
    internal UdpEndpoint? NextOnPort { get; set; }
    /// <summary>The connected peer, if any: only its datagrams are received and ICMP errors reported.</summary>
    public (IpAddress Address, ushort Port)? Peer { get; set; }
    /// <summary>Datagrams waiting to be received.</summary>
    public int QueuedDatagrams => _queue.Count;
    /// <summary>The length of the next datagram, or -1 when none is queued.</summary>
    public int NextDatagramLength => _queue.PeekLength();
    /// <summary>The error an ICMP message reported for this endpoint, until <see cref="TakeError"/> clears it.</summary>
    public NetError PendingError { get; private set; }
    /// <summary>Datagrams dropped because the queue was full.</summary>
    public long Overflows { get; private set; }
    /// <summary>Called (on the stack thread) when a datagram is queued or an error is reported.</summary>
    public Action<UdpEndpoint>? Ready { get; set; }

    /// <summary>Copies the next datagram into <paramref name="buffer"/> (truncated to fit) and removes it; -1 when none.</summary>
    public int Receive(Span<byte> buffer, out IpAddress from, out ushort fromPort, bool peek = false)
    {
        int n = _queue.TryDequeue(buffer, out UInt128 address, out fromPort, peek);
        from = IpAddress.FromValue(address);
        return n;
    }

    /// <summary>Sends one datagram (fragmented when larger than the MTU).</summary>
    public NetError SendTo(ReadOnlySpan<byte> payload, IpAddress destination, ushort destinationPort)
    {
        if (IsClosed) return NetError.Closed;
        if (payload.Length > MaximumPayload) return NetError.MessageTooLong;
        return _output.SendUdp(this, destination, destinationPort, payload);
    }

    /// <summary>Returns and clears the pending error.</summary>
    public NetError TakeError()
    {
        var e = PendingError;
        PendingError = NetError.None;
        return e;
    }

    /// <summary>Unbinds the port and discards queued datagrams.</summary>
    public void Close()
    {
        if (IsClosed) return;
        IsClosed = true;
        _queue.Clear();
        _table.Remove(this);
    }

    internal bool Deliver(IpAddress from, ushort fromPort, ReadOnlySpan<byte> payload)
    {
        if (!_queue.TryEnqueue(from.Value, fromPort, payload)) { Overflows++; return false; }
        Ready?.Invoke(this);
        return true;
    }

    internal void ReportError(NetError error)
    {
        PendingError = error;
        Ready?.Invoke(this);
    }
}
