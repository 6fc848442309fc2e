using TcpIpSharp.Services.Dhcp;
using TcpIpSharp.Services.Sntp;
using TcpIpSharp.Wire;

namespace TcpIpSharp.Tests.Simulation;

/// <summary>
/// The SNTP client on stack A against <see cref="TestNtpServer"/> on stack B, in virtual time: offset and delay by
/// RFC 5905's formulas, Kiss-o'-Death (RATE backs off, DENY and RSTR stop), the origin check, refused and malformed
/// replies, DHCP's option 42, periodic polling's back-off.
/// </summary>
public class SntpSimulationTests
{
    private static readonly Ipv4Address ServerIp = Ipv4Address.Parse("192.0.2.11");

    private static (PairSim Sim, SntpClient Client, TestNtpServer Server) Rig(SntpClientOptions? options = null, DateTime? epoch = null)
    {
        var sim = new PairSim(epoch: epoch).WarmArp();
        var client = sim.AddA(new SntpClient(options ?? new SntpClientOptions { Servers = [ServerIp] }));
        var server = sim.AddB(new TestNtpServer());
        return (sim, client, server);
    }

    private static SntpQuery Ask(PairSim sim, SntpClient client, IpAddress? server = null)
    {
        var q = client.Query(sim.Clock.Now, server);
        sim.RunUntil(() => q.IsCompleted, TimeSpan.FromSeconds(10), "the query");
        return q;
    }

    // A query is sent between steps: the request reaches B one 10 ms step later, the reply (37 ms of processing later)
    // reaches A one step after it leaves: δ = 20 ms, symmetric, so θ = the server's offset exactly.
    [TestCase(3250.0)]
    [TestCase(-3_600_000.0)]
    [TestCase(0.0)]
    public void Offset_and_delay_follow_RFC_5905(double offsetMs)
    {
        var (sim, client, server) = Rig();
        using var _ = sim;
        server.Offset = TimeSpan.FromMilliseconds(offsetMs);
        var q = Ask(sim, client);
        TestContext.Out.WriteLine(q);
        Assert.That(q.Error, Is.EqualTo(SntpError.None));
        Assert.That(q.Delay.TotalMilliseconds, Is.EqualTo(20).Within(0.001));
        Assert.That(q.Offset.TotalMilliseconds, Is.EqualTo(offsetMs).Within(0.001));
        Assert.That(q.Stratum, Is.EqualTo(2));
        Assert.That((q.Time - (sim.A.WallClock(q.AnsweredAt) + TimeSpan.FromMilliseconds(offsetMs))).TotalMilliseconds, Is.EqualTo(0).Within(0.001));

        // settime(): the stack's wall clock moves by the offset; asked again, there is none left.
        Assert.That(client.SetTime(q), Is.True);
        Assert.That(sim.A.WallClockOffset.TotalMilliseconds, Is.EqualTo(offsetMs).Within(0.001));
        var again = Ask(sim, client);
        Assert.That(again.Offset.TotalMilliseconds, Is.EqualTo(0).Within(0.001));
        Assert.That(client.Statistics.RejectedOrigin + client.Statistics.RejectedMalformed + client.Statistics.RejectedSource, Is.Zero);
    }

    // Both clocks cross 2036-02-07 06:28:16 (the 32-bit seconds wrap to era 1) during the exchange, and the server is
    // 2 s ahead: the differences modulo 2^64 still give the right offset, and the server's time lands in 2036.
    [TestCase(-0.0000001, "+0.000000")]
    [TestCase(-0.0000007, "-0.000001")]
    [TestCase(0.0000004, "+0.000000")]
    [TestCase(-0.25, "-0.250000")]
    public void The_offset_prints_as_ntpdate_does_even_when_a_negative_one_rounds_to_zero(double seconds, string expected)
    {
        // A negative offset under half a microsecond printed "-+0.000000" (seen against chrony), which no reader parses.
        var query = new SntpQuery(IpAddress.From(System.Net.IPAddress.Parse("192.0.2.1")));
        query.Answer(TimeSpan.FromTicks((long)Math.Round(seconds * TimeSpan.TicksPerSecond)), TimeSpan.FromMilliseconds(1), 2, NtpLeap.None, 0, DateTime.UnixEpoch, DateTime.UnixEpoch, TimeSpan.Zero);
        Assert.That(query.OffsetText, Is.EqualTo(expected));
        Assert.That(query.ToString(), Does.Contain("offset " + expected + ","));
    }

