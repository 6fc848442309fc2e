using TcpIpSharp.Services.Dhcp;
using TcpIpSharp.Wire;

namespace TcpIpSharp.Services.AutoIp;

/// <summary>
/// IPv4 link-local addressing (RFC 3927), as lwIP's AUTOIP with DHCP cooperation: picks a pseudo-random address in
/// 169.254.1.0-169.254.254.255 (the first seeded from the MAC), probes it with the stack's RFC 5227 machinery (three
/// probes 1-2 s apart after a random wait of up to 1 s, then 2 s of silence), configures it as 169.254.x.y/16 without a
/// gateway, announces it twice 2 s apart, and defends it: a conflict is answered with one announcement, a second
/// within 10 s gives the address up for a new one. A conflict while probing picks another address; after ten, attempts
/// are limited to one a minute. With a <see cref="DhcpClient"/> it waits until DHCP has gone
/// <see cref="AutoIpOptions.DhcpFallbackAfter"/> without a lease, and steps aside (removing its address unless DHCP
/// already replaced it) as soon as a lease arrives; DHCP keeps trying meanwhile.
/// </summary>
public sealed class AutoIpClient : IStackService
{
    /// <summary>The first usable link-local address (RFC 3927 2.1).</summary>
    public static readonly Ipv4Address FirstAddress = new(169, 254, 1, 0);
    /// <summary>The last usable link-local address.</summary>
    public static readonly Ipv4Address LastAddress = new(169, 254, 254, 255);
    private const uint Range = 65024;   // 169.254.1.0 .. 169.254.254.255

    private readonly AutoIpOptions _options;
    private readonly DhcpClient? _dhcp;
    private NetworkStack? _stack;
    private TimeSpan _deadline = TimeSpan.MaxValue;
    private TimeSpan? _dhcpFailingSince;
    private int _probesSent;
    private int _announcementsSent;
    private bool _firstPick = true;
    private TimeSpan? _lastConflict;
    private bool _giveUp;
    private Ipv4Address _previous;

