namespace TcpIpSharp.Sockets;

/// <summary>A <see cref="Stream"/> over a TCP <see cref="Socket"/>: what <see cref="System.Net.Security.SslStream"/> and HttpClient read and write through.</summary>
public sealed class SocketStream : Stream
{
    private readonly bool _ownsSocket;

    internal SocketStream(Socket socket, bool ownsSocket)
    {
        Socket = socket;
        _ownsSocket = ownsSocket;
    }

    /// <summary>The socket underneath.</summary>
    public Socket Socket { get; }
    /// <inheritdoc/>
    public override bool CanRead => !Socket.IsClosed;
    /// <inheritdoc/>
    public override bool CanWrite => !Socket.IsClosed;
    /// <inheritdoc/>
    public override bool CanSeek => false;
    /// <inheritdoc/>
    public override long Length => throw new NotSupportedException();
    /// <inheritdoc/>
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    /// <inheritdoc/>
    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));
    /// <inheritdoc/>
    public override int Read(Span<byte> buffer) => Socket.Recv(buffer);
    /// <inheritdoc/>
    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => Socket.RecvAsync(buffer, cancellationToken);
    /// <inheritdoc/>
    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();
    /// <inheritdoc/>
    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));
    /// <inheritdoc/>
    public override void Write(ReadOnlySpan<byte> buffer) => Socket.SendAll(buffer);
    /// <inheritdoc/>
    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) => Socket.SendAllAsync(buffer, cancellationToken);
    /// <inheritdoc/>
    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();
    /// <inheritdoc/>
    public override void Flush() { }
    /// <inheritdoc/>
    public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    /// <inheritdoc/>
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    /// <inheritdoc/>
    public override void SetLength(long value) => throw new NotSupportedException();

    /// <inheritdoc/>
    protected override void Dispose(bool disposing)
    {
        if (disposing && _ownsSocket) Socket.Close();
        base.Dispose(disposing);
    }
}
