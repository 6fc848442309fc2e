namespace TcpIpSharp.Sockets;

/// <summary>What the Pico's <c>WLAN.ifconfig()</c> returns: <c>(ip, subnet, gateway, dns)</c>, as dotted text.</summary>
/// <param name="Ip">The interface's address.</param>
/// <param name="Subnet">The subnet mask.</param>
/// <param name="Gateway">The default gateway.</param>
/// <param name="Dns">The first DNS server.</param>
public readonly record struct IfConfig(string Ip, string Subnet, string Gateway, string Dns)
{
    /// <summary>Python's notation: <c>('192.0.2.2', '255.255.255.0', '192.0.2.1', '192.0.2.1')</c>.</summary>
    public override string ToString() => $"('{Ip}', '{Subnet}', '{Gateway}', '{Dns}')";
}
