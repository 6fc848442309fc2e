using TcpIpSharp.Wire;

namespace TcpIpSharp.Transport.Udp;

/// <summary>
/// UDP endpoints by local port (a hash table, not a list scan), with RFC 6056 ephemeral ports. A port holds one
/// endpoint, or several when every one of them was opened with SO_REUSEADDR (as Linux): they are chained in the order
/// they were opened, the first in the table.
/// </summary>
internal sealed class UdpTable
{
    private readonly Dictionary<ushort, UdpEndpoint> _byPort;
    private readonly NetworkStackOptions _options;
    private readonly IRandomSource _random;

    public UdpTable(NetworkStackOptions options, IRandomSource random)
    {
        _options = options;
        _random = random;
        _byPort = new Dictionary<ushort, UdpEndpoint>(Math.Min(options.UdpMaxEndpoints, 4096));
    }

    private int _count;

    public int Count => _count;

    public NetError Open(IUdpOutput output, IpAddress localAddress, ushort port, out UdpEndpoint? endpoint, int queueBytes = 0, int queueDatagrams = 0, bool reuseAddress = false)
    {
        endpoint = null;
        if (_count >= _options.UdpMaxEndpoints) return NetError.NoFreePort;
        UdpEndpoint? last = null;
        if (port == 0)
        {
            if (!TryPickEphemeral(out port)) return NetError.NoFreePort;
        }
        else if (_byPort.TryGetValue(port, out var head))
        {
            // SO_REUSEADDR shares a port only among endpoints that all asked for it.
            if (!reuseAddress) return NetError.AddressInUse;
            for (var e = head; e is not null; e = e.NextOnPort)
            {
                if (!e.ReuseAddress) return NetError.AddressInUse;
                last = e;
            }
        }
        endpoint = new UdpEndpoint(this, output, localAddress, port,
            queueBytes > 0 ? queueBytes : _options.UdpReceiveQueueBytes, queueDatagrams > 0 ? queueDatagrams : _options.UdpReceiveQueueDatagrams)
        { ReuseAddress = reuseAddress };
        if (last is null) _byPort.Add(port, endpoint);
        else last.NextOnPort = endpoint;
        _count++;
        return NetError.None;
    }

    // RFC 6056 3.3.1 (Algorithm 1): a random start in the range, then the next free port.
    private bool TryPickEphemeral(out ushort port)
    {
        int first = _options.EphemeralPortFirst, count = _options.EphemeralPortLast - first + 1;
        int offset = (int)(_random.NextUInt32() % (uint)count);
        for (int i = 0; i < count; i++)
        {
            port = (ushort)(first + (offset + i) % count);
            if (!_byPort.ContainsKey(port)) return true;
        }
        port = 0;
        return false;
    }

    /// <summary>The first endpoint on <paramref name="port"/>; the others follow through <see cref="UdpEndpoint.NextOnPort"/>.</summary>
    public UdpEndpoint? Find(ushort port) => _byPort.GetValueOrDefault(port);

    public void Remove(UdpEndpoint endpoint)
    {
        if (!_byPort.TryGetValue(endpoint.LocalPort, out var head)) return;
        if (ReferenceEquals(head, endpoint))
        {
            if (endpoint.NextOnPort is { } next) _byPort[endpoint.LocalPort] = next;
            else _byPort.Remove(endpoint.LocalPort);
        }
        else
        {
            var e = head;
            while (e.NextOnPort is { } n && !ReferenceEquals(n, endpoint)) e = n;
            if (e.NextOnPort is null) return;
            e.NextOnPort = endpoint.NextOnPort;
        }
        endpoint.NextOnPort = null;
        _count--;
    }
}
