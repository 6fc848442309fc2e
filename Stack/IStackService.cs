namespace TcpIpSharp;

/// <summary>Something that runs on the stack thread beside the stack (a server, a ping, later a DHCP client).</summary>
public interface IStackService
{
    /// <summary>Called once on the stack thread before the first poll.</summary>
    void Start(NetworkStack stack, TimeSpan now);

    /// <summary>Called on the stack thread after every <see cref="NetworkStack.Poll(TimeSpan)"/>.</summary>
    void Poll(NetworkStack stack, TimeSpan now);

    /// <summary>When the service next needs <see cref="Poll"/> without any frame arriving, or null.</summary>
    TimeSpan? NextDeadline { get; }

    /// <summary>Called once on the stack thread when the driver stops, before its last polls (a DHCP client releases its lease here).</summary>
    void Stop(NetworkStack stack, TimeSpan now) { }
}