    /// <summary>A client with <paramref name="options"/>; with <paramref name="dhcp"/> it is DHCP's fall-back (lwIP's AUTOIP cooperation).</summary>
    public AutoIpClient(AutoIpOptions? options = null, DhcpClient? dhcp = null)
    {
        _options = options ?? new AutoIpOptions();
        ArgumentOutOfRangeException.ThrowIfLessThan(_options.ProbeCount, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(_options.AnnounceCount, 1);
        if (_options.ProbeMaximum < _options.ProbeMinimum) throw new ArgumentException("ProbeMaximum is below ProbeMinimum", nameof(options));
        _dhcp = dhcp;
    }

    /// <summary>The state.</summary>
    public AutoIpState State { get; private set; } = AutoIpState.Stopped;

    /// <summary>The address being probed, announced or held (0.0.0.0 when none).</summary>
    public Ipv4Address Address { get; private set; }

    /// <summary>Conflicts seen (while probing, and for a held address given up); after <see cref="AutoIpOptions.MaxConflicts"/> attempts are rate-limited.</summary>
    public int Conflicts { get; private set; }

    /// <summary>Addresses tried so far.</summary>
    public int AddressesTried { get; private set; }

    /// <summary>Raised on the stack thread after every change of <see cref="State"/>, with the state before it.</summary>
    public event Action<AutoIpClient, AutoIpState>? StateChanged;

    /// <summary>Raised on the stack thread when another host claims the address being probed or held (the address, the other host's MAC).</summary>
    public event Action<AutoIpClient, Ipv4Address, MacAddress>? Conflict;

    /// <summary>True for an address in 169.254.0.0/16.</summary>
    public static bool IsLinkLocal(Ipv4Address address) => address.Value >> 16 == 0xA9FE;

    /// <inheritdoc/>
    public TimeSpan? NextDeadline => State switch
    {
        AutoIpState.Stopped => null,
        // While DHCP checks an offered address, Poll waits for it (and DHCP's own deadline wakes the driver): a deadline
        // of ours, passed by then, would have the driver poll without pause.
        _ when _dhcp is { State: DhcpState.Checking } => null,
        AutoIpState.WaitingForDhcp => _dhcpFailingSince is { } since ? since + _options.DhcpFallbackAfter : null,
        AutoIpState.Probing or AutoIpState.Announcing => _deadline,
        _ => null,
    };

    /// <inheritdoc/>
    public void Start(NetworkStack stack, TimeSpan now)
    {
        ArgumentNullException.ThrowIfNull(stack);
        if (State != AutoIpState.Stopped) return;
        _stack = stack;
        stack.AddressConflict += OnAddressConflict;
        if (_dhcp is null) StartProbing(now);
        else SetState(AutoIpState.WaitingForDhcp);
    }

    /// <inheritdoc/>
    public void Stop(NetworkStack stack, TimeSpan now)
    {
        if (State == AutoIpState.Stopped) return;
        stack.AddressConflict -= OnAddressConflict;
        Release();
        SetState(AutoIpState.Stopped);
    }

    /// <inheritdoc/>
    public void Poll(NetworkStack stack, TimeSpan now)
    {
        if (State == AutoIpState.Stopped) return;
        var ipv4 = stack.Ipv4;
        if (_dhcp is not null)
        {
            bool leased = _dhcp.State is DhcpState.Bound or DhcpState.Renewing or DhcpState.Rebinding;
            // A lease wins: hand the interface back to DHCP (lwIP's autoip_stop from dhcp_bind). DHCP's ARP check of an
            // offered address shares the stack's one probe, so probing of our own stops for it.
            if (leased || (_dhcp.State == DhcpState.Checking && State == AutoIpState.Probing))
            {
                if (State != AutoIpState.WaitingForDhcp)
                {
                    Release();
                    SetState(AutoIpState.WaitingForDhcp);
                }
                _dhcpFailingSince = null;
                return;
            }
            if (_dhcp.State == DhcpState.Checking) return;   // keep a held address while DHCP checks its own
        }
        switch (State)
        {
            case AutoIpState.WaitingForDhcp:
                _dhcpFailingSince ??= now;
                if (now - _dhcpFailingSince.Value >= _options.DhcpFallbackAfter) StartProbing(now);
                break;
            case AutoIpState.Probing:
                if (_probesSent > 0 && ipv4.ProbeConflict is { } owner)
                {
                    OnConflict(owner);
                    ipv4.EndProbe();
                    StartProbing(now);
                    break;
                }
                if (now < _deadline) break;
                if (_probesSent < _options.ProbeCount)
                {
                    ipv4.ProbeAddress(Address);
                    _probesSent++;
                    _deadline = now + (_probesSent < _options.ProbeCount ? RandomBetween(_options.ProbeMinimum, _options.ProbeMaximum) : _options.AnnounceWait);
                }
                else
                {
                    // RFC 3927 2.4: no conflict heard for ANNOUNCE_WAIT after the last probe: the address is ours.
                    ipv4.EndProbe();
                    stack.Configure(Address, 16, Ipv4Address.Any);
                    ipv4.Announce();
                    _announcementsSent = 1;
                    _lastConflict = null;
                    _giveUp = false;
                    _deadline = now + _options.AnnounceInterval;
                    SetState(_announcementsSent < _options.AnnounceCount ? AutoIpState.Announcing : AutoIpState.Bound);
                }
                break;
            case AutoIpState.Announcing or AutoIpState.Bound:
                if (stack.Address != Address)
                {
                    // Someone else configured the interface (DHCP by hand, the program): step aside.
                    Address = default;
                    SetState(_dhcp is null ? AutoIpState.Stopped : AutoIpState.WaitingForDhcp);
                    break;
                }
                if (_giveUp)
                {
                    // RFC 3927 2.5 (b): a second conflict within DEFEND_INTERVAL: stop using the address, find another.
                    _giveUp = false;
                    stack.Configure(Ipv4Address.Any, 0, Ipv4Address.Any);
                    Conflicts++;
                    StartProbing(now);
                    break;
                }
                if (State == AutoIpState.Announcing && now >= _deadline)
                {
                    ipv4.Announce();
                    _announcementsSent++;
                    _deadline = now + _options.AnnounceInterval;
                    if (_announcementsSent >= _options.AnnounceCount) SetState(AutoIpState.Bound);
                }
                break;
        }
    }

    // The stack raises this inside its poll when an ARP packet from another MAC has our address as sender; it has
    // sent one defending announcement already if it had not in the last 10 s (RFC 5227 2.4 (b), RFC 3927 2.5 (b)).
    private void OnAddressConflict(Ipv4Address address, MacAddress owner)
    {
        if (State is not (AutoIpState.Announcing or AutoIpState.Bound) || address != Address) return;
        Conflict?.Invoke(this, address, owner);
        var now = _stack!.Interface.Now;
        if (_lastConflict is { } last && now - last < _options.DefendInterval) _giveUp = true;
        else _lastConflict = now;
    }

    private void OnConflict(MacAddress owner)
    {
        Conflicts++;
        Conflict?.Invoke(this, Address, owner);
    }

    private void StartProbing(TimeSpan now)
    {
        _previous = Address;
        Address = PickAddress();
        AddressesTried++;
        _probesSent = 0;
        // RFC 3927 2.2.1: a random wait of up to PROBE_WAIT first; after MAX_CONFLICTS, one attempt per RATE_LIMIT_INTERVAL.
        _deadline = now + (Conflicts >= _options.MaxConflicts ? _options.RateLimitInterval : RandomBetween(TimeSpan.Zero, _options.ProbeWait));
        SetState(AutoIpState.Probing);
    }

    private Ipv4Address PickAddress()
    {
        uint index;
        if (_firstPick)
        {
            _firstPick = false;
            index = Mix(_options.Seed is int seed ? (ulong)(uint)seed : MacSeed(_stack!.MacAddress)) % Range;
        }
        else
        {
            do index = _stack!.Random.NextUInt32() % Range;
            while (new Ipv4Address(FirstAddress.Value + index) == _previous);
        }
        return new Ipv4Address(FirstAddress.Value + index);
    }

    private static ulong MacSeed(MacAddress mac) => mac.Value;

    // SplitMix64's finaliser: every bit of the seed moves the address.
    private static uint Mix(ulong z)
    {
        z += 0x9E37_79B9_7F4A_7C15;
        z = (z ^ (z >> 30)) * 0xBF58_476D_1CE4_E5B9;
        z = (z ^ (z >> 27)) * 0x94D0_49BB_1331_11EB;
        return (uint)(z ^ (z >> 31));
    }

    private TimeSpan RandomBetween(TimeSpan low, TimeSpan high)
    {
        long span = high.Ticks - low.Ticks;
        if (span <= 0) return low;
        return low + TimeSpan.FromTicks((long)(_stack!.Random.NextUInt32() * (ulong)span / uint.MaxValue));
    }

    private void Release()
    {
        var stack = _stack!;
        if (State == AutoIpState.Probing && stack.Ipv4.ProbeTarget == Address) stack.Ipv4.EndProbe();
        if (State is AutoIpState.Announcing or AutoIpState.Bound && stack.Address == Address && IsLinkLocal(Address))
            stack.Configure(Ipv4Address.Any, 0, Ipv4Address.Any);
        Address = default;
        _deadline = TimeSpan.MaxValue;
    }

    private void SetState(AutoIpState state)
    {
        var previous = State;
        State = state;
        if (previous != state) StateChanged?.Invoke(this, previous);
    }
}
