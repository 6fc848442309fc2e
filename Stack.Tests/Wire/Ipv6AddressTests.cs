using TcpIpSharp.Wire;

namespace TcpIpSharp.Tests.Wire;

public class Ipv6AddressTests
{
    [TestCase("2001:db8::20")]
    [TestCase("::1")]
    [TestCase("fe80::1:2:3:4")]
    [TestCase("2001:db8:0:1:1:1:1:1")]
    public void Text_round_trips_in_rfc_5952_form(string text)
    {
        Assert.That(Ipv6Address.TryParse(text, out var a), Is.True);
        Assert.That(a.ToString(), Is.EqualTo(text));
    }

    [Test]
    public void Reads_and_writes_network_order()
    {
        byte[] bytes = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x20];
        var a = Ipv6Address.Read(bytes);
        Assert.That(a.ToString(), Is.EqualTo("2001:db8::20"));
        var written = new byte[16];
        a.WriteTo(written);
        Assert.That(written, Is.EqualTo(bytes));
        Assert.That(Ipv6Address.Loopback.ToString(), Is.EqualTo("::1"));
    }

    [TestCase("192.0.2.1")]
    [TestCase("not an address")]
    [TestCase("")]
    public void Rejects_what_is_not_ipv6(string text) => Assert.That(Ipv6Address.TryParse(text, out _), Is.False);
}
