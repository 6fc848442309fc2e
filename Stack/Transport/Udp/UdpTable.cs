using TcpIpSharp.Wire;

namespace TcpIpSharp.Transport.Udp;

/// <summary>UDP endpoints by local port (a hash table, not a list scan), with RFC 6056 ephemeral ports.</summary>
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

    public int Count => _byPort.Count;

    public NetError Open(IUdpOutput output, IpAddress localAddress, ushort port, out UdpEndpoint? endpoint, int queueBytes = 0, int queueDatagrams = 0)
    {
        endpoint = null;
        if (_byPort.Count >= _options.UdpMaxEndpoints) return NetError.NoFreePort;
        if (port == 0)
        {
            if (!TryPickEphemeral(out port)) return NetError.NoFreePort;
        }
        else if (_byPort.ContainsKey(port)) return NetError.AddressInUse;
        endpoint = new UdpEndpoint(this, output, localAddress, port,
            queueBytes > 0 ? queueBytes : _options.UdpReceiveQueueBytes, queueDatagrams > 0 ? queueDatagrams : _options.UdpReceiveQueueDatagrams);
        _byPort.Add(port, endpoint);
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

    public UdpEndpoint? Find(ushort port) => _byPort.GetValueOrDefault(port);

    public void Remove(UdpEndpoint endpoint)
    {
        if (_byPort.TryGetValue(endpoint.LocalPort, out var e) && ReferenceEquals(e, endpoint)) _byPort.Remove(endpoint.LocalPort);
    }
}
