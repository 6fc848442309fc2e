namespace TcpIpSharp.Sockets;

/// <summary>How a <see cref="StackRunner"/> drives its stacks.</summary>
internal enum RunnerMode
{
    /// <summary>A stack thread on the system clock (production).</summary>
    RealTime,
    /// <summary>A stack thread on a <see cref="ManualClock"/> that jumps to the next deadline while a caller is blocked and nothing else happens (tests).</summary>
    VirtualTime,
    /// <summary>No thread: a blocking call drives the stacks itself while it waits, as MicroPython on the Pico does (one-thread benchmarks).</summary>
    Manual,
}
