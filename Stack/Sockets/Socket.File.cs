using static TcpIpSharp.Sockets.SocketModule;

namespace TcpIpSharp.Sockets;

public sealed partial class Socket
{
    /// <summary><c>makefile(mode)</c>: as on the Pico, the socket itself (it has read, readinto, readline and write).</summary>
    public Socket MakeFile(string mode = "rb")
    {
        _ = mode;
        return this;
    }

    /// <summary>
    /// <c>read([size])</c>: up to <paramref name="size"/> bytes, fewer only at end of stream; without a size, everything
    /// up to end of stream. Non-blocking with nothing ready: null (MicroPython's None). When a timeout expires after
    /// some bytes arrived, those bytes are returned (the Pico loses them: its bug #3155, not copied); with none,
    /// ETIMEDOUT.
    /// </summary>
    public byte[]? Read(int size = -1)
    {
        using var collected = new MemoryStream();
        var chunk = new byte[size is > 0 and < 16384 ? size : 16384];
        while (size < 0 || collected.Length < size)
        {
            int want = size < 0 ? chunk.Length : (int)Math.Min(chunk.Length, size - collected.Length);
            int n;
            try
            {
                n = Recv(chunk.AsSpan(0, want));
            }
            catch (OSError e) when (e.Errno is Errno.EAGAIN or Errno.ETIMEDOUT)
            {
                if (collected.Length > 0) break;
                if (e.Errno == Errno.EAGAIN) return null;
                throw;
            }
            if (n == 0) break;
            collected.Write(chunk, 0, n);
        }
        return collected.ToArray();
    }

    /// <summary><c>readinto(buf[, nbytes])</c>: fills up to <paramref name="nbytes"/> (all of the buffer by default); the count, or null when non-blocking and nothing is ready.</summary>
    public int? ReadInto(Span<byte> buffer, int nbytes = -1)
    {
        if (nbytes >= 0 && nbytes < buffer.Length) buffer = buffer[..nbytes];
        int total = 0;
        while (total < buffer.Length)
        {
            int n;
            try
            {
                n = Recv(buffer[total..]);
            }
            catch (OSError e) when (e.Errno is Errno.EAGAIN or Errno.ETIMEDOUT)
            {
                if (total > 0) break;
                if (e.Errno == Errno.EAGAIN) return null;
                throw;
            }
            if (n == 0) break;
            total += n;
        }
        return total;
    }

    /// <summary><c>readline()</c>: bytes up to and including the next newline, or what is left at end of stream (empty then).</summary>
    public byte[] ReadLine()
    {
        using var line = new MemoryStream();
        Span<byte> peek = stackalloc byte[512];
        while (true)
        {
            int n;
            try
            {
                n = Recv(peek, MSG_PEEK);
            }
            catch (OSError e) when (e.Errno is Errno.EAGAIN or Errno.ETIMEDOUT && line.Length > 0)
            {
                break;
            }
            if (n == 0) break;
            int newline = peek[..n].IndexOf((byte)'\n');
            int take = newline >= 0 ? newline + 1 : n;
            int got = Recv(peek[..take]);
            line.Write(peek[..got]);
            if (newline >= 0 && got == take) break;
        }
        return line.ToArray();
    }

    /// <summary><c>write(buf)</c>: sends all of it (blocking); non-blocking, what fits, or null when nothing does.</summary>
    public int? Write(ReadOnlySpan<byte> buffer)
    {
        if (NonBlockingLocked())
        {
            try
            {
                return Send(buffer);
            }
            catch (OSError e) when (e.Errno == Errno.EAGAIN)
            {
                return null;
            }
        }
        SendAll(buffer);
        return buffer.Length;
    }

    private bool NonBlockingLocked()
    {
        lock (_gate) return NonBlocking;
    }
}
