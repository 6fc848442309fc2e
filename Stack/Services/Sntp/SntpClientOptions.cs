using TcpIpSharp.Wire;

namespace TcpIpSharp.Services.Sntp;

/// <summary>Settings of an <see cref="SntpClient"/>; the defaults follow micropython-lib's <c>ntptime</c> and RFC 4330 10.</summary>
public sealed record SntpClientOptions
{
    /// <summary>Servers to ask, in order; when empty, the NTP servers of the DHCP lease (option 42) are used.</summary>
    public IReadOnlyList<IpAddress> Servers { get; init; } = [];
    /// <summary>How long one request waits for its answer (ntptime's <c>timeout</c>: 1 s).</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(1);
    /// <summary>Requests sent per query before it times out (each with a new transmit timestamp).</summary>
    public int Attempts { get; init; } = 2;
    /// <summary>
    /// Poll by itself (RFC 4330's unicast client): ask every <see cref="MinimumPollInterval"/>, backing off by doubling
    /// up to <see cref="MaximumPollInterval"/> after a timeout or a RATE kiss; off by default (one query at a time, as ntptime).
    /// </summary>
    public bool Periodic { get; init; }
    /// <summary>With <see cref="Periodic"/>, apply each answer's offset to the stack's wall clock (<see cref="NetworkStack.WallClockOffset"/>).</summary>
    public bool SetClock { get; init; }
    /// <summary>The least time between two periodic polls (RFC 4330 10 forbids less than 15 s; 64 s is NTP's minpoll).</summary>
    public TimeSpan MinimumPollInterval { get; init; } = TimeSpan.FromSeconds(64);
    /// <summary>The most a periodic poll backs off to (NTP's maxpoll 2^10 s).</summary>
    public TimeSpan MaximumPollInterval { get; init; } = TimeSpan.FromSeconds(1024);
    /// <summary>How long a server that sent RATE is left alone at first; each RATE after it doubles this, up to <see cref="MaximumRateBackoff"/>.</summary>
    public TimeSpan RateBackoff { get; init; } = TimeSpan.FromSeconds(64);
    /// <summary>The longest a RATE back-off grows to (36 hours, RFC 4330 10's largest poll interval).</summary>
    public TimeSpan MaximumRateBackoff { get; init; } = TimeSpan.FromHours(36);
}
