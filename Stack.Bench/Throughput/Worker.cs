namespace TcpIpSharp.Bench.Throughput;

/// <summary>A named background thread that runs until <see cref="Stop"/>, keeping its first exception for the main thread, and a byte counter it adds to.</summary>
internal sealed class Worker
{
    private readonly Thread _thread;
    private volatile bool _stopping;
    private volatile Exception? _failure;
    private long _bytes;

    /// <summary>Starts <paramref name="body"/> on a new thread.</summary>
    public Worker(string name, Action<Worker> body)
    {
        _thread = new Thread(() =>
        {
            try { body(this); }
#pragma warning disable CA1031 // handed to the main thread, which rethrows it
            catch (Exception e) when (!_stopping) { _failure = e; }
            catch (Exception) { }   // failures while stopping (a socket closed under it) are expected
#pragma warning restore CA1031
        })
        { IsBackground = true, Name = name };
        _thread.Start();
    }

    /// <summary>True once <see cref="Stop"/> was called: the body should return.</summary>
    public bool Stopping => _stopping;

    /// <summary>What the body threw, or null.</summary>
    public Exception? Failure => _failure;

    /// <summary>Bytes counted so far.</summary>
    public long Bytes => Interlocked.Read(ref _bytes);

    /// <summary>Counts <paramref name="n"/> more bytes (called by the body).</summary>
    public void Add(long n) => Interlocked.Add(ref _bytes, n);

    /// <summary>Asks the body to return and waits for it (up to <paramref name="limit"/>); false when it did not.</summary>
    public bool Stop(TimeSpan limit)
    {
        _stopping = true;
        return _thread.Join(limit);
    }
}
