using TcpIpSharp.Transport.Tcp;

namespace TcpIpSharp.Tests.Tcp;

public class SipHashTests
{
    // The reference vectors of the SipHash paper (vectors.h): key 00..0f, messages 00, 00 01, ... of each length.
    [TestCase(0, 0x726fdb47dd0e0e31UL)]
    [TestCase(1, 0x74f839c593dc67fdUL)]
    [TestCase(7, 0xab0200f58b01d137UL)]
    [TestCase(8, 0x93f5f5799a932462UL)]
    [TestCase(15, 0xa129ca6149be45e5UL)]
    public void Matches_the_reference_vectors(int length, ulong expected)
    {
        byte[] key = [.. Enumerable.Range(0, 16).Select(i => (byte)i)];
        byte[] message = [.. Enumerable.Range(0, length).Select(i => (byte)i)];
        Assert.That(SipHash.Hash(key, message), Is.EqualTo(expected));
    }

    [Test]
    public void A_new_connection_on_a_four_tuple_in_time_wait_at_the_peer_opens_at_once()
    {
        var options = new TcpConnectionOptions { SendBufferSize = 4096, ReceiveBufferSize = 4096 };
        using var net = new TwoStacks(options: new NetworkStackOptions { Tcp = options });
        var listener = net.B.ListenTcp(7300, 8, options);
        TcpConnection Open()
        {
            var c = net.A.ConnectTcp(TwoStacks.AddressB, 7300, options, localPort: 40000);
            net.RunUntil(() => c.State == TcpState.Established, TimeSpan.FromSeconds(10));
            return c;
        }
        var first = Open();
        Assert.That(listener.TryAccept(out var server), Is.True);
        server.Close();   // the server closes first: its end waits in TIME-WAIT
        net.RunUntil(() => first.IsEndOfStream, TimeSpan.FromSeconds(5));
        first.Close();
        net.RunUntil(() => server.State == TcpState.TimeWait && first.State == TcpState.Closed, TimeSpan.FromSeconds(5));
        net.Clock.Advance(TimeSpan.FromMilliseconds(5));

        var start = net.Clock.Now;
        var second = Open();
        string state = $"paws {net.B.Statistics.TcpDetail.PawsDropsCount}, A timeouts {net.A.Statistics.TcpDetail.TimeoutRetransmitsCount}, A resets sent {net.A.Statistics.TcpDetail.ResetsSentCount}, B challenge {net.B.Statistics.TcpDetail.ChallengeAcksCount}, B oow {net.B.Statistics.TcpDetail.OutOfWindowCount}; B: {string.Join(" | ", net.B.TcpSnapshot())}";
        Assert.That(net.Clock.Now - start, Is.LessThan(TimeSpan.FromMilliseconds(50)), "no SYN retransmission (1 s) was needed: " + state);
        Assert.That(net.B.Statistics.TcpDetail.PawsDropsCount, Is.Zero, "the SYN's timestamp continues the old connection's clock");
        Assert.That(net.A.Statistics.TcpDetail.TimeoutRetransmitsCount, Is.Zero);
        Assert.That(listener.TryAccept(out _), Is.True);
        second.Abort();
    }
}
