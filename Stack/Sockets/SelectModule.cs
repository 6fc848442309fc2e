using System.Diagnostics.CodeAnalysis;

namespace TcpIpSharp.Sockets;

/// <summary>
/// MicroPython's <c>select</c> module: <c>Poll()</c> makes a <see cref="Poller"/>; <c>Select</c> is the older call;
/// the event bits have MicroPython's values (its <c>MP_STREAM_POLL_*</c>).
/// </summary>
[SuppressMessage("Naming", "CA1707:Identifiers should not contain underscores", Justification = "MicroPython's constant names")]
public static class SelectModule
{
    /// <summary>Readable: data, end of stream, or a connection to accept (1).</summary>
    public const int POLLIN = 0x0001;
    /// <summary>Writable: room to send, or a non-blocking connect completed (4).</summary>
    public const int POLLOUT = 0x0004;
    /// <summary>An error (reset, refused, timed out) (8); always reported.</summary>
    public const int POLLERR = 0x0008;
    /// <summary>Hung up: closed both ways, reset, or never connected (16); always reported.</summary>
    public const int POLLHUP = 0x0010;
    /// <summary>The socket was closed by the user (32); always reported.</summary>
    public const int POLLNVAL = 0x0020;
    /// <summary><c>ipoll</c> flag: report an entry once, then stop watching it until <see cref="Poller.Modify"/> (1).</summary>
    public const int IPOLL_ONESHOT = 1;

    /// <summary><c>select.poll()</c>.</summary>
    public static Poller Poll() => new();

    /// <summary>
    /// <c>select.select(rlist, wlist, xlist[, timeout])</c>: the sockets of each list that are readable, writable, or in
    /// error; <paramref name="timeout"/> in seconds, null to wait forever, 0 to look without waiting.
    /// </summary>
    public static (List<Socket> Read, List<Socket> Write, List<Socket> Error) Select(IEnumerable<Socket> read, IEnumerable<Socket> write, IEnumerable<Socket> error, double? timeout = null)
    {
        ArgumentNullException.ThrowIfNull(read);
        ArgumentNullException.ThrowIfNull(write);
        ArgumentNullException.ThrowIfNull(error);
        var poller = new Poller();
        foreach (var s in read) poller.Register(s, poller.EventsOf(s) | POLLIN);
        foreach (var s in write) poller.Register(s, poller.EventsOf(s) | POLLOUT);
        foreach (var s in error) poller.Register(s, poller.EventsOf(s));
        var errorSet = new HashSet<Socket>(error);
        var r = new List<Socket>();
        var w = new List<Socket>();
        var x = new List<Socket>();
        int ms = timeout is double t ? (int)Math.Ceiling(t * 1000) : -1;
        foreach (var (socket, events) in poller.Poll(ms))
        {
            if ((events & (POLLIN | POLLHUP | POLLERR)) != 0 && (poller.EventsOf(socket) & POLLIN) != 0) r.Add(socket);
            if ((events & (POLLOUT | POLLERR)) != 0 && (poller.EventsOf(socket) & POLLOUT) != 0) w.Add(socket);
            if ((events & POLLERR) != 0 && errorSet.Contains(socket)) x.Add(socket);
        }
        return (r, w, x);
    }
}
