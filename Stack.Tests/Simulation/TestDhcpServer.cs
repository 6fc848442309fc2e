using TcpIpSharp.Transport.Udp;
using TcpIpSharp.Wire;

namespace TcpIpSharp.Tests.Simulation;

/// <summary>A small DHCP server on a stack for simulations: a pool, one binding per client MAC, OFFER/ACK/NAK, RELEASE.</summary>
internal sealed class TestDhcpServer(Ipv4Address poolStart, int poolSize, uint leaseSeconds, Ipv4Address[] dnsServers) : IStackService
{
    private readonly Dictionary<MacAddress, Ipv4Address> _bindings = [];
    private readonly byte[] _rx = new byte[2048];
    private readonly byte[] _tx = new byte[576];
    private UdpEndpoint? _endpoint;
    private NetworkStack? _stack;

    public int Offers { get; private set; }
    public int Acks { get; private set; }
    public int Releases { get; private set; }
    /// <summary>Option 42 to give (none when empty).</summary>
    public Ipv4Address[] NtpServers { get; init; } = [];
    /// <summary>True once a request listed option 42 among its parameters.</summary>
    public bool SawNtpRequested { get; private set; }
    public TimeSpan? NextDeadline => null;

    public void Start(NetworkStack stack, TimeSpan now)
    {
        _stack = stack;
        _endpoint = stack.OpenUdp(DhcpMessage.ServerPort);
        _endpoint.AllowBroadcast = true;
    }

    public void Poll(NetworkStack stack, TimeSpan now)
    {
        int n;
        while ((n = _endpoint!.Receive(_rx, out _, out _)) >= 0)
        {
            if (DhcpMessage.TryParse(_rx.AsSpan(0, n), out var m) != WireError.None || m.Operation != DhcpOperation.BootRequest || m.ClientMacAddress is not { } mac) continue;
            if (m.TryGetOption(DhcpOption.ParameterRequestList, out var prl) && prl.Contains((byte)DhcpOption.NtpServers)) SawNtpRequested = true;
            switch (m.MessageType)
            {
                case DhcpMessageType.Discover:
                    Offers++;
                    Reply(DhcpMessageType.Offer, m.TransactionId, mac, AddressFor(mac), Ipv4Address.Broadcast);
                    break;
                case DhcpMessageType.Request:
                    var wanted = m.RequestedIpAddress ?? m.ClientAddress;
                    var to = m.ClientAddress.IsAny ? Ipv4Address.Broadcast : m.ClientAddress;
                    if (m.ServerIdentifier is { } id && id != _stack!.Address) break;   // another server was chosen
                    if (wanted == AddressFor(mac)) { Acks++; Reply(DhcpMessageType.Ack, m.TransactionId, mac, wanted, to); }
                    else Reply(DhcpMessageType.Nak, m.TransactionId, mac, default, Ipv4Address.Broadcast);
                    break;
                case DhcpMessageType.Release:
                    Releases++;
                    _bindings.Remove(mac);
                    break;
            }
        }
    }

    private Ipv4Address AddressFor(MacAddress mac)
    {
        if (!_bindings.TryGetValue(mac, out var address))
        {
            address = new Ipv4Address(poolStart.Value + (uint)(_bindings.Count % poolSize));
            _bindings[mac] = address;
        }
        return address;
    }

    private void Reply(DhcpMessageType type, uint xid, MacAddress mac, Ipv4Address yiaddr, Ipv4Address to)
    {
        var w = new DhcpWriter(_tx);
        w.WriteHeader(new DhcpHeader(DhcpOperation.BootReply, xid, mac, YourAddress: yiaddr, ServerAddress: _stack!.Address));
        w.WriteMessageType(type);
        w.WriteAddress(DhcpOption.ServerIdentifier, _stack.Address);
        if (type != DhcpMessageType.Nak)
        {
            w.WriteUInt32(DhcpOption.IpAddressLeaseTime, leaseSeconds);
            w.WriteAddress(DhcpOption.SubnetMask, _stack.SubnetMask);
            w.WriteAddresses(DhcpOption.Router, [_stack.Address]);
            w.WriteAddresses(DhcpOption.DomainNameServer, dnsServers);
            if (NtpServers.Length > 0) w.WriteAddresses(DhcpOption.NtpServers, NtpServers);
        }
        _endpoint!.SendTo(_tx.AsSpan(0, w.Finish()), to, DhcpMessage.ClientPort);
    }
}
