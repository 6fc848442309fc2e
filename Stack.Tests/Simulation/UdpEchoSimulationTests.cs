using TcpIpSharp.Links;
using TcpIpSharp.Transport.Udp;
using TcpIpSharp.Wire;

namespace TcpIpSharp.Tests.Simulation;

/// <summary>Two stacks joined through fault injectors, in virtual time: UDP echo with ARP and fragmentation in play.</summary>
public class UdpEchoSimulationTests
{
    [TestCase(1)]
    [TestCase(2)]
    [TestCase(3)]
    public void Ten_thousand_echo_requests_under_20_percent_loss_duplication_and_reordering(int seed)
    {
        var clock = new ManualClock();
        var faults = new FaultOptions { DropRate = 0.2, DuplicateRate = 0.2, ReorderRate = 0.2, Jitter = TimeSpan.FromMilliseconds(2), CorruptRate = 0.01 };
        var (a, b) = InMemoryLink.CreatePair();
        a.PoisonReturnedFrames = b.PoisonReturnedFrames = true;   // fragments kept for reassembly must be copies, not the lent frames
        var options = new NetworkStackOptions { PrefixLength = 24, ArpEntryLifetime = TimeSpan.FromSeconds(2) };
        using var client = new NetworkStack(new FaultInjectorLink(a, faults, seed, clock),
            options with { MacAddress = MacAddress.Parse("02:00:00:00:00:0a"), Address = Ipv4Address.Parse("192.0.2.10") }, new SeededRandomSource(seed));
        using var server = new NetworkStack(new FaultInjectorLink(b, faults, seed + 1000, clock),
            options with { MacAddress = MacAddress.Parse("02:00:00:00:00:0b"), Address = Ipv4Address.Parse("192.0.2.11") }, new SeededRandomSource(seed + 1));
        client.AfterFrame = server.AfterFrame = TcpIpSharp.Diagnostics.StackInvariants.Check;
        var echo = server.OpenUdp(7);
        var buffer = new byte[70000];
        echo.Ready = e =>
        {
            while (e.Receive(buffer, out var from, out var port) is int n && n >= 0) e.SendTo(buffer.AsSpan(0, n), from, port);
        };
        UdpEndpoint sender = client.OpenUdp();
        var random = new Random(seed);
        var sentPayloads = new Dictionary<int, byte[]>();
        int received = 0, corruptAccepted = 0;
        var rx = new byte[70000];
        long maxReassembly = 0, maxArpQueue = 0;

        for (int i = 0; i < 10_000; i++)
        {
            int size = random.Next(4, i % 10 == 0 ? 4000 : 600);   // one in ten fragmented
            var payload = new byte[size];
            random.NextBytes(payload);
            BitConverter.TryWriteBytes(payload, i);
            sentPayloads[i] = payload;
            sender.SendTo(payload, server.Address, 7);
            for (int step = 0; step < 3; step++)
            {
                clock.Advance(TimeSpan.FromMilliseconds(1));
                client.Poll(clock.Now);
                server.Poll(clock.Now);
            }
            while (sender.Receive(rx, out _, out _) is int n && n >= 0)
            {
                int id = BitConverter.ToInt32(rx, 0);
                if (id >= 0 && sentPayloads.TryGetValue(id, out var expected) && rx.AsSpan(0, n).SequenceEqual(expected)) received++;
                else corruptAccepted++;
            }
            maxReassembly = Math.Max(maxReassembly, Math.Max(client.Ipv4.Reassembler.BytesHeld, server.Ipv4.Reassembler.BytesHeld));
            maxArpQueue = Math.Max(maxArpQueue, Math.Max(client.Interface.Arp.QueuedFrames, server.Interface.Arp.QueuedFrames));
        }
        TestContext.Out.WriteLine($"seed {seed}: {received} echoes back intact of 10000; client stats:\n{client.Statistics}");
        using (Assert.EnterMultipleScope())
        {
            Assert.That(corruptAccepted, Is.Zero, "every datagram that arrives is byte-exact");
            Assert.That(received, Is.GreaterThan(4000), "with 20% loss each way, most round trips complete");
            Assert.That(maxReassembly, Is.LessThanOrEqualTo(options.ReassemblyMaxBytes));
            Assert.That(maxArpQueue, Is.LessThanOrEqualTo(options.ArpQueueTotal));
            Assert.That(client.Statistics.Ipv4.Received + server.Statistics.Ipv4.Received, Is.GreaterThan(10_000));
        }
    }
}
