using TcpIpSharp.Wire;

namespace TcpIpSharp.Services.Dns;

/// <summary>
/// One lookup of a name for one record type: in flight until <see cref="IsCompleted"/>, then its addresses (A, AAAA),
/// records (other types), canonical name and aliases, or its <see cref="Error"/>. Used on the stack thread.
/// </summary>
public sealed class DnsLookup
{
    private static readonly IReadOnlyList<HostAddress> NoAddresses = [];
    private static readonly IReadOnlyList<DnsRecord> NoRecords = [];
    private static readonly IReadOnlyList<string> NoAliases = [];

    internal DnsLookup(string name, DnsType type)
    {
        Name = name;
        Type = type;
        CanonicalName = name;
    }

    /// <summary>The name asked.</summary>
    public string Name { get; }
    /// <summary>The record type asked.</summary>
    public DnsType Type { get; }
    /// <summary>True once answered or failed; <see cref="Completed"/> has then been raised (unless it completed at once).</summary>
    public bool IsCompleted { get; private set; }
    /// <summary><see cref="DnsError.None"/> on success.</summary>
    public DnsError Error { get; private set; }
    /// <summary>The <c>getaddrinfo</c> error number for <see cref="Error"/> (0 on success): EAI_NONAME -2, EAI_AGAIN -3, EAI_FAIL -4, EAI_NODATA -5.</summary>
    public int Errno => ErrnoOf(Error);
    /// <summary>The name the answers belong to after following CNAMEs (the name asked when there were none).</summary>
    public string CanonicalName { get; private set; }
    /// <summary>The names followed through CNAMEs, in order, before <see cref="CanonicalName"/>.</summary>
    public IReadOnlyList<string> Aliases { get; private set; } = NoAliases;
    /// <summary>The addresses found (A or AAAA lookups).</summary>
    public IReadOnlyList<HostAddress> Addresses { get; private set; } = NoAddresses;
    /// <summary>Every answer record of the type asked, as text (all types).</summary>
    public IReadOnlyList<DnsRecord> Records { get; private set; } = NoRecords;
    /// <summary>True when answered without a query (numeric, localhost, or cached).</summary>
    public bool FromCache { get; private set; }
    /// <summary>True when the server set TC even over TCP: the answer may be missing records.</summary>
    public bool Truncated { get; private set; }
    /// <summary>True when the answer came over TCP, after a truncated answer over UDP (RFC 7766).</summary>
    public bool OverTcp { get; internal set; }
    /// <summary>The server that answered, of either family (unspecified when none did).</summary>
    public IpAddress Server { get; private set; }

    /// <summary>Raised on the stack thread when a lookup that was in flight completes.</summary>
    public event Action<DnsLookup>? Completed;

    /// <summary>The <c>getaddrinfo</c> (glibc, CPython <c>socket.gaierror</c>) number for an error. The Pico raises <c>OSError(-2)</c> for every failure.</summary>
    public static int ErrnoOf(DnsError error) => error switch
    {
        DnsError.None => 0,
        DnsError.NameNotFound => -2,   // EAI_NONAME
        DnsError.NoData => -5,         // EAI_NODATA
        DnsError.Truncated => -4,      // EAI_FAIL
        _ => -3,                       // EAI_AGAIN: timeouts, server failures, no servers, no room
    };

    /// <summary>The C library's text for an error, as <c>gai_strerror</c> gives it.</summary>
    public static string MessageOf(DnsError error) => error switch
    {
        DnsError.None => "Success",
        DnsError.NameNotFound => "Name or service not known",
        DnsError.NoData => "No address associated with hostname",
        DnsError.Truncated => "Non-recoverable failure in name resolution",
        _ => "Temporary failure in name resolution",
    };

    internal void Succeed(string canonicalName, IReadOnlyList<string> aliases, IReadOnlyList<HostAddress> addresses, IReadOnlyList<DnsRecord> records,
        bool fromCache, bool truncated, IpAddress server)
    {
        CanonicalName = canonicalName;
        Aliases = aliases;
        Addresses = addresses;
        Records = records;
        FromCache = fromCache;
        Truncated = truncated;
        Server = server;
        Finish(DnsError.None);
    }

    internal void Fail(DnsError error, bool fromCache, IpAddress server = default)
    {
        FromCache = fromCache;
        Server = server;
        Finish(error);
    }

    private void Finish(DnsError error)
    {
        Error = error;
        IsCompleted = true;
    }

    // Raised by the resolver once its own state (cache, ports) is settled, so a handler may look up again at once.
    internal void RaiseCompleted() => Completed?.Invoke(this);
}
