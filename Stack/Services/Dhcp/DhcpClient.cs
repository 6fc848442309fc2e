using System.Text;
using TcpIpSharp.Transport.Udp;
using TcpIpSharp.Wire;

namespace TcpIpSharp.Services.Dhcp;

/// <summary>
/// A DHCP client (RFC 2131, options RFC 2132) run on the stack thread: DISCOVER, OFFER, REQUEST, ACK/NAK; INIT-REBOOT
/// with a remembered address; an ARP check of the address before it is used (DECLINE on conflict); RENEWING at T1,
/// REBINDING at T2, expiry; RELEASE when stopped. Retransmissions back off 4, 8, 16, 32, 64 s, each ±1 s. It owns UDP
/// port 68 and configures the stack it runs on (address, mask, gateway, broadcast address, MTU, DNS servers).
/// Time comes from the caller and randomness from the stack's source, so it runs in virtual time in tests.
/// </summary>
public sealed class DhcpClient : IStackService
{
    private const int ReceiveBufferSize = 4096;
    private const int TransmitBufferSize = 576;   // RFC 2131 2: every client and server handles 576-byte messages
    private static readonly DhcpOption[] RequestedParameters =
    [
        DhcpOption.SubnetMask, DhcpOption.Router, DhcpOption.DomainNameServer, DhcpOption.HostName, DhcpOption.DomainName,
        DhcpOption.InterfaceMtu, DhcpOption.BroadcastAddress, DhcpOption.IpAddressLeaseTime, DhcpOption.RenewalTime, DhcpOption.RebindingTime,
        DhcpOption.NtpServers,
    ];

    /// <summary>NTP servers kept from option 42 at most.</summary>
    public const int MaximumNtpServers = 4;

    private readonly DhcpClientOptions _options;
    private readonly byte[] _rx = new byte[ReceiveBufferSize];
    private readonly byte[] _tx = new byte[TransmitBufferSize];
    private NetworkStack? _stack;
    private UdpEndpoint? _endpoint;
    private MacAddress _mac;

    private uint _transactionId;
    private TimeSpan _deadline = TimeSpan.MaxValue;
    private int _sends;                  // messages sent in the current exchange (1 = the first, no retransmission yet)
    private TimeSpan _acquisitionStart;  // for the secs field
    private TimeSpan _requestSentAt;     // the first REQUEST of the exchange: the lease counts from here
    private Ipv4Address _offered;
    private Ipv4Address _server;
    private Ipv4Address _remembered;
    private DhcpLease? _checking;        // acknowledged, being probed
    private int _probesSent;
    private int _consecutiveNaks;
    private bool _appliedDns;

