using System.Runtime.Versioning;
using TcpIpSharp.Linux;
using TcpIpSharp.Wire;

namespace TcpIpSharp.Tests.Interop;

/// <summary>TunLink against the real kernel, in a namespace each test makes and removes (needs root).</summary>
[SupportedOSPlatform("linux")]
[NonParallelizable]
public class TunLinkTests
{
    [Test]
    public void Packets_are_lent_in_place_under_the_lending_contract([Values] bool offloads)
    {
        using var ns = NetNs.Create("tunlend");
        using var link = TunLink.Open("tun0", ns.Path, offloads);
        ns.Ip("addr", "add", "192.0.2.1/24", "dev", "tun0");
        ns.Ip("link", "set", "tun0", "up");
        Assert.That(link.Capabilities.CarriesEthernet, Is.False);
        Assert.That(link.OffloadsEnabled, Is.EqualTo(offloads), link.OffloadsRefused);
        // The kernel routes echo requests for 192.0.2.2 into the TUN: bare IPv4 packets, each with its own sequence number.
        int sent = 0;
        void Arrive(int count)
        {
            // No one answers: ping sends its requests 10 ms apart and waits a second for the last reply (its exit code says none came).
            ns.Exec(TimeSpan.FromSeconds(10), "ping", "-c", count.ToString(System.Globalization.CultureInfo.InvariantCulture),
                "-i", "0.01", "-W", "1", "192.0.2.2");
            sent += count;
        }
        var lent = LinkAssertions.LendingContract(link, Arrive);
        var sequences = new List<int>();
        foreach (var packet in lent)
            if (Ipv4Packet.TryParse(packet, out var ip) == WireError.None && ip.Protocol == IpProtocol.Icmp && ip.Payload.Length >= 8 && ip.Payload[0] == 8)
                sequences.Add(ip.Payload[6] << 8 | ip.Payload[7]);
        Assert.Multiple(() =>
        {
            Assert.That(sequences, Is.EqualTo(new[] { 1, 2, 3, 4, 1, 2, 3, 4 }), "every echo request lent once, in order (two pings of four)");
            Assert.That(link.FramesReceived, Is.EqualTo(lent.Count));
            Assert.That(link.ChecksumErrors, Is.Zero);
            Assert.That(sent, Is.EqualTo(8));
        });
    }
}
