using System.Diagnostics;
using TcpIpSharp.Links;
using TcpIpSharp.Wire;

namespace TcpIpSharp.Tests.Interop;

/// <summary>Checks every ILink implementation must pass.</summary>
public static class LinkAssertions
{
    /// <summary>WaitReadable honours its timeout when idle, returns early when another thread calls Interrupt, and a pending Interrupt is not lost.</summary>
    public static void InterruptWakesWaitReadable(ILink link)
    {
        var idle = Stopwatch.StartNew();
        bool idleReadable = link.WaitReadable(TimeSpan.FromMilliseconds(100));
        idle.Stop();

        var waker = new Thread(() =>
        {
            Thread.Sleep(200);
            link.Interrupt();
        });
        var woken = Stopwatch.StartNew();
        waker.Start();
        bool readable = link.WaitReadable(TimeSpan.FromSeconds(20));
        woken.Stop();
        waker.Join();

        // An Interrupt with nobody waiting is not lost: the next wait returns at once.
        link.Interrupt();
        var pending = Stopwatch.StartNew();
        link.WaitReadable(TimeSpan.FromSeconds(20));
        pending.Stop();

        Assert.Multiple(() =>
        {
            Assert.That(idleReadable, Is.False, "nothing to read on an idle link");
            Assert.That(idle.Elapsed, Is.GreaterThanOrEqualTo(TimeSpan.FromMilliseconds(90)), "the idle wait honours its timeout");
            Assert.That(readable, Is.False, "woken by Interrupt, not by a frame");
            Assert.That(woken.Elapsed, Is.LessThan(TimeSpan.FromSeconds(5)), "Interrupt woke the 20 s wait early");
            Assert.That(woken.Elapsed, Is.GreaterThanOrEqualTo(TimeSpan.FromMilliseconds(150)));
            Assert.That(pending.Elapsed, Is.LessThan(TimeSpan.FromSeconds(5)), "a pending Interrupt makes the next wait return");
        });
    }

    /// <summary>
    /// The lending contract (<see cref="ILink.Lend"/>): a lend is bounded by the batch's limit; a frame lent stays as it
    /// was until its batch is returned, while more frames arrive; lending into a batch still lent, a second batch while
    /// one is out (<paramref name="lendsInPlace"/>: a copying link has nothing to protect), returning a batch twice, one
    /// never lent, or to a link that did not lend it (<paramref name="stranger"/>) are clear errors; every frame that
    /// arrived is lent once. <paramref name="arrive"/> makes that many distinct frames arrive at the link and waits for
    /// them. Returns every frame lent, in order, as copies.
    /// </summary>
    public static List<byte[]> LendingContract(ILink link, Action<int> arrive, ILink? stranger = null, bool lendsInPlace = true)
    {
        int frameSize = Math.Max(link.Capabilities.MaxFrameSize, 1518);
        var batch = new FrameBatch(8, frameSize);
        var other = new FrameBatch(8, frameSize);
        var lentFrames = new List<byte[]>();

        arrive(4);
        batch.Limit = 2;
        int lent = link.Lend(batch);
        Assert.That(lent, Is.InRange(1, 2), "frames were waiting, and a lend takes at most the batch's limit");
        Assert.That(batch.Count, Is.EqualTo(lent));
        var before = new byte[lent][];
        for (int i = 0; i < lent; i++) before[i] = batch[i].ToArray();
        lentFrames.AddRange(before);

        Assert.Multiple(() =>
        {
            Assert.That(() => link.Lend(batch), Throws.InvalidOperationException.With.Message.Contains("still holds lent frames"), "lending into a batch still lent");
            if (lendsInPlace)
                Assert.That(() => link.Lend(other), Throws.InvalidOperationException.With.Message.Contains("batch out already"), "a second batch while one is out");
            Assert.That(() => link.Return(other), Throws.InvalidOperationException.With.Message.Contains("never lent"), "returning a batch that holds nothing");
            if (stranger is not null)
                Assert.That(() => stranger.Return(batch), Throws.InvalidOperationException.With.Message.Contains("another link"), "returning to a link that did not lend it");
            Assert.That(() => batch.Limit = 4, Throws.InvalidOperationException, "the limit changes only while the batch is empty");
        });
        Assert.That(batch.Count, Is.EqualTo(lent), "the failed calls left the batch as it was");

        // More frames arrive (and are sent) while the batch is out: the lent ones do not change.
        arrive(4);
        for (int i = 0; i < lent; i++)
            Assert.That(batch[i].ToArray(), Is.EqualTo(before[i]), $"lent frame {i} stays as it was until the batch is returned");

        link.Return(batch);
        Assert.Multiple(() =>
        {
            Assert.That(batch.Count, Is.Zero, "a returned batch is empty");
            Assert.That(batch.Lender, Is.Null);
            Assert.That(() => link.Return(batch), Throws.InvalidOperationException.With.Message.Contains("returned twice"), "returned twice");
            Assert.That(() => batch[0].Length, Throws.TypeOf<ArgumentOutOfRangeException>(), "a returned batch has no frames to read");
        });

        // The rest, three at most per lend.
        batch.Limit = 3;
        int n;
        while ((n = link.Lend(batch)) > 0)
        {
            Assert.That(n, Is.InRange(1, 3), "a lend takes at most the batch's limit");
            for (int i = 0; i < n; i++) lentFrames.Add(batch[i].ToArray());
            link.Return(batch);
        }
        Assert.That(lentFrames, Has.Count.GreaterThanOrEqualTo(8), "every frame that arrived was lent");
        return lentFrames;
    }

