namespace TcpIpSharp.Services.Dns;

/// <summary>Address families with the numbers of the Pico's <c>socket.AF_INET</c> and <c>socket.AF_INET6</c> (Linux's too).</summary>
public enum HostAddressFamily
{
    /// <summary>IPv4 (AF_INET, 2).</summary>
    Ipv4 = 2,
    /// <summary>IPv6 (AF_INET6, 10).</summary>
    Ipv6 = 10,
}
