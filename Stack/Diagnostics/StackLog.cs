using Microsoft.Extensions.Logging;
using TcpIpSharp.Wire;

namespace TcpIpSharp.Diagnostics;

/// <summary>The stack's events, logged through Microsoft.Extensions.Logging (silent unless a logger factory is given).</summary>
internal static partial class StackLog
{
    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "interface up: {Address}/{PrefixLength} gateway {Gateway} mac {Mac} mtu {Mtu}")]
    public static partial void InterfaceUp(ILogger logger, Ipv4Address address, int prefixLength, Ipv4Address gateway, MacAddress mac, int mtu);

    [LoggerMessage(EventId = 2, Level = LogLevel.Warning, Message = "ARP conflict: {Mac} claims our address {Address}")]
    public static partial void ArpConflict(ILogger logger, MacAddress mac, Ipv4Address address);

    [LoggerMessage(EventId = 3, Level = LogLevel.Debug, Message = "drop: {Reason}")]
    public static partial void Dropped(ILogger logger, DropReason reason);

    [LoggerMessage(EventId = 4, Level = LogLevel.Information, Message = "ARP resolution of {Address} failed; {Frames} queued frames dropped")]
    public static partial void ArpResolutionFailed(ILogger logger, Ipv4Address address, int frames);

    [LoggerMessage(EventId = 5, Level = LogLevel.Debug, Message = "ARP: {Address} is at {Mac}")]
    public static partial void ArpResolved(ILogger logger, Ipv4Address address, MacAddress mac);

    [LoggerMessage(EventId = 6, Level = LogLevel.Information, Message = "IPv6 address {Address}/{PrefixLength} preferred ({Origin})")]
    public static partial void Ipv6AddressPreferred(ILogger logger, string address, int prefixLength, Net.Ipv6.Ipv6AddressOrigin origin);

    [LoggerMessage(EventId = 7, Level = LogLevel.Warning, Message = "IPv6 duplicate address: {Address} is in use by {Mac}")]
    public static partial void Ipv6DuplicateAddress(ILogger logger, string address, string mac);
}
