using System.Diagnostics.CodeAnalysis;

namespace TcpIpSharp.Sockets;

/// <summary>
/// MicroPython's <c>OSError</c>: what every socket call raises, with the errno in <see cref="Errno"/> and the
/// symbolic name in the message (<c>[Errno 11] EAGAIN</c>), as the Pico prints it.
/// </summary>
[SuppressMessage("Naming", "CA1710:Identifiers should have correct suffix", Justification = "MicroPython's name, so Pico code ports line by line")]
public sealed class OSError : IOException
{
    /// <summary>An error with <paramref name="errno"/> and, optionally, a detail appended to the message.</summary>
    public OSError(int errno, string? detail = null)
        : base(detail is null ? $"[Errno {errno}] {Sockets.Errno.NameOf(errno)}" : $"[Errno {errno}] {Sockets.Errno.NameOf(errno)}: {detail}")
    {
        Errno = errno;
        HResult = errno;
    }

    /// <summary>An error with no errno (only for serializers and frameworks; the socket layer never raises it).</summary>
    public OSError() : this(Sockets.Errno.EIO) { }

    /// <summary>An error carrying a message only.</summary>
    public OSError(string message) : base(message) => Errno = Sockets.Errno.EIO;

    /// <summary>An error carrying a message and its cause.</summary>
    public OSError(string message, Exception innerException) : base(message, innerException) => Errno = Sockets.Errno.EIO;

    /// <summary>The errno value (MicroPython's <c>e.errno</c>, also <c>e.args[0]</c>).</summary>
    public int Errno { get; }

    /// <summary>The symbolic name of <see cref="Errno"/>.</summary>
    public string Name => Sockets.Errno.NameOf(Errno);
}
