using System.Diagnostics;
using TcpIpSharp.Links;

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
}
