using TcpIpSharp.Transport.Tcp;
using static TcpIpSharp.Sockets.SocketModule;

namespace TcpIpSharp.Sockets;

public sealed partial class Socket
{
    // The async variants never block a thread: under the gate they try the call; when it would block they take the
    // socket's readiness task (completed by the next Ready callback or a close) and await it. They follow
    // cancellation only (not SetTimeout), as .NET's own sockets do.

    /// <summary><c>connect</c> without blocking a thread; cancelling aborts the attempt.</summary>
    public async ValueTask ConnectAsync(SockAddr address, CancellationToken cancellationToken = default)
    {
        if (Type != SOCK_STREAM)
        {
            Connect(address);
            return;
        }
        Task wait;
        lock (_gate)
        {
            ThrowIfClosed();
            if (_connection is null)
            {
                var saved = _timeout;
                _timeout = TimeSpan.Zero;
                try { StartConnect(address); }
                finally { _timeout = saved; }
            }
            if (ConnectFinished()) return;
            wait = AsyncWaitTask();
        }
        while (true)
        {
            try
            {
                await wait.WaitAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                lock (_gate) if (_connection is { State: TcpState.SynSent or TcpState.SynReceived } c) { c.Abort(); _errorReported = true; }
                throw;
            }
            lock (_gate)
            {
                ThrowIfClosed();
                if (ConnectFinished()) return;
                wait = AsyncWaitTask();
            }
        }
    }

    /// <summary><c>accept</c> without blocking a thread.</summary>
    public async ValueTask<(Socket Socket, SockAddr Address)> AcceptAsync(CancellationToken cancellationToken = default)
    {
        while (true)
        {
            Task wait;
            lock (_gate)
            {
                if (TryAccept(out var accepted)) return accepted;
                wait = AsyncWaitTask();
            }
            await wait.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary><c>recv</c> without blocking a thread: the count, 0 at end of stream.</summary>
    public async ValueTask<int> RecvAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        while (true)
        {
            Task wait;
            lock (_gate)
            {
                int n = TryReceive(buffer.Span, false, out _);
                if (n >= 0) return n;
                wait = AsyncWaitTask();
            }
            await wait.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary><c>send</c> without blocking a thread: the count queued (at least one byte).</summary>
    public async ValueTask<int> SendAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default)
    {
        while (true)
        {
            Task wait;
            lock (_gate)
            {
                int n = TrySend(data.Span);
                if (n >= 0) return n;
                wait = AsyncWaitTask();
            }
            await wait.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary><c>sendall</c> without blocking a thread.</summary>
    public async ValueTask SendAllAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default)
    {
        while (!data.IsEmpty)
        {
            int n = await SendAsync(data, cancellationToken).ConfigureAwait(false);
            data = data[n..];
        }
    }

    /// <summary>A <see cref="Stream"/> over this TCP socket (blocking reads and writes follow the socket's timeout; async ones do not block). Disposing it closes the socket when <paramref name="ownsSocket"/>.</summary>
    public Stream GetStream(bool ownsSocket = true)
    {
        if (Type != SOCK_STREAM) throw new OSError(Errno.EOPNOTSUPP, "a stream needs a SOCK_STREAM socket");
        return new SocketStream(this, ownsSocket);
    }

    /// <summary>Ends our sending side (a FIN after the queued data), keeping the receiving side open.</summary>
    public void ShutdownSend()
    {
        lock (_gate)
        {
            ThrowIfClosed();
            _connection?.Shutdown();
            _driver.Kick();
        }
    }
}
