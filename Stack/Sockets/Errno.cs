namespace TcpIpSharp.Sockets;

/// <summary>
/// The errno values MicroPython raises in <c>OSError</c> on the Pico W (its internal errno table, the Linux numbers),
/// their symbolic names, and the mapping from the core's <see cref="NetError"/>.
/// </summary>
public static class Errno
{
#pragma warning disable CS1591 // the names are the documentation: POSIX errno names with MicroPython's values
    public const int EPERM = 1;
    public const int ENOENT = 2;
    public const int EIO = 5;
    public const int EBADF = 9;
    public const int EAGAIN = 11;
    public const int EWOULDBLOCK = EAGAIN;
    public const int ENOMEM = 12;
    public const int EACCES = 13;
    public const int ENODEV = 19;
    public const int EINVAL = 22;
    public const int EPIPE = 32;
    public const int EMSGSIZE = 90;
    public const int EOPNOTSUPP = 95;
    public const int EAFNOSUPPORT = 97;
    public const int EADDRINUSE = 98;
    public const int EADDRNOTAVAIL = 99;
    public const int ENETUNREACH = 101;
    public const int ECONNABORTED = 103;
    public const int ECONNRESET = 104;
    public const int ENOBUFS = 105;
    public const int EISCONN = 106;
    public const int ENOTCONN = 107;
    public const int ETIMEDOUT = 110;
    public const int ECONNREFUSED = 111;
    public const int EHOSTUNREACH = 113;
    public const int EALREADY = 114;
    public const int EINPROGRESS = 115;
#pragma warning restore CS1591

    /// <summary>The symbolic name of an errno value (<c>"EAGAIN"</c>), a getaddrinfo error's (<c>"EAI_NONAME"</c>), or its number as text.</summary>
    public static string NameOf(int errno) => errno switch
    {
        EPERM => "EPERM", ENOENT => "ENOENT", EIO => "EIO", EBADF => "EBADF", EAGAIN => "EAGAIN", ENOMEM => "ENOMEM",
        EACCES => "EACCES", ENODEV => "ENODEV", EINVAL => "EINVAL", EPIPE => "EPIPE", EMSGSIZE => "EMSGSIZE", EOPNOTSUPP => "EOPNOTSUPP",
        EAFNOSUPPORT => "EAFNOSUPPORT", EADDRINUSE => "EADDRINUSE", EADDRNOTAVAIL => "EADDRNOTAVAIL", ENETUNREACH => "ENETUNREACH", ECONNABORTED => "ECONNABORTED",
        ECONNRESET => "ECONNRESET", ENOBUFS => "ENOBUFS", EISCONN => "EISCONN", ENOTCONN => "ENOTCONN", ETIMEDOUT => "ETIMEDOUT",
        ECONNREFUSED => "ECONNREFUSED", EHOSTUNREACH => "EHOSTUNREACH", EALREADY => "EALREADY", EINPROGRESS => "EINPROGRESS",
        -2 => "EAI_NONAME", -3 => "EAI_AGAIN", -4 => "EAI_FAIL", -5 => "EAI_NODATA",
        _ => errno.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };

    /// <summary>The errno for a core error (<see cref="NetError.None"/> gives 0).</summary>
    public static int FromNetError(NetError error) => error switch
    {
        NetError.None => 0,
        NetError.AddressInUse or NetError.NoFreePort => EADDRINUSE,
        NetError.HostUnreachable or NetError.NetworkUnreachable => EHOSTUNREACH,
        NetError.ConnectionRefused => ECONNREFUSED,
        NetError.MessageTooLong => EMSGSIZE,
        NetError.WouldBlock => EAGAIN,
        NetError.Closed => EBADF,
        NetError.BroadcastNotAllowed => EACCES,
        NetError.TimedOut => ETIMEDOUT,
        NetError.ConnectionReset => ECONNRESET,
        NetError.NoAddress => ENETUNREACH,
        _ => EIO,
    };
}
