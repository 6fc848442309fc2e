using TcpIpSharp.Wire;

namespace TcpIpSharp.Services.Dhcp;

/// <summary>Configuration of the DHCP client, with the defaults of RFC 2131 and lwIP where the RFC leaves a choice.</summary>
public sealed record DhcpClientOptions
{
    /// <summary>Host Name (option 12) sent in DISCOVER and REQUEST; none by default.</summary>
    public string? HostName { get; init; }
    /// <summary>Client Identifier (option 61) as type byte and identifier; empty (the default) sends type 1 and the MAC address.</summary>
    public ReadOnlyMemory<byte> ClientIdentifier { get; init; }
    /// <summary>A remembered address: when set, the client starts in INIT-REBOOT and asks for it (RFC 2131 3.2); 0.0.0.0 starts with DISCOVER.</summary>
    public Ipv4Address RequestedAddress { get; init; }
    /// <summary>Set the BROADCAST flag so servers broadcast their replies before the client has an address (RFC 2131 4.1); the interface also takes them unicast.</summary>
    public bool BroadcastFlag { get; init; } = true;

    /// <summary>First retransmission interval (RFC 2131 4.1: 4 s, doubled each time).</summary>
    public TimeSpan InitialRetransmission { get; init; } = TimeSpan.FromSeconds(4);
    /// <summary>Longest retransmission interval (RFC 2131 4.1: 64 s).</summary>
    public TimeSpan MaximumRetransmission { get; init; } = TimeSpan.FromSeconds(64);
    /// <summary>Each interval is randomised by up to this much either way (RFC 2131 4.1: ±1 s).</summary>
    public TimeSpan RetransmissionJitter { get; init; } = TimeSpan.FromSeconds(1);
    /// <summary>REQUESTs sent for one offer before starting over with DISCOVER (4, 8, 16, 32, 64 s: about two minutes).</summary>
    public int RequestAttempts { get; init; } = 5;
    /// <summary>INIT-REBOOT REQUESTs sent before giving the remembered address up and discovering (lwIP: 2).</summary>
    public int RebootAttempts { get; init; } = 2;
    /// <summary>Least wait between retransmissions in RENEWING and REBINDING (RFC 2131 4.4.5: 60 s).</summary>
    public TimeSpan MinimumRenewRetransmission { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Probe an acknowledged address with ARP before using it, and DECLINE it if another host answers (RFC 2131 4.4.1).</summary>
    public bool CheckAddress { get; init; } = true;
    /// <summary>ARP probes sent before the address is taken (lwIP's DHCP check: 2).</summary>
    public int ProbeCount { get; init; } = 2;
    /// <summary>Wait after each probe for an answer (lwIP: 500 ms).</summary>
    public TimeSpan ProbeInterval { get; init; } = TimeSpan.FromMilliseconds(500);
    /// <summary>Wait after a DECLINE before discovering again (RFC 2131 3.1 step 5: at least 10 s).</summary>
    public TimeSpan DeclineWait { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Send RELEASE when stopped while holding a lease (RFC 2131 4.4.6).</summary>
    public bool ReleaseOnStop { get; init; } = true;
    /// <summary>Set the stack's DNS servers from option 6 (off when they were given by hand).</summary>
    public bool ApplyDnsServers { get; init; } = true;
    /// <summary>Lower the interface MTU to option 26 when offered.</summary>
    public bool ApplyMtu { get; init; } = true;
}
