using System.Diagnostics.CodeAnalysis;
using TcpIpSharp.Services.Sntp;
using TcpIpSharp.Wire;

namespace TcpIpSharp.Sockets;

/// <summary>
/// micropython-lib's <c>ntptime</c>, C#-cased: <see cref="Time"/> asks <see cref="Host"/> (a name or an address; when
/// null, the NTP servers DHCP gave in option 42) and returns the server's time in seconds since 1970-01-01 UTC (the
/// Pico's epoch since MicroPython 1.22); <see cref="SetTime"/> sets the stack's wall clock from it (the system clock is
/// never touched). Both block the caller only, through <see cref="SocketStack.Sntp"/>; the <c>Async</c> forms block nothing.
/// Failures raise <see cref="OSError"/> as ntptime's socket calls would (ETIMEDOUT for no answer).
/// </summary>
[SuppressMessage("Design", "CA1024:Use properties where appropriate", Justification = "ntptime's functions")]
public static class NtpTimeModule
{
    /// <summary>The server asked (ntptime's <c>host</c>, "pool.ntp.org"); null asks DHCP's option 42 servers.</summary>
    public static string? Host { get; set; } = "pool.ntp.org";

    /// <summary>Seconds a request waits for its answer (ntptime's <c>timeout</c>, 1).</summary>
    public static double Timeout { get; set; } = 1;

    /// <summary><c>ntptime.time()</c>: the server's time now, whole seconds since 1970 (UTC).</summary>
    public static long Time(SocketStack? stack = null) => TimeAsync(stack).AsTask().GetAwaiter().GetResult();

    /// <summary><c>ntptime.settime()</c>: sets the stack's wall clock to the server's time; returns the offset applied.</summary>
    public static TimeSpan SetTime(SocketStack? stack = null) => SetTimeAsync(stack).AsTask().GetAwaiter().GetResult();

    /// <summary>As <see cref="Time"/>, without blocking a thread.</summary>
    public static async ValueTask<long> TimeAsync(SocketStack? stack = null, CancellationToken cancellationToken = default)
    {
        var query = await QueryAsync(stack, cancellationToken).ConfigureAwait(false);
        return new DateTimeOffset(query.Time).ToUnixTimeSeconds();
    }

    /// <summary>As <see cref="SetTime"/>, without blocking a thread.</summary>
    public static async ValueTask<TimeSpan> SetTimeAsync(SocketStack? stack = null, CancellationToken cancellationToken = default)
    {
        var s = stack ?? SocketStack.Default ?? throw new InvalidOperationException("no stack: pass one or set SocketStack.Default");
        var query = await QueryAsync(s, cancellationToken).ConfigureAwait(false);
        lock (s.Driver.Gate) s.Sntp.SetTime(query);
        return query.Offset;
    }

    /// <summary>One SNTP query to <see cref="Host"/> through <paramref name="stack"/>'s client; the whole answer (offset, delay, stratum...).</summary>
    public static async ValueTask<SntpQuery> QueryAsync(SocketStack? stack = null, CancellationToken cancellationToken = default)
    {
        var s = stack ?? SocketStack.Default ?? throw new InvalidOperationException("no stack: pass one or set SocketStack.Default");
        IpAddress? server = null;
        if (Host is string host)
        {
            var infos = await s.GetAddrInfoAsync(host, NtpPacket.Port, SocketModule.AF_INET, SocketModule.SOCK_DGRAM, cancellationToken: cancellationToken).ConfigureAwait(false);
            server = infos[0].SockAddr.Address;
        }
        var done = new TaskCompletionSource<SntpQuery>(TaskCreationOptions.RunContinuationsAsynchronously);
        var timeout = TimeSpan.FromSeconds(Timeout);
        lock (s.Driver.Gate)
        {
            var query = s.Sntp.Query(s.Driver.Now, server, timeout);
            if (query.IsCompleted) done.TrySetResult(query);
            else
            {
                query.Completed += q => done.TrySetResult(q);
                s.Driver.Kick();
            }
        }
        var result = await done.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        return result.Error switch
        {
            SntpError.None => result,
            SntpError.Timeout => throw new OSError(Errno.ETIMEDOUT, $"no answer from NTP server {result.Server}"),
            _ => throw new OSError(Errno.EIO, result.ToString()),
        };
    }
}
