using System.Buffers;
using TcpIpSharp.Wire;

namespace TcpIpSharp.Gateway;

/// <summary>
/// One DNS query to the gateway's own address in flight (of at most <see cref="GatewayOptions.MaxDnsInFlight"/>): the
/// stack's thread fills it and queues it to the thread pool, which answers it (<see cref="GatewayDns"/>) and hands it back
/// through the gateway's wake queue; the stack's thread then sends the answer (UDP) or gives it to its TCP session.
/// Reused: the gateway keeps the free ones.
/// </summary>
internal sealed class DnsQuery : IThreadPoolWorkItem
{
    private readonly GatewayDns _owner;

    public DnsQuery(GatewayDns owner) => _owner = owner;

    /// <summary>The query (rented, <see cref="GatewayDns.MaximumQuery"/> bytes).</summary>
    public byte[]? Query;
    public int QueryLength;
    /// <summary>The answer (rented, 64 KB): a two-byte length (RFC 7766 8) at 0, the message from 2; length 0: no answer.</summary>
    public byte[]? Response;
    public int ResponseLength;
    /// <summary>Asked over TCP (no 512-byte limit; relayed upstream over TCP).</summary>
    public bool OverTcp;
    /// <summary>UDP: the guest's address and port, and our address it asked.</summary>
    public IpAddress Guest, Local;
    public ushort GuestPort;
    /// <summary>TCP: the session the answer goes back on (null once it has ended).</summary>
    public DnsTcpSession? Session;

    public void Rent()
    {
        Query = ArrayPool<byte>.Shared.Rent(GatewayDns.MaximumQuery);
        Response = ArrayPool<byte>.Shared.Rent(2 + GatewayDns.MaximumResponse);
    }

    public void Return()
    {
        if (Query is { } q) ArrayPool<byte>.Shared.Return(q);
        if (Response is { } r) ArrayPool<byte>.Shared.Return(r);
        Query = Response = null;
        QueryLength = ResponseLength = 0;
        Session = null;
    }

    void IThreadPoolWorkItem.Execute() => _ = _owner.AnswerAsync(this);
}
