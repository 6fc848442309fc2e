using TcpIpSharp.Wire;

namespace TcpIpSharp.Replay;

/// <summary>An ARP reply (IPv4) or a neighbour advertisement (IPv6) the replay made up for the stack's request or
/// solicitation, from an address and MAC seen in the capture.</summary>
/// <param name="Address">The address the stack asked for.</param>
/// <param name="Mac">The MAC the capture shows for it.</param>
/// <param name="Time">When (virtual time since the capture's first frame).</param>
public readonly record struct NeighbourAnswer(IpAddress Address, MacAddress Mac, TimeSpan Time);
