namespace TcpIpSharp.Sockets;

/// <summary>The socket layer's blocking wait on the driver, with the driver's end turned into the Pico's errors.</summary>
internal static class DriverWaits
{
    /// <summary>
    /// Under the gate: <see cref="StackDriver.Wait"/>, raising EIO when the driver's thread failed and EBADF when the
    /// stack was stopped (a caller blocked at that moment is woken and raises on its next wait).
    /// </summary>
    public static bool WaitOrRaise(this StackDriver driver, TimeSpan? deadline)
    {
        if (driver.Failure is { } failure) throw new OSError(Errno.EIO, "the stack thread failed: " + failure.Message);
        if (driver.Mode != DriverMode.Manual && driver.IsStopped) throw new OSError(Errno.EBADF, "the stack was stopped");
        return driver.Wait(deadline);
    }
}
