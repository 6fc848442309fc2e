using System.Security.Cryptography;
using TcpIpSharp.Links;
using TcpIpSharp.Transport.Tcp;

namespace TcpIpSharp.Tests.Tcp;

public class TcpTransferTests
{
    /// <summary><paramref name="length"/> random bytes from <paramref name="seed"/> (the same seed, the same bytes).</summary>
    internal static byte[] Pattern(int length, int seed)
    {
        var data = new byte[length];
        new Random(seed).NextBytes(data);
        return data;
    }

    /// <summary>Sends <paramref name="ab"/> from A to B and <paramref name="ba"/> from B to A at once, then both close; returns what each received.</summary>
    internal static (byte[] AtB, byte[] AtA, TcpConnection Client, TcpConnection Server) Exchange(TwoStacks net, byte[] ab, byte[] ba, TimeSpan limit, Action? each = null)
    {
        var listener = net.B.ListenTcp(5001);
        var client = net.A.ConnectTcp(net.AddressOfB, 5001);
        TcpConnection? server = null;
        var atB = new MemoryStream();
        var atA = new MemoryStream();
        int sentAb = 0, sentBa = 0;
        bool clientClosed = false, serverClosed = false;
        var buffer = new byte[65536];
        try
        {
        net.RunUntil(() => clientClosed && serverClosed && client.IsEndOfStream && server!.IsEndOfStream, limit, () =>
        {
            each?.Invoke();
            if (server is null && listener.TryAccept(out var s)) server = s;
            if (client.State == TcpState.Established || client.State == TcpState.CloseWait)
            {
                if (sentAb < ab.Length) sentAb += client.Send(ab.AsSpan(sentAb));
                if (sentAb == ab.Length && !clientClosed) { client.Shutdown(); clientClosed = true; }
            }
            if (server is not null && (server.State == TcpState.Established || server.State == TcpState.CloseWait))
            {
                if (sentBa < ba.Length) sentBa += server.Send(ba.AsSpan(sentBa));
                if (sentBa == ba.Length && !serverClosed) { server.Shutdown(); serverClosed = true; }
            }
            int n;
            while ((n = client.Receive(buffer)) > 0) atA.Write(buffer, 0, n);
            if (server is not null) while ((n = server.Receive(buffer)) > 0) atB.Write(buffer, 0, n);
            if (client.Error != NetError.None) throw new InvalidOperationException($"client failed: {client.Error}");
            if (server is { Error: not NetError.None }) throw new InvalidOperationException($"server failed: {server.Error}");
        });
        }
        catch (Exception e) when (e is TimeoutException or InvalidOperationException)
        {
            throw new InvalidOperationException($"{e.Message} at {net.Clock.Now}: received {atB.Length}/{ab.Length} at B, {atA.Length}/{ba.Length} at A\nclient {client}\nserver {server}", e);
        }
        return (atB.ToArray(), atA.ToArray(), client, server!);
    }

    [Test]
    public void A_megabyte_each_way_arrives_exactly_on_a_clean_link([Values] IpFamily family)
    {
        using var net = new TwoStacks(family: family);
        var ab = Pattern(1 << 20, 1);
        var ba = Pattern(1 << 20, 2);
        var (atB, atA, client, server) = Exchange(net, ab, ba, TimeSpan.FromSeconds(30));
        Assert.That(SHA256.HashData(atB), Is.EqualTo(SHA256.HashData(ab)));
        Assert.That(SHA256.HashData(atA), Is.EqualTo(SHA256.HashData(ba)));
        Assert.That(client.Retransmits + server.Retransmits, Is.Zero, "no loss, no retransmission");
        net.RunUntil(() => client.State is TcpState.TimeWait or TcpState.Closed && server.State is TcpState.Closed or TcpState.TimeWait, TimeSpan.FromSeconds(5));
        net.Clock.Advance(TimeSpan.FromSeconds(61));
        net.A.Poll(net.Clock.Now); net.B.Poll(net.Clock.Now);
        Assert.That(net.A.Tcp.Count + net.B.Tcp.Count, Is.Zero, "every connection freed after TIME-WAIT");
    }

    private static IEnumerable<TestCaseData> Seeds() => IpFamilies.OverBoth(Enumerable.Range(1, 20).Select(seed => new TestCaseData(seed)));

    [TestCaseSource(nameof(Seeds))]
    public void A_megabyte_each_way_arrives_exactly_through_loss_duplication_reordering_and_corruption(int seed, IpFamily family)
    {
        var faults = new FaultOptions { DropRate = 0.05, DuplicateRate = 0.02, ReorderRate = 0.05, CorruptRate = 0.01, Jitter = TimeSpan.FromMilliseconds(1) };
        using var net = new TwoStacks(faults, seed, family: family);
        var ab = Pattern(1 << 20, seed);
        var ba = Pattern(1 << 20, seed + 100);
        var (atB, atA, client, server) = Exchange(net, ab, ba, TimeSpan.FromMinutes(10));
        TestContext.Out.WriteLine($"seed {seed}: retransmits {client.Retransmits}+{server.Retransmits}; {net.A.Statistics.TcpDetail.FastRetransmits} fast, {net.A.Statistics.TcpDetail.TimeoutRetransmits} timeouts");
        Assert.That(atB.Length, Is.EqualTo(ab.Length));
        Assert.That(SHA256.HashData(atB), Is.EqualTo(SHA256.HashData(ab)));
        Assert.That(SHA256.HashData(atA), Is.EqualTo(SHA256.HashData(ba)));
    }

    [Test]
    public void Connecting_to_a_closed_port_is_refused([Values] IpFamily family)
    {
        using var net = new TwoStacks(family: family);
        var client = net.A.ConnectTcp(net.AddressOfB, 81);
        net.RunUntil(() => client.State == TcpState.Closed, TimeSpan.FromSeconds(5));
        Assert.That(client.Error, Is.EqualTo(NetError.ConnectionRefused));
    }
}