    [Test]
    public void Offset_is_right_across_the_2036_era_wrap()
    {
        var (sim, client, server) = Rig(epoch: NtpTimestamp.Era1 - TimeSpan.FromSeconds(1.995));
        using var _ = sim;
        server.Offset = TimeSpan.FromSeconds(2);
        var q = Ask(sim, client);
        Assert.That(q.Error, Is.EqualTo(SntpError.None), q.ToString());
        Assert.That(q.Offset.TotalMilliseconds, Is.EqualTo(2000).Within(0.001));
        Assert.That(q.ServerTransmitTime, Is.GreaterThan(NtpTimestamp.Era1));
        Assert.That(q.ServerTransmitTime.Year, Is.EqualTo(2036));
    }

    [Test]
    public void Kiss_RATE_backs_off_and_DENY_stops_asking()
    {
        var (sim, client, server) = Rig(new SntpClientOptions { Servers = [ServerIp], RateBackoff = TimeSpan.FromSeconds(64) });
        using var _ = sim;
        server.Mode = NtpServerMode.Kiss;
        server.KissCode = NtpPacket.KissCode.Rate;
        var q = Ask(sim, client);
        Assert.That(q.Error, Is.EqualTo(SntpError.RateLimited));
        Assert.That(q.KissCode, Is.EqualTo("RATE"));
        // Within the back-off nothing is sent; after it the server is asked again, and a second RATE doubles it.
        int before = server.Requests;
        Assert.That(Ask(sim, client).Error, Is.EqualTo(SntpError.NoServer), "the only server is backing off");
        Assert.That(Ask(sim, client, ServerIp).Error, Is.EqualTo(SntpError.RateLimited));
        Assert.That(server.Requests, Is.EqualTo(before));
        sim.RunFor(TimeSpan.FromSeconds(64));
        Assert.That(Ask(sim, client).Error, Is.EqualTo(SntpError.RateLimited));
        Assert.That(server.Requests, Is.EqualTo(before + 1));
        sim.RunFor(TimeSpan.FromSeconds(64));
        Assert.That(Ask(sim, client, ServerIp).Error, Is.EqualTo(SntpError.RateLimited), "the second back-off is 128 s");
        Assert.That(server.Requests, Is.EqualTo(before + 1));
        sim.RunFor(TimeSpan.FromSeconds(65));
        server.Mode = NtpServerMode.Normal;
        Assert.That(Ask(sim, client).Error, Is.EqualTo(SntpError.None));

        server.Mode = NtpServerMode.Kiss;
        server.KissCode = NtpPacket.KissCode.Deny;
        var denied = Ask(sim, client);
        Assert.That(denied.Error, Is.EqualTo(SntpError.Denied));
        Assert.That(client.IsDenied(ServerIp), Is.True);
        server.Mode = NtpServerMode.Normal;
        before = server.Requests;
        sim.RunFor(TimeSpan.FromHours(1));
        Assert.That(Ask(sim, client).Error, Is.EqualTo(SntpError.NoServer), "the only server denied us: none is left");
        Assert.That(Ask(sim, client, ServerIp).Error, Is.EqualTo(SntpError.Denied));
        Assert.That(server.Requests, Is.EqualTo(before));
        Assert.That(client.Statistics.KissRate, Is.EqualTo(2));
        Assert.That(client.Statistics.KissDeny, Is.EqualTo(1));
    }

    [Test]
    public void Kiss_RSTR_stops_asking_and_an_unknown_code_only_fails_the_query()
    {
        var (sim, client, server) = Rig();
        using var _ = sim;
        server.Mode = NtpServerMode.Kiss;
        server.KissCode = 0x41435354;   // "ACST": no lasting meaning
        var q = Ask(sim, client);
        Assert.That((q.Error, q.KissCode), Is.EqualTo((SntpError.KissOfDeath, "ACST")));
        Assert.That(client.IsDenied(ServerIp), Is.False);
        server.KissCode = NtpPacket.KissCode.Restricted;
        Assert.That(Ask(sim, client).Error, Is.EqualTo(SntpError.Denied));
        Assert.That(client.IsDenied(ServerIp), Is.True);
    }

