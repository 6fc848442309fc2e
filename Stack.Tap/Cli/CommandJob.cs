using TcpIpSharp.Services.Dhcp;

namespace TcpIpSharp.Tap.Cli;

/// <summary>
/// The one piece of work a command such as <c>resolve</c>, <c>browse</c> or <c>ntp</c> runs on its driver: begun once the
/// stack is ready (a DHCP lease with <c>--dhcp</c>, and whatever <paramref name="ready"/> asks), then
/// <see cref="Done"/> (which stops the driver) once it has completed or <paramref name="limit"/> has passed since the start.
/// Polled after the services added before it, so it sees their work complete in the same round.
/// </summary>
internal sealed class CommandJob<T>(DhcpClient? dhcp, TimeSpan limit, Func<NetworkStack, TimeSpan, T> begin, Func<T, bool> completed,
    Func<NetworkStack, bool>? ready = null) : IStackService where T : class
{
    private TimeSpan _giveUpAt;

    /// <summary>What <c>begin</c> returned, or null when the stack was never ready in time.</summary>
    public T? Work { get; private set; }

    /// <summary>True when the work began and completed before the limit.</summary>
    public bool Completed => Work is { } work && completed(work);

    public Action? Done { get; set; }
    public TimeSpan? NextDeadline => _giveUpAt;

    public void Start(NetworkStack stack, TimeSpan now) => _giveUpAt = now + limit;

    public void Poll(NetworkStack stack, TimeSpan now)
    {
        if (Work is null && (dhcp is null || dhcp.Status == DhcpStatus.GotIp) && (ready?.Invoke(stack) ?? true)) Work = begin(stack, now);
        if (Completed || now >= _giveUpAt) Done?.Invoke();
    }
}
