using static TcpIpSharp.Sockets.SelectModule;

namespace TcpIpSharp.Sockets;

/// <summary>
/// MicroPython's <c>select.poll()</c> object: register sockets with the events wanted, then <see cref="Poll"/> (a new
/// list each call) or <see cref="IPoll"/> (one list reused, allocation-free, with a one-shot flag). A listening socket
/// with a connection waiting is readable; a non-blocking connect that completed is writable; a reset reports
/// POLLERR | POLLHUP. All sockets of one poller must belong to one stack.
/// </summary>
public sealed class Poller
{
    private readonly List<Entry> _entries = [];
    private readonly List<(Socket Socket, int Events)> _reused = [];
    private StackDriver? _driver;

    private sealed class Entry(Socket socket, int events)
    {
        public Socket Socket { get; } = socket;
        public int Events { get; set; } = events;
        public bool Armed { get; set; } = true;
    }

    /// <summary><c>register(obj[, eventmask])</c>: watch <paramref name="socket"/> (again: replaces the mask).</summary>
    public void Register(Socket socket, int events = POLLIN | POLLOUT)
    {
        ArgumentNullException.ThrowIfNull(socket);
        if (_driver is null) _driver = socket.Driver;
        else if (!ReferenceEquals(_driver, socket.Driver)) throw new ArgumentException("all sockets of a poller must belong to one stack", nameof(socket));
        lock (_driver.Gate)
        {
            foreach (var e in _entries)
                if (ReferenceEquals(e.Socket, socket)) { e.Events = events; e.Armed = true; return; }
            _entries.Add(new Entry(socket, events));
        }
    }

    /// <summary><c>unregister(obj)</c>.</summary>
    public void Unregister(Socket socket)
    {
        if (_driver is null) return;
        lock (_driver.Gate) _entries.RemoveAll(e => ReferenceEquals(e.Socket, socket));
    }

    /// <summary><c>modify(obj, eventmask)</c>: changes the mask (and re-arms a one-shot entry). Raises ENOENT when not registered.</summary>
    public void Modify(Socket socket, int events)
    {
        if (_driver is not null)
            lock (_driver.Gate)
                foreach (var e in _entries)
                    if (ReferenceEquals(e.Socket, socket)) { e.Events = events; e.Armed = true; return; }
        throw new OSError(Errno.ENOENT);
    }

    internal int EventsOf(Socket socket)
    {
        foreach (var e in _entries) if (ReferenceEquals(e.Socket, socket)) return e.Events;
        return 0;
    }

    /// <summary><c>poll([timeout])</c>: the (socket, events) that are ready, waiting up to <paramref name="timeoutMs"/> (-1: forever, 0: not at all).</summary>
    public List<(Socket Socket, int Events)> Poll(int timeoutMs = -1)
    {
        var result = new List<(Socket, int)>();
        Collect(result, timeoutMs, oneShot: false);
        return result;
    }

    /// <summary>
    /// <c>ipoll([timeout[, flags]])</c>: as <see cref="Poll"/>, into one list reused on every call (no allocation);
    /// with <paramref name="flags"/> IPOLL_ONESHOT an entry reported is not watched again until <see cref="Modify"/>.
    /// </summary>
    public IReadOnlyList<(Socket Socket, int Events)> IPoll(int timeoutMs = -1, int flags = 0)
    {
        _reused.Clear();
        Collect(_reused, timeoutMs, (flags & IPOLL_ONESHOT) != 0);
        return _reused;
    }

    private void Collect(List<(Socket, int)> result, int timeoutMs, bool oneShot)
    {
        if (_driver is null)
        {
            if (timeoutMs > 0) Thread.Sleep(timeoutMs);
            return;
        }
        lock (_driver.Gate)
        {
            TimeSpan? deadline = timeoutMs < 0 ? null : _driver.Now + TimeSpan.FromMilliseconds(timeoutMs);
            while (true)
            {
                foreach (var e in _entries)
                {
                    if (!e.Armed) continue;
                    int ready = e.Socket.Readiness(e.Events);
                    if (ready == 0) continue;
                    result.Add((e.Socket, ready));
                    if (oneShot) e.Armed = false;
                }
                if (result.Count > 0 || timeoutMs == 0) return;
                if (!_driver.WaitOrRaise(deadline)) return;
            }
        }
    }
}