    [Test]
    public void A_reply_with_the_wrong_origin_timestamp_is_dropped_and_counted()
    {
        var (sim, client, server) = Rig();
        using var _ = sim;
        server.Mode = NtpServerMode.BadOriginFirst;
        var q = Ask(sim, client);
        Assert.That(q.Error, Is.EqualTo(SntpError.None));
        Assert.That(client.Statistics.RejectedOrigin, Is.EqualTo(1));
        Assert.That(client.Statistics.RepliesAccepted, Is.EqualTo(1));
        Assert.That(q.Offset.TotalMilliseconds, Is.EqualTo(0).Within(0.001));
    }

    [TestCase(NtpServerMode.Short, SntpError.Timeout)]
    [TestCase(NtpServerMode.ClientMode, SntpError.Timeout)]
    [TestCase(NtpServerMode.VersionZero, SntpError.Timeout)]
    [TestCase(NtpServerMode.ZeroTransmit, SntpError.Timeout)]
    [TestCase(NtpServerMode.Unsynchronised, SntpError.Unsynchronised)]
    [TestCase(NtpServerMode.Stratum16, SntpError.Unsynchronised)]
    [TestCase(NtpServerMode.Silent, SntpError.Timeout)]
    public void Refused_and_malformed_replies(NtpServerMode mode, SntpError expected)
    {
        var (sim, client, server) = Rig();
        using var _ = sim;
        server.Mode = mode;
        var q = Ask(sim, client);
        Assert.That(q.Error, Is.EqualTo(expected));
        var s = client.Statistics;
        long rejected = s.RejectedMalformed + s.RejectedMode + s.RejectedUnsynchronised;
        if (mode == NtpServerMode.Silent) Assert.That(rejected, Is.Zero);
        else if (expected == SntpError.Timeout) Assert.That(rejected, Is.EqualTo(2), "both attempts' replies dropped and counted");
        else Assert.That(s.RejectedUnsynchronised, Is.EqualTo(1));
        if (expected == SntpError.Timeout) Assert.That((q.Attempts, server.Requests), Is.EqualTo((2, 2)));
        Assert.That(s.RepliesAccepted, Is.Zero);
        Assert.That(sim.A.WallClockOffset, Is.EqualTo(TimeSpan.Zero));
    }

    [Test]
    public void Ntp_servers_come_from_DHCP_option_42()
    {
        using var sim = new PairSim(a: new NetworkStackOptions { MacAddress = MacAddress.Parse("02:00:00:00:00:0a") },
            b: new NetworkStackOptions { MacAddress = MacAddress.Parse("02:00:00:00:00:0b"), Address = ServerIp });
        var dhcpServer = sim.AddB(new TestDhcpServer(Ipv4Address.Parse("192.0.2.50"), 4, 3600, [ServerIp]) { NtpServers = [ServerIp, Ipv4Address.Parse("192.0.2.99")] });
        var ntp = sim.AddB(new TestNtpServer { Offset = TimeSpan.FromSeconds(1) });
        var dhcp = sim.AddA(new DhcpClient(new DhcpClientOptions { CheckAddress = false }));
        var client = sim.AddA(new SntpClient(dhcp: dhcp));
        Assert.That(client.Query(sim.Clock.Now).Error, Is.EqualTo(SntpError.NoServer), "no lease, no server");
        sim.RunUntil(() => dhcp.Status == DhcpStatus.GotIp, TimeSpan.FromSeconds(30), "the lease");
        Assert.That(dhcpServer.SawNtpRequested, Is.True, "option 42 is in the parameter request list");
        Assert.That(dhcp.NtpServers, Is.EqualTo(new[] { ServerIp, Ipv4Address.Parse("192.0.2.99") }));
        Assert.That(client.Servers, Is.EqualTo(new IpAddress[] { ServerIp, Ipv4Address.Parse("192.0.2.99") }));
        var q = Ask(sim, client);
        Assert.That(q.Error, Is.EqualTo(SntpError.None));
        Assert.That(q.Server, Is.EqualTo((IpAddress)ServerIp));
        // The request that waited for ARP was sent again when its answer came, inside A's step: it reached B in that
        // step and the answer came back one step later (δ = 10 ms, all on the way back, θ = 1000 − 5 ms).
        Assert.That(q.Offset.TotalMilliseconds, Is.EqualTo(995).Within(0.001));
        Assert.That(q.Delay.TotalMilliseconds, Is.EqualTo(10).Within(0.001));
        Assert.That((q.Attempts, ntp.Requests), Is.EqualTo((1, 2)));
    }