    /// <summary>A client with <paramref name="options"/> (the defaults when null); it starts when the driver calls <see cref="Start"/>.</summary>
    public DhcpClient(DhcpClientOptions? options = null)
    {
        _options = options ?? new DhcpClientOptions();
        ArgumentOutOfRangeException.ThrowIfLessThan(_options.RequestAttempts, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(_options.RebootAttempts, 1);
        if (_options.HostName is { } h && (h.Length is 0 or > 255 || !Ascii.IsValid(h)))
            throw new ArgumentException("the host name must be 1 to 255 ASCII characters", nameof(options));
        if (_options.ClientIdentifier.Length is 1 or > 255)
            throw new ArgumentException("a client identifier is a type byte and 1 to 254 more", nameof(options));
        _remembered = _options.RequestedAddress;
    }

    /// <summary>The state (RFC 2131 figure 5).</summary>
    public DhcpState State { get; private set; } = DhcpState.Stopped;

    /// <summary>The status as the Pico's <c>WLAN.status()</c> reports it.</summary>
    public DhcpStatus Status => State switch
    {
        DhcpState.Stopped => DhcpStatus.Idle,
        DhcpState.Bound or DhcpState.Renewing or DhcpState.Rebinding => DhcpStatus.GotIp,
        _ => DhcpStatus.NoIp,
    };

    /// <summary>The lease in use, or null when the client holds none.</summary>
    public DhcpLease? Lease { get; private set; }

    /// <summary>The NTP servers of the lease (option 42, asked for in every request as lwIP's <c>LWIP_DHCP_GET_NTP_SRV</c> does); empty without a lease or when the server gave none.</summary>
    public IReadOnlyList<Ipv4Address> NtpServers => Lease?.NtpServers ?? [];

    /// <summary>The current transaction ID (xid).</summary>
    public uint TransactionId => _transactionId;

    /// <summary>Counters of what was sent, received and ignored.</summary>
    public DhcpClientStatistics Statistics { get; } = new();

    /// <summary>Raised on the stack thread after every change of <see cref="State"/>, with the state before it.</summary>
    public event Action<DhcpClient, DhcpState>? StateChanged;

    /// <inheritdoc/>
    public TimeSpan? NextDeadline => State == DhcpState.Stopped ? null : _deadline;

    /// <summary>Binds UDP port 68 and starts: INIT-REBOOT with a remembered address, otherwise DISCOVER.</summary>
    public void Start(NetworkStack stack, TimeSpan now)
    {
        ArgumentNullException.ThrowIfNull(stack);
        if (State != DhcpState.Stopped) return;
        _stack = stack;
        _mac = stack.MacAddress;
        var error = stack.OpenUdp(DhcpMessage.ClientPort, ReceiveBufferSize * 4, 16, out _endpoint);
        if (error != NetError.None) throw new InvalidOperationException($"cannot bind UDP port {DhcpMessage.ClientPort} for DHCP: {error}");
        _endpoint!.AllowBroadcast = true;
        if (!_remembered.IsAny) StartReboot(now);
        else StartDiscover(now);
    }

    /// <summary>Processes what arrived on port 68 and runs the timers that are due.</summary>
    public void Poll(NetworkStack stack, TimeSpan now)
    {
        if (State == DhcpState.Stopped || _endpoint is null) return;
        int n;
        while ((n = _endpoint.Receive(_rx, out _, out _)) >= 0)
        {
            Receive(_rx.AsSpan(0, Math.Min(n, _rx.Length)), now);
            if (State == DhcpState.Stopped) return;
        }
        _endpoint.TakeError();
        if (State == DhcpState.Checking && _stack!.Ipv4.ProbeConflict is { } owner)
        {
            Decline(owner, now);
            return;
        }
        // A transition may set a deadline that is already due (a zero wait): run them until none is.
        for (int guard = 0; guard < 8 && State != DhcpState.Stopped && now >= _deadline; guard++) OnDeadline(now);
    }

    /// <summary>Stops: releases a lease held (RFC 2131 4.4.6), removes the address and closes port 68.</summary>
    public void Stop(NetworkStack stack, TimeSpan now)
    {
        if (State == DhcpState.Stopped) return;
        if (State == DhcpState.Checking) _stack!.Ipv4.EndProbe();
        if (Lease is { } lease)
        {
            if (_options.ReleaseOnStop)
            {
                NewTransaction();
                SendMessage(DhcpMessageType.Release, now, lease.ServerIdentifier, clientAddress: lease.Address, serverIdentifier: lease.ServerIdentifier);
                Statistics.ReleasesSent++;
            }
            _remembered = lease.Address;
            Unconfigure();
        }
        _endpoint?.Close();
        _endpoint = null;
        SetState(DhcpState.Stopped);
    }

    // ---------------------------------------------------------------- transitions

    private void StartDiscover(TimeSpan now)
    {
        NewTransaction();
        _acquisitionStart = now;
        _offered = _server = default;
        SetState(DhcpState.Selecting);
        SendDiscover(now);
    }

    private void StartReboot(TimeSpan now)
    {
        NewTransaction();
        _acquisitionStart = now;
        _offered = _remembered;
        _server = default;
        _requestSentAt = now;
        SetState(DhcpState.Rebooting);
        SendRebootRequest(now);
    }

    // Waits before discovering again (after a DECLINE, or NAKs one after another).
    private void WaitThenDiscover(TimeSpan now, TimeSpan wait)
    {
        _deadline = now + wait;
        SetState(DhcpState.Init);
    }

    private void OnDeadline(TimeSpan now)
    {
        switch (State)
        {
            case DhcpState.Init:
                StartDiscover(now);
                break;
            case DhcpState.Selecting:
                Statistics.Retransmissions++;
                SendDiscover(now);
                break;
            case DhcpState.Requesting:
                if (_sends >= _options.RequestAttempts) StartDiscover(now);   // RFC 2131 3.1 step 5: no answer, start over
                else
                {
                    Statistics.Retransmissions++;
                    SendSelectingRequest(now);
                }
                break;
            case DhcpState.Rebooting:
                if (_sends >= _options.RebootAttempts) StartDiscover(now);
                else
                {
                    Statistics.Retransmissions++;
                    SendRebootRequest(now);
                }
                break;
            case DhcpState.Checking:
                if (_probesSent < _options.ProbeCount) Probe(now);
                else
                {
                    _stack!.Ipv4.EndProbe();
                    var lease = _checking!;
                    _checking = null;
                    Bind(lease, now);
                }
                break;
            case DhcpState.Bound:
                // RFC 2131 4.4.5: at T1, ask the leasing server directly to extend the lease.
                NewTransaction();
                _requestSentAt = now;
                SetState(DhcpState.Renewing);
                SendRenewal(now);
                break;
            case DhcpState.Renewing:
                if (now >= Lease!.RebindAt)
                {
                    // At T2, ask any server.
                    NewTransaction();
                    _requestSentAt = now;
                    SetState(DhcpState.Rebinding);
                }
                else Statistics.Retransmissions++;
                SendRenewal(now);
                break;
            case DhcpState.Rebinding:
                if (now >= Lease!.ExpiresAt)
                {
                    // RFC 2131 4.4.5: the lease expired; stop using the address and start over.
                    Statistics.LeasesExpired++;
                    _remembered = default;
                    Unconfigure();
                    StartDiscover(now);
                }
                else
                {
                    Statistics.Retransmissions++;
                    SendRenewal(now);
                }
                break;
        }
    }

    private void Receive(ReadOnlySpan<byte> datagram, TimeSpan now)
    {
        var error = DhcpMessage.TryParse(datagram, out var message);
        if (error == WireError.BadMagicCookie) { Statistics.IgnoredNoMagicCookie++; return; }
        if (error != WireError.None) { Statistics.IgnoredMalformed++; return; }
        if (message.Operation != DhcpOperation.BootReply) { Statistics.IgnoredUnexpected++; return; }
        if (message.TransactionId != _transactionId) { Statistics.IgnoredTransactionId++; return; }
        if (message.ClientMacAddress != _mac) { Statistics.IgnoredHardwareAddress++; return; }
        switch (message.MessageType)
        {
            case DhcpMessageType.Offer when State == DhcpState.Selecting:
                TakeOffer(message, now);
                break;
            case DhcpMessageType.Ack when State is DhcpState.Requesting or DhcpState.Rebooting or DhcpState.Renewing or DhcpState.Rebinding:
                TakeAck(message, now);
                break;
            case DhcpMessageType.Nak when State is DhcpState.Requesting or DhcpState.Rebooting or DhcpState.Renewing or DhcpState.Rebinding:
                TakeNak(message, now);
                break;
            default:
                Statistics.IgnoredUnexpected++;
                break;
        }
    }

    private void TakeOffer(DhcpMessage offer, TimeSpan now)
    {
        var address = offer.YourAddress;
        if (offer.ServerIdentifier is not { } server || !IsUsableAddress(address)) { Statistics.IgnoredMalformed++; return; }
        // RFC 2131 4.4.1: the client may wait for several offers; like lwIP, it takes the first.
        Statistics.OffersReceived++;
        _offered = address;
        _server = server;
        _sends = 0;
        _requestSentAt = now;
        SetState(DhcpState.Requesting);
        SendSelectingRequest(now);
    }

    private void TakeAck(DhcpMessage ack, TimeSpan now)
    {
        if (State == DhcpState.Requesting && ack.ServerIdentifier is { } id && id != _server) { Statistics.IgnoredUnexpected++; return; }
        var lease = LeaseFrom(ack);
        if (lease is null) { Statistics.IgnoredMalformed++; return; }
        Statistics.AcksReceived++;
        _consecutiveNaks = 0;
        if (State is DhcpState.Renewing or DhcpState.Rebinding)
        {
            if (lease.Address != Lease!.Address)
            {
                // A server may not change the address on renewal; if it does, the old one is gone: start over.
                Unconfigure();
                StartDiscover(now);
                return;
            }
            Bind(lease, now);
            return;
        }
        if (!_options.CheckAddress)
        {
            Bind(lease, now);
            return;
        }
        _checking = lease;
        _probesSent = 0;
        SetState(DhcpState.Checking);
        Probe(now);
    }

    private void TakeNak(DhcpMessage nak, TimeSpan now)
    {
        if (State == DhcpState.Requesting && nak.ServerIdentifier is { } id && id != _server) { Statistics.IgnoredUnexpected++; return; }
        Statistics.NaksReceived++;
        // RFC 2131 3.1 step 5, 3.2 step 3: the address is not ours; restart. Repeated NAKs back off, so a server
        // that NAKs every request cannot make the client spin.
        _remembered = default;
        if (Lease is not null) Unconfigure();
        _consecutiveNaks++;
        if (_consecutiveNaks == 1) StartDiscover(now);
        else WaitThenDiscover(now, Backoff(_consecutiveNaks - 1));
    }

    private void Probe(TimeSpan now)
    {
        _stack!.Ipv4.ProbeAddress(_checking!.Address);
        _probesSent++;
        _deadline = now + _options.ProbeInterval;
    }

    private void Decline(MacAddress owner, TimeSpan now)
    {
        // RFC 2131 3.1 step 5: another host answers for the address; tell the server and start over after a wait.
        _ = owner;
        var lease = _checking!;
        _checking = null;
        _stack!.Ipv4.EndProbe();
        Statistics.Conflicts++;
        SendMessage(DhcpMessageType.Decline, now, Ipv4Address.Broadcast, requestedAddress: lease.Address, serverIdentifier: lease.ServerIdentifier);
        Statistics.DeclinesSent++;
        _remembered = default;
        WaitThenDiscover(now, _options.DeclineWait);
    }

    private void Bind(DhcpLease lease, TimeSpan now)
    {
        _ = now;
        var stack = _stack!;
        var previous = Lease;
        Lease = lease;
        _remembered = lease.Address;
        if (previous is null || previous.Address != lease.Address || previous.SubnetMask != lease.SubnetMask || previous.Router != lease.Router
            || stack.Address != lease.Address)
            stack.Configure(lease.Address, lease.PrefixLength, lease.Router);
        if (lease.BroadcastAddress is { } broadcast) stack.Ipv4.SubnetBroadcast = broadcast;
        if (_options.ApplyMtu) stack.SetMtu(lease.Mtu ?? stack.Interface.MaximumMtu);
        if (_options.ApplyDnsServers && lease.DnsServers.Count > 0)
        {
            stack.SetDnsServers([.. lease.DnsServers]);
            _appliedDns = true;
        }
        // An ACK may arrive so late that T1 (or more) has passed: Poll then runs the due deadlines one after another.
        _deadline = lease.RenewAt;
        SetState(DhcpState.Bound);
    }

    private void Unconfigure()
    {
        var stack = _stack!;
        Lease = null;
        stack.Configure(Ipv4Address.Any, 0, Ipv4Address.Any);
        if (_options.ApplyMtu) stack.SetMtu(stack.Interface.MaximumMtu);
        if (_appliedDns)
        {
            stack.SetDnsServers([]);
            _appliedDns = false;
        }
    }

    private DhcpLease? LeaseFrom(DhcpMessage ack)
    {
        var address = ack.YourAddress;
        if (!IsUsableAddress(address)) return null;
        // RFC 2131 4.3.1: an ACK to a REQUEST carries the lease time and the server identifier.
        if (ack.LeaseTime is not { } seconds) return null;
        var server = ack.ServerIdentifier ?? _server;
        if (server.IsAny) server = Lease?.ServerIdentifier ?? default;
        var mask = ack.SubnetMask ?? ClassfulMask(address);
        var dns = new List<Ipv4Address>();
        var servers = ack.DomainNameServers;
        for (int i = 0; i < servers.Count; i++) dns.Add(servers[i]);
        TimeSpan lease, t1, t2;
        if (seconds == uint.MaxValue)
        {
            lease = t1 = t2 = TimeSpan.MaxValue;
        }
        else
        {
            lease = TimeSpan.FromSeconds(seconds);
            // RFC 2131 4.4.5: T1 defaults to half the lease, T2 to 0.875 of it; T1 < T2 < lease or the defaults apply.
            t1 = ack.RenewalTime is { } r ? TimeSpan.FromSeconds(r) : lease / 2;
            t2 = ack.RebindingTime is { } b ? TimeSpan.FromSeconds(b) : lease * 7 / 8;
            if (t2 >= lease || t2 <= TimeSpan.Zero) t2 = lease * 7 / 8;
            if (t1 >= t2 || t1 <= TimeSpan.Zero) t1 = t2 < lease / 2 ? t2 / 2 : lease / 2;
        }
        var ntp = new List<Ipv4Address>();
        var ntpServers = ack.NtpServers;
        for (int i = 0; i < ntpServers.Count && ntp.Count < MaximumNtpServers; i++) if (IsUsableAddress(ntpServers[i]) && !ntp.Contains(ntpServers[i])) ntp.Add(ntpServers[i]);
        int? mtu = ack.InterfaceMtu is { } m && m >= 68 ? m : null;
        string? domain = ack.TryGetOption(DhcpOption.DomainName, out var d) ? Encoding.ASCII.GetString(d).TrimEnd('\0') : null;
        return new DhcpLease(address, mask, ack.Router ?? default, dns.AsReadOnly(), server, lease, t1, t2, ack.BroadcastAddress, mtu, domain, _requestSentAt) { NtpServers = ntp.AsReadOnly() };
    }

    private static bool IsUsableAddress(Ipv4Address a) => !a.IsAny && !a.IsLimitedBroadcast && !a.IsMulticast && !a.IsLoopback;

    private static Ipv4Address ClassfulMask(Ipv4Address a) => Ipv4Address.MaskFromPrefix((a.Value >> 30) switch { 0 or 1 => 8, 2 => 16, _ => 24 });

    // ---------------------------------------------------------------- sending

    private void SendDiscover(TimeSpan now)
    {
        SendMessage(DhcpMessageType.Discover, now, Ipv4Address.Broadcast, requestedAddress: _remembered, broadcastFlag: _options.BroadcastFlag, withParameters: true);
        Statistics.DiscoversSent++;
        ScheduleRetransmission(now);
    }

    // RFC 2131 4.3.2 (SELECTING): broadcast, with the server identifier and the requested address, ciaddr 0.
    private void SendSelectingRequest(TimeSpan now)
    {
        SendMessage(DhcpMessageType.Request, now, Ipv4Address.Broadcast, requestedAddress: _offered, serverIdentifier: _server,
            broadcastFlag: _options.BroadcastFlag, withParameters: true);
        Statistics.RequestsSent++;
        ScheduleRetransmission(now);
    }

    // RFC 2131 4.3.2 (INIT-REBOOT): broadcast, the requested address, no server identifier, ciaddr 0.
    private void SendRebootRequest(TimeSpan now)
    {
        SendMessage(DhcpMessageType.Request, now, Ipv4Address.Broadcast, requestedAddress: _offered, broadcastFlag: _options.BroadcastFlag, withParameters: true);
        Statistics.RequestsSent++;
        ScheduleRetransmission(now);
    }

    // RFC 2131 4.3.2 (RENEWING unicast to the server, REBINDING broadcast): ciaddr set, no requested address or server identifier.
    private void SendRenewal(TimeSpan now)
    {
        var lease = Lease!;
        bool renewing = State == DhcpState.Renewing;
        SendMessage(DhcpMessageType.Request, now, renewing ? lease.ServerIdentifier : Ipv4Address.Broadcast, clientAddress: lease.Address, withParameters: true);
        Statistics.RequestsSent++;
        // RFC 2131 4.4.5: wait half the time left until T2 (renewing) or expiry (rebinding), at least 60 s, never past them.
        var limit = renewing ? lease.RebindAt : lease.ExpiresAt;
        var wait = (limit - now) / 2;
        if (wait < _options.MinimumRenewRetransmission) wait = _options.MinimumRenewRetransmission;
        _deadline = now + wait < limit ? now + wait : limit;
    }

    private void ScheduleRetransmission(TimeSpan now)
    {
        _sends++;
        _deadline = now + Backoff(_sends);
    }

    // RFC 2131 4.1: 4 s before the first retransmission, doubling to 64 s, each randomised by ±1 s.
    private TimeSpan Backoff(int sends)
    {
        var interval = _options.InitialRetransmission;
        for (int i = 1; i < sends && interval < _options.MaximumRetransmission; i++) interval += interval;
        if (interval > _options.MaximumRetransmission) interval = _options.MaximumRetransmission;
        long jitter = _options.RetransmissionJitter.Ticks;
        if (jitter > 0)
        {
            long span = 2 * jitter + 1;
            long offset = (long)(_stack!.Random.NextUInt32() % (ulong)span) - jitter;
            interval += TimeSpan.FromTicks(offset);
        }
        return interval > TimeSpan.Zero ? interval : TimeSpan.Zero;
    }

    private void NewTransaction()
    {
        _transactionId = _stack!.Random.NextUInt32();
        _sends = 0;
    }

    private void SendMessage(DhcpMessageType type, TimeSpan now, Ipv4Address destination, Ipv4Address clientAddress = default,
        Ipv4Address requestedAddress = default, Ipv4Address serverIdentifier = default, bool broadcastFlag = false, bool withParameters = false)
    {
        // RFC 2131 table 5: secs counts from the start of the acquisition; 0 in DECLINE and RELEASE.
        ushort seconds = type is DhcpMessageType.Decline or DhcpMessageType.Release
            ? (ushort)0 : (ushort)Math.Clamp((long)(now - _acquisitionStart).TotalSeconds, 0, ushort.MaxValue);
        var writer = new DhcpWriter(_tx);
        writer.WriteHeader(new DhcpHeader(DhcpOperation.BootRequest, _transactionId, _mac, seconds, broadcastFlag, clientAddress));
        writer.WriteMessageType(type);
        if (_options.ClientIdentifier.IsEmpty) writer.WriteClientIdentifier(_mac);
        else writer.WriteOption(DhcpOption.ClientIdentifier, _options.ClientIdentifier.Span);
        if (!requestedAddress.IsAny) writer.WriteAddress(DhcpOption.RequestedIpAddress, requestedAddress);
        if (!serverIdentifier.IsAny) writer.WriteAddress(DhcpOption.ServerIdentifier, serverIdentifier);
        if (withParameters)
        {
            writer.WriteUInt16(DhcpOption.MaximumMessageSize, (ushort)Math.Min(_stack!.Mtu, ReceiveBufferSize));
            if (_options.HostName is { } name)
            {
                Span<byte> bytes = stackalloc byte[name.Length];
                Encoding.ASCII.GetBytes(name, bytes);
                writer.WriteOption(DhcpOption.HostName, bytes);
            }
            writer.WriteParameterRequestList(RequestedParameters);
        }
        int length = writer.Finish();
        _endpoint!.SendTo(_tx.AsSpan(0, length), destination, DhcpMessage.ServerPort);
    }

    private void SetState(DhcpState state)
    {
        var previous = State;
        State = state;
        if (previous != state) StateChanged?.Invoke(this, previous);
    }
}
