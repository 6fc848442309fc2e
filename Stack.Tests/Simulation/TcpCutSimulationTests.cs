using TcpIpSharp.Links;
using TcpIpSharp.Tests.Tcp;
using TcpIpSharp.Transport.Tcp;

namespace TcpIpSharp.Tests.Simulation;

/// <summary>
/// The other half of the simulation's promise: under a random fault mix, a link cut that starts in the middle of
/// concurrent 1 MB transfers both ways and outlasts the user timeout ends both connections with ETIMEDOUT; what each
/// side received until then is an exact prefix of what the other sent (in order, once); both connections' state is
/// freed. One seed in ten of TCPIPSHARP_SIM_SEEDS (20 by default; 1,000 for the 10,000 run).
/// </summary>
public class TcpCutSimulationTests
{
    private static IEnumerable<int> Seeds()
    {
        int count = int.TryParse(Environment.GetEnvironmentVariable("TCPIPSHARP_SIM_SEEDS"), out int n) && n > 0 ? Math.Max(1, n / 10) : 20;
        return Enumerable.Range(5000, count);
    }

    [TestCaseSource(nameof(Seeds))]
    public void A_cut_outlasting_the_user_timeout_mid_transfer_ends_both_sides_with_timed_out(int seed)
    {
        var random = new Random(seed);
        var faults = TcpSimulationTests.RandomFaults(random);
        // Long enough that the loss alone rarely outlasts it (20% drop both ways loses a round trip a third of the time).
        var userTimeout = TimeSpan.FromMilliseconds(random.Next(5000, 8000));
        var cutFor = userTimeout + TimeSpan.FromMilliseconds(random.Next(1000, 3000));
        var options = new NetworkStackOptions { Tcp = new TcpConnectionOptions { UserTimeout = userTimeout } };
        using var net = new TwoStacks(faults, seed, options);
        var ab = new byte[1 << 20];
        var ba = new byte[1 << 20];
        random.NextBytes(ab);
        random.NextBytes(ba);
        long startCutAt = random.Next(64 * 1024, 512 * 1024);   // bytes received by the faster side before the cut

        var listener = net.B.ListenTcp(5001);
        var client = net.A.ConnectTcp(TwoStacks.AddressB, 5001);
        TcpConnection? server = null;
        var atA = new MemoryStream();
        var atB = new MemoryStream();
        int sentAb = 0, sentBa = 0;
        var buffer = new byte[65536];
        TimeSpan? cutStart = null, failedEarly = null;
        string Context() => $"seed {seed}, faults {faults}, user timeout {userTimeout}, cut {cutFor} from {cutStart}: received {atB.Length} at B, {atA.Length} at A\nclient {client}\nserver {server}";

        void Step()
        {
            if (server is null && listener.TryAccept(out var s)) server = s;
            if (client.State == TcpState.Established && sentAb < ab.Length) sentAb += client.Send(ab.AsSpan(sentAb));
            if (server is { State: TcpState.Established } && sentBa < ba.Length) sentBa += server.Send(ba.AsSpan(sentBa));
            int n;
            while ((n = client.Receive(buffer)) > 0) atA.Write(buffer, 0, n);
            if (server is not null) while ((n = server.Receive(buffer)) > 0) atB.Write(buffer, 0, n);
            if (cutStart is null)
            {
                // The loss alone may outlast the user timeout now and then (a SYN or a retransmission lost again and again):
                // that is a legitimate ETIMEDOUT (and the peer, which freed nothing, then meets a reset). Nothing else is.
                if (failedEarly is null && (client.Error != NetError.None || server is { Error: not NetError.None }))
                {
                    failedEarly = net.Clock.Now;
                    Assert.That(client.Error is NetError.None or NetError.TimedOut or NetError.ConnectionReset
                        && server?.Error is null or NetError.None or NetError.TimedOut or NetError.ConnectionReset
                        && (client.Error == NetError.TimedOut || server?.Error == NetError.TimedOut), Is.True,
                        $"failed before the cut: client {client.Error}, server {server?.Error}; {Context()}");
                }
                if (failedEarly is null && Math.Max(atA.Length, atB.Length) >= startCutAt) cutStart = net.Clock.Now;   // both directions still under way
            }
            bool cut = cutStart is TimeSpan c && net.Clock.Now - c < cutFor;
            net.FaultsA!.Options.Cut = cut;
            net.FaultsB!.Options.Cut = cut;
        }
        try
        {
            net.RunUntil(() => client.State == TcpState.Closed && server?.State == TcpState.Closed
                || failedEarly is TimeSpan f && net.Clock.Now - f > TimeSpan.FromSeconds(30), TimeSpan.FromMinutes(5), Step);
        }
        catch (TimeoutException e) { throw new InvalidOperationException($"{e.Message}: {Context()}", e); }
        if (failedEarly is not null)
        {
            // What arrived is still an exact prefix; a side left without an error (the server before it was accepted,
            // or one whose peer vanished silently with nothing outstanding) is closed, and then everything is freed.
            Assert.That(atB.ToArray(), Is.EqualTo(ab.AsSpan(0, (int)atB.Length).ToArray()), "A->B prefix; " + Context());
            Assert.That(atA.ToArray(), Is.EqualTo(ba.AsSpan(0, (int)atA.Length).ToArray()), "B->A prefix; " + Context());
            client.Abort();
            server?.Abort();
            net.RunUntil(() => net.A.Tcp.Count + net.B.Tcp.Count == 0, TimeSpan.FromMinutes(5));
            return;
        }

        Assert.That(cutStart, Is.Not.Null, Context());
        var ended = net.Clock.Now - cutStart!.Value;
        using (Assert.EnterMultipleScope())
        {
            Assert.That(atB.Length, Is.LessThan(ab.Length), "the cut came mid-transfer A->B; " + Context());
            Assert.That(atA.Length, Is.LessThan(ba.Length), "the cut came mid-transfer B->A; " + Context());
            Assert.That(client.Error, Is.EqualTo(NetError.TimedOut), Context());
            Assert.That(server!.Error, Is.EqualTo(NetError.TimedOut), Context());
            // The user timeout counts from when the oldest unacknowledged data was sent, at most a little before the cut.
            Assert.That(ended, Is.LessThanOrEqualTo(userTimeout + TimeSpan.FromMilliseconds(50)), "ended by the user timeout; " + Context());
            Assert.That(ended, Is.LessThan(cutFor), "within the cut; " + Context());
            Assert.That(atB.ToArray(), Is.EqualTo(ab.AsSpan(0, (int)atB.Length).ToArray()), "A->B: an exact prefix, in order, once; " + Context());
            Assert.That(atA.ToArray(), Is.EqualTo(ba.AsSpan(0, (int)atA.Length).ToArray()), "B->A: an exact prefix, in order, once; " + Context());
            Assert.That(net.A.Tcp.Count + net.B.Tcp.Count, Is.Zero, "every connection's state freed; " + Context());
        }
        // After the cut nothing is left to revive: no connection reappears.
        net.RunUntil(() => net.Clock.Now - cutStart.Value > cutFor + TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(30));
        Assert.That(net.A.Tcp.Count + net.B.Tcp.Count, Is.Zero);
    }
}
