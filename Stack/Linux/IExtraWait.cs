namespace TcpIpSharp.Linux;

/// <summary>
/// A link whose <see cref="Links.ILink.WaitReadable"/> also wakes when one more descriptor becomes readable: the
/// gateway's epoll descriptor (its host sockets), so the stack's thread sleeps in one <c>poll()</c> for the guest's
/// frames and the host's bytes alike, and no other thread is woken between them.
/// </summary>
internal interface IExtraWait
{
    /// <summary>The descriptor (-1: none). Set on the stack's thread, before it waits.</summary>
    int ExtraWaitDescriptor { get; set; }
}
