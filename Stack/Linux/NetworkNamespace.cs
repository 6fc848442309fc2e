using System.Runtime.ExceptionServices;
using System.Runtime.InteropServices;
using TcpIpSharp.Linux.Native;

namespace TcpIpSharp.Linux;

/// <summary>
/// Runs code inside a named network namespace (as made by <c>ip netns add NAME</c>) without moving the process.
/// </summary>
/// <remarks>
/// A network namespace belongs to a thread, not to the process: <c>setns(CLONE_NEWNET)</c> on a dedicated thread
/// moves only that thread, which then ends, so no pooled thread is left in the namespace. Whatever the action opens
/// there (a TAP's file descriptor, a packet socket) stays in that namespace and is usable from any thread afterwards.
/// </remarks>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public static class NetworkNamespace
{
    /// <summary>The directory where <c>ip netns</c> keeps its namespace handles.</summary>
    public const string Directory = "/var/run/netns";

    /// <summary>The path of the handle of the namespace <paramref name="name"/> made by <c>ip netns add</c>.</summary>
    public static string PathOf(string name) => Path.Combine(Directory, name);

    /// <summary>Runs <paramref name="action"/> on a new thread that has entered the namespace at <paramref name="namespacePath"/>, and returns its result (or rethrows its exception).</summary>
    /// <param name="namespacePath">A namespace handle: <c>/var/run/netns/NAME</c> or <c>/proc/PID/ns/net</c>.</param>
    /// <param name="action">What to do inside; it should not block for long.</param>
    public static T Run<T>(string namespacePath, Func<T> action)
    {
        ArgumentException.ThrowIfNullOrEmpty(namespacePath);
        ArgumentNullException.ThrowIfNull(action);
        T? result = default;
        ExceptionDispatchInfo? failure = null;
        var thread = new Thread(() =>
        {
            try
            {
                Enter(namespacePath);
                result = action();
            }
#pragma warning disable CA1031 // rethrown on the calling thread below
            catch (Exception e)
#pragma warning restore CA1031
            {
                failure = ExceptionDispatchInfo.Capture(e);
            }
        })
        {
            IsBackground = true,
            Name = "netns " + namespacePath,
        };
        thread.Start();
        thread.Join();
        failure?.Throw();
        return result!;
    }

    private static void Enter(string namespacePath)
    {
        int fd = Libc.Open(namespacePath, Libc.O_RDONLY | Libc.O_CLOEXEC);
        if (fd < 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            throw Libc.Error($"open {namespacePath}", errno, errno == Libc.ENOENT ? "no such network namespace" : null);
        }
        try
        {
            if (Libc.SetNs(fd, Libc.CLONE_NEWNET) != 0)
            {
                int errno = Marshal.GetLastPInvokeError();
                throw Libc.Error($"setns {namespacePath}", errno, errno == Libc.EPERM ? "entering a network namespace needs CAP_SYS_ADMIN (run as root)" : null);
            }
        }
        finally
        {
            Libc.Close(fd);
        }
    }
}
