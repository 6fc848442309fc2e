namespace TcpIpSharp;

/// <summary>
/// Something that runs beside the stack on its <see cref="StackDriver"/> (a server, a ping, the DHCP client, the
/// resolver): every call is made under the driver's gate, on the driver's thread (or, for <see cref="Start"/> of a
/// service added while the driver runs, on the adding thread).
/// </summary>
public interface IStackService
{
    /// <summary>Called once before the service's first poll.</summary>
    void Start(NetworkStack stack, TimeSpan now);

    /// <summary>Called on the stack thread after every <see cref="NetworkStack.Poll(TimeSpan)"/>.</summary>
    void Poll(NetworkStack stack, TimeSpan now);

    /// <summary>When the service next needs <see cref="Poll"/> without any frame arriving, or null.</summary>
    TimeSpan? NextDeadline { get; }

    /// <summary>Called once on the stack thread when the driver stops, before its last polls (a DHCP client releases its lease here).</summary>
    void Stop(NetworkStack stack, TimeSpan now) { }
}
