using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using TcpIpSharp.Sockets;
using TcpIpSharp.Wire;

namespace TcpIpSharp.Tests.Sockets;

/// <summary>
/// The stack's wall clock, which SNTP's <c>settime()</c> moves: NTP timestamps and their eras, the clock itself, and the
/// TLS client checking certificate dates against it once it was set.
/// </summary>
public class SntpWallClockTests
{
    [Test]
    public void Ntp_timestamps_round_trip_and_pick_their_era()
    {
        var t = new DateTime(2026, 12, 7, 1, 2, 3, DateTimeKind.Utc).AddTicks(1234567);
        var ts = NtpTimestamp.FromDateTime(t);
        Assert.That(ts.ToDateTime(t), Is.EqualTo(t));
        Assert.That(ts.ToDateTime(), Is.EqualTo(t), "RFC 4330 3: top bit set, era 0");
        Assert.That(NtpTimestamp.FromDateTime(NtpTimestamp.Era0).Value, Is.Zero);
        var after = NtpTimestamp.Era1.AddSeconds(10.5);
        var wrapped = NtpTimestamp.FromDateTime(after);
        Assert.That(wrapped.Seconds, Is.EqualTo(10u));
        Assert.That(wrapped.ToDateTime(), Is.EqualTo(after), "RFC 4330 3: top bit clear, era 1");
        Assert.That(wrapped.ToDateTime(NtpTimestamp.Era1.AddDays(-1)), Is.EqualTo(after), "nearest the pivot");
        var before = NtpTimestamp.FromDateTime(NtpTimestamp.Era1.AddSeconds(-2));
        Assert.That(NtpTimestamp.Difference(wrapped, before), Is.EqualTo(TimeSpan.FromSeconds(12.5)), "modulo 2^64 across the wrap");
        Assert.That(NtpTimestamp.Difference(before, wrapped), Is.EqualTo(TimeSpan.FromSeconds(-12.5)));
    }

    [Test]
    public void Ntp_packet_fields_are_read_where_RFC_5905_puts_them()
    {
        var buffer = new byte[NtpPacket.Size];
        NtpPacket.Write(buffer, NtpLeap.Unsynchronised, 4, NtpMode.Server, 0, 6, -20, 0x10, 0x20, NtpPacket.KissCode.Rate,
            new NtpTimestamp(1), new NtpTimestamp(2), new NtpTimestamp(3), new NtpTimestamp(4));
        Assert.That(buffer[0], Is.EqualTo(0xE4));
        Assert.That(NtpPacket.TryParse(buffer, out var p), Is.EqualTo(WireError.None));
        Assert.That((p.Leap, p.Version, p.Mode, p.Stratum, p.Poll, p.Precision), Is.EqualTo((NtpLeap.Unsynchronised, 4, NtpMode.Server, (byte)0, (sbyte)6, (sbyte)-20)));
        Assert.That((p.RootDelay, p.RootDispersion, p.ReferenceId), Is.EqualTo((0x10u, 0x20u, NtpPacket.KissCode.Rate)));
        Assert.That((p.ReferenceTimestamp.Value, p.OriginTimestamp.Value, p.ReceiveTimestamp.Value, p.TransmitTimestamp.Value), Is.EqualTo((1UL, 2UL, 3UL, 4UL)));
        Assert.That(NtpPacket.TryParse(buffer.AsSpan(0, 47), out _), Is.EqualTo(WireError.Truncated));
        Assert.That(TcpIpSharp.Services.Sntp.SntpQuery.KissCodeText(NtpPacket.KissCode.Deny), Is.EqualTo("DENY"));
    }

    [Test]
    public void The_wall_clock_follows_the_stack_clock_and_its_offset()
    {
        var epoch = new DateTime(2030, 1, 1, 0, 0, 0, DateTimeKind.Utc);
        using var stack = new NetworkStack(TcpIpSharp.Links.InMemoryLink.CreatePair().A, new NetworkStackOptions { WallClockEpoch = epoch });
        Assert.That(stack.WallClock(TimeSpan.FromSeconds(90)), Is.EqualTo(epoch.AddSeconds(90)));
        stack.SetWallClock(epoch.AddDays(1), TimeSpan.FromSeconds(90));
        Assert.That(stack.WallClockOffset, Is.EqualTo(TimeSpan.FromDays(1) - TimeSpan.FromSeconds(90)));
        Assert.That(stack.WallClock(TimeSpan.FromSeconds(100)), Is.EqualTo(epoch.AddDays(1).AddSeconds(10)));
    }

    // A certificate valid from 5 minutes ago for a day: with the stack's wall clock 30 days ahead (as a settime() from
    // a server 30 days ahead would leave it), the TLS client's chain check finds it expired; at the system's time it does not.
    [TestCase(30.0, true)]
    [TestCase(0.0, false)]
    public void Tls_checks_certificate_dates_against_the_stack_wall_clock(double daysAhead, bool expired)
    {
        var (a, b) = SocketStack.CreateVirtualPair();
        try
        {
            using var rsa = RSA.Create(2048);
            var request = new CertificateRequest("CN=pair.test", rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
            using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
            // A nonzero offset turns the check on (a zero offset leaves SslStream's own clock).
            a.Invoke(s => s.WallClockOffset = TimeSpan.FromDays(daysAhead) + TimeSpan.FromSeconds(1));
            var listener = b.Socket();
            listener.Bind(("", 443));
            listener.Listen();
            var client = a.Socket();
            client.Connect(("192.0.2.11", 443));
            var (server, _) = listener.Accept();
            var serving = Task.Run(() =>
            {
                try { using var tls = SslModule.WrapSocket(server, serverSide: true, certificate: certificate); tls.Write("ok\n"u8); }
                catch (IOException) { }
                catch (System.Security.Authentication.AuthenticationException) { }
            });
            X509ChainStatusFlags seen = default;
            using (var tls = client.WrapTls("pair.test", (_, _, chain, _) =>
            {
                foreach (var status in chain!.ChainStatus) seen |= status.Status;
                return true;
            }))
            {
                Assert.That(tls.ReadLine(), Is.EqualTo("ok\n"u8.ToArray()));
            }
            serving.Wait(TimeSpan.FromSeconds(10));
            TestContext.Out.WriteLine($"wall clock {a.UtcNow():u}: chain status {seen}");
            Assert.That(seen.HasFlag(X509ChainStatusFlags.NotTimeValid), Is.EqualTo(expired));
            listener.Close();
        }
        finally
        {
            a.Dispose();
            b.Dispose();
        }
    }
}