    /// <summary>
    /// Makes the kernel send <paramref name="count"/> distinct frames to <paramref name="link"/>: ARP requests for
    /// <paramref name="kernelIp"/> from senders <paramref name="firstSender"/>, +1, ..., each answered with a reply to
    /// its sender; then waits until one may be read and a little longer for the rest. Returns the next sender.
    /// </summary>
    public static Ipv4Address ArpRepliesArrive(ILink link, MacAddress stackMac, Ipv4Address firstSender, Ipv4Address kernelIp, int count)
    {
        var request = new byte[EthernetHeader.Size + ArpHeader.Size];
        var sender = firstSender;
        for (int i = 0; i < count; i++)
        {
            int n = new EthernetHeader(MacAddress.Broadcast, stackMac, EtherType.Arp).WriteTo(request);
            new ArpHeader(ArpOperation.Request, stackMac, sender, MacAddress.Zero, kernelIp).WriteTo(request.AsSpan(n));
            Assert.That(link.TrySend(request), Is.True);
            sender = new Ipv4Address(sender.Value + 1);
        }
        Assert.That(link.WaitReadable(TimeSpan.FromSeconds(5)), Is.True, "the kernel answers ARP requests");
        Thread.Sleep(200);
        return sender;
    }

    /// <summary>The targets of the ARP replies among <paramref name="frames"/> (the senders of the requests they answer).</summary>
    public static List<Ipv4Address> ArpReplyTargets(IEnumerable<byte[]> frames)
    {
        var targets = new List<Ipv4Address>();
        foreach (var frame in frames)
            if (EthernetFrame.TryParse(frame, out var eth) == WireError.None && eth.EtherType == EtherType.Arp
                && ArpPacket.TryParse(eth.Payload, out var arp) == WireError.None && arp.Operation == ArpOperation.Reply)
                targets.Add(arp.TargetProtocolAddress);
        return targets;
    }

    /// <summary>Takes every frame ready: through <see cref="ILink.Lend"/> and <see cref="ILink.Return"/> when <paramref name="batch"/> is given, else through <see cref="ILink.TryReceive"/>. Returns how many.</summary>
    public static int Drain(ILink link, byte[] buffer, FrameBatch? batch)
    {
        int received = 0;
        if (batch is null)
        {
            while (link.TryReceive(buffer) > 0) received++;
            return received;
        }
        int n;
        while ((n = link.Lend(batch)) > 0)
        {
            received += n;
            link.Return(batch);
        }
        return received;
    }
}
