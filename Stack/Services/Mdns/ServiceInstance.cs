using TcpIpSharp.Wire;

namespace TcpIpSharp.Services.Mdns;

/// <summary>
/// A DNS-SD service (RFC 6763) to publish: <c>Instance._type._proto.local</c> with an SRV record pointing at the host's
/// name and <paramref name="Port"/>, a TXT record of <paramref name="Txt"/> strings ("key=value"), and PTR records that make
/// it browsable. The instance name is UTF-8 text without dots, up to 63 bytes.
/// </summary>
/// <param name="Instance">The user-visible name, e.g. "Pico web server".</param>
/// <param name="Type">The service type and protocol, e.g. "_http._tcp".</param>
/// <param name="Port">The port it listens on.</param>
/// <param name="Txt">TXT strings (each up to 255 bytes); none gives the empty TXT record RFC 6763 6.1 asks for.</param>
public sealed record ServiceInstance(string Instance, string Type, ushort Port, IReadOnlyList<string>? Txt = null);

/// <summary>A service instance found by a browse: its names, where it runs, its TXT strings and addresses (filled as answers arrive).</summary>
public sealed class DiscoveredService
{
    internal DiscoveredService(string fullName, string instance, string type)
    {
        FullName = fullName;
        Instance = instance;
        Type = type;
    }

    /// <summary>The instance's full name, e.g. "web._http._tcp.local".</summary>
    public string FullName { get; }
    /// <summary>The instance label, e.g. "web".</summary>
    public string Instance { get; }
    /// <summary>The service type browsed, e.g. "_http._tcp".</summary>
    public string Type { get; }
    /// <summary>The host name from the SRV record (e.g. "host.local"), or null until it arrives.</summary>
    public string? HostName { get; internal set; }
    /// <summary>The port from the SRV record (0 until it arrives).</summary>
    public ushort Port { get; internal set; }
    /// <summary>The TXT strings.</summary>
    public IReadOnlyList<string> Txt { get; internal set; } = [];
    /// <summary>The host's addresses (A and AAAA).</summary>
    public IReadOnlyList<IpAddress> Addresses => AddressList;
    /// <summary>True once the host name, port and an address are known.</summary>
    public bool IsResolved => HostName is not null && AddressList.Count > 0;
    /// <summary>True when the instance said goodbye (a PTR with TTL 0) after it was found.</summary>
    public bool Removed { get; internal set; }

    internal List<IpAddress> AddressList { get; } = [];
    internal TimeSpan LastQuery { get; set; } = TimeSpan.MinValue;

    /// <inheritdoc/>
    public override string ToString()
        => $"{Instance} ({Type}) host={HostName ?? "?"} port={Port} addresses=[{string.Join(", ", AddressList)}] txt=[{string.Join(", ", Txt.Select(t => $"\"{t}\""))}]";
}

/// <summary>Why a name changed: the responder lost it to another host and took the next one (RFC 6762 9).</summary>
/// <param name="OldName">The full name given up, e.g. "PicoW.local".</param>
/// <param name="NewName">The full name probed next, e.g. "PicoW-2.local".</param>
/// <param name="IsHostName">True for the host name, false for a service instance name.</param>
public sealed record MdnsNameChange(string OldName, string NewName, bool IsHostName);