    [Test]
    public void Periodic_polling_backs_off_while_unanswered_and_sets_the_clock_once_answered()
    {
        var (sim, client, server) = Rig(new SntpClientOptions { Servers = [ServerIp], Periodic = true, SetClock = true });
        using var _ = sim;
        server.Mode = NtpServerMode.Silent;
        server.Offset = TimeSpan.FromSeconds(7);
        sim.StepSize = TimeSpan.FromMilliseconds(100);
        sim.RunFor(TimeSpan.FromSeconds(460));
        Assert.That(server.Requests, Is.EqualTo(6), "3 polls of 2 attempts, each failing 2 s later and doubling the interval: at 0, 130 and 388 s (next at 902)");
        Assert.That(client.PollInterval, Is.EqualTo(TimeSpan.FromSeconds(512)));
        server.Mode = NtpServerMode.Normal;
        sim.RunFor(TimeSpan.FromSeconds(450));
        Assert.That(client.Statistics.ClockSets, Is.EqualTo(1));
        Assert.That(client.PollInterval, Is.EqualTo(TimeSpan.FromSeconds(64)));
        Assert.That(sim.A.WallClockOffset.TotalSeconds, Is.EqualTo(7).Within(0.1));
    }

    // Hostile: 20,000 forged datagrams (random bytes and lengths; most from the server's address and port 123, some
    // from elsewhere) at the client's port while a query waits. Each is counted under one reason and dropped, the
    // client's receive path allocates nothing, and the real answer still gets through.
    [Test]
    public void A_flood_of_forged_replies_is_counted_dropped_and_allocates_nothing()
    {
        var (sim, client, server) = Rig(new SntpClientOptions { Servers = [ServerIp], Timeout = TimeSpan.FromSeconds(30), Attempts = 1 });
        using var _ = sim;
        server.Processing = TimeSpan.FromSeconds(20);   // the real answer comes after the flood
        var q = client.Query(sim.Clock.Now);
        sim.Step();
        var (to, port) = server.LastClient;
        var random = new Random(17);
        var junk = new byte[120];
        long allocated = 0;
        int sent = 0;
        for (int round = 0; round < 2000; round++)
        {
            for (int i = 0; i < 10; i++, sent++)
            {
                random.NextBytes(junk);
                int length = random.Next(0, junk.Length);
                if (random.Next(4) == 0) junk[0] = (byte)((junk[0] & 0xF8) | 4);   // mode 4, so the origin check is reached
                server.SendRaw(junk.AsSpan(0, length), to, port);
            }
            sim.Clock.Advance(TimeSpan.FromMilliseconds(1));
            sim.B.Poll(sim.Clock.Now);
            sim.A.Poll(sim.Clock.Now);
            long before = GC.GetAllocatedBytesForCurrentThread();
            client.Poll(sim.A, sim.Clock.Now);
            if (round >= 10) allocated += GC.GetAllocatedBytesForCurrentThread() - before;
        }
        var s = client.Statistics;
        long counted = s.RejectedMalformed + s.RejectedMode + s.RejectedOrigin + s.RejectedUnsynchronised + s.RejectedSource;
        TestContext.Out.WriteLine($"{sent} forged: malformed {s.RejectedMalformed}, mode {s.RejectedMode}, origin {s.RejectedOrigin}, unsynchronised {s.RejectedUnsynchronised}; allocated {allocated} B");
        Assert.That(counted, Is.EqualTo(sent));
        Assert.That(s.RejectedOrigin, Is.GreaterThan(0));
        Assert.That(allocated, Is.Zero);
        Assert.That(q.IsCompleted, Is.False);
        sim.RunUntil(() => q.IsCompleted, TimeSpan.FromSeconds(25), "the real answer");
        Assert.That(q.Error, Is.EqualTo(SntpError.None));
        Assert.That(q.Offset.TotalMilliseconds, Is.EqualTo(0).Within(1));
    }
}
