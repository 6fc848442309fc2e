using TcpIpSharp.Links;

namespace TcpIpSharp.Linux;

/// <summary>
/// A Linux TUN device (<c>/dev/net/tun</c> with <c>IFF_TUN | IFF_NO_PI</c>): each <c>read</c> is one IPv4 or IPv6 packet
/// the kernel routes to the device, each <c>write</c> one packet the kernel receives from it. There is no Ethernet
/// header and no neighbour protocol: <see cref="LinkCapabilities.CarriesEthernet"/> is false, and the stack's interface
/// runs as an IP link (no ARP, no Neighbour Discovery resolution).
/// </summary>
/// <remarks>
/// The device code is <see cref="TapLink"/>'s (the same descriptor handling, wake-ups and counters); only the flags and
/// the place of the IP header differ. With offloads the device takes <c>IFF_VNET_HDR</c> and
/// <c>TUNSETOFFLOAD</c> with checksum, TSO4 and TSO6, as a TAP does: the kernel hands up coalesced TCP packets of up to
/// 64 KB and cuts 64 KB TCP packets the stack sends (<see cref="TrySendTcpSegments"/>), <c>csum_start</c> counting
/// from the IP header.
/// </remarks>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class TunLink : ILink, IExtraWait
{
    private readonly TapLink _device;

    private TunLink(TapLink device) => _device = device;

    /// <summary>
    /// Attaches to the TUN device <paramref name="name"/>, or creates it (owned by this process, gone when disposed) when
    /// it does not exist; <paramref name="netnsPath"/> and <paramref name="offloads"/> as for <see cref="TapLink.Open(string, string?, bool)"/>.
    /// </summary>
    /// <exception cref="IOException">The device cannot be opened; the message names the reason (root, busy, not a TUN).</exception>
    public static TunLink Open(string name, string? netnsPath = null, bool offloads = false)
        => new(TapLink.OpenDevice(name, netnsPath, offloads, tun: true));

    /// <summary>The device's name (as the kernel reports it after attaching).</summary>
    public string Name => _device.Name;
    /// <summary>True when the device was opened with the virtio-net header and the kernel took the offloads.</summary>
    public bool OffloadsEnabled => _device.OffloadsEnabled;
    /// <summary>Why offloads were asked for and not enabled, or null.</summary>
    public string? OffloadsRefused => _device.OffloadsRefused;
    /// <summary>Packets read from the device.</summary>
    public long FramesReceived => _device.FramesReceived;
    /// <summary>Bytes of the packets read from the device.</summary>
    public long BytesReceived => _device.BytesReceived;
    /// <summary>Packets written to the device.</summary>
    public long FramesSent => _device.FramesSent;
    /// <summary>Bytes of the packets written to the device.</summary>
    public long BytesSent => _device.BytesSent;
    /// <summary>Writes the kernel refused or cut short.</summary>
    public long SendErrors => _device.SendErrors;
    /// <summary>Writes that found the device's queue full (EAGAIN).</summary>
    public long SendWouldBlock => _device.SendWouldBlock;
    /// <summary>Received packets whose transport checksum the kernel did not vouch for and that failed the check here, dropped.</summary>
    public long ChecksumErrors => _device.ChecksumErrors;
    /// <summary>Received packets larger than the MTU (coalesced by the kernel; offloads only).</summary>
    public long LargeFramesReceived => _device.LargeFramesReceived;
    /// <summary>Packets sent for the kernel to cut into segments.</summary>
    public long LargeFramesSent => _device.LargeFramesSent;

    /// <inheritdoc/>
    public LinkCapabilities Capabilities => _device.Capabilities;
    /// <inheritdoc/>
    public int TryReceive(Span<byte> buffer) => _device.TryReceive(buffer);
    /// <inheritdoc/>
    public int Lend(FrameBatch batch) => _device.Lend(batch);
    /// <inheritdoc/>
    public void Return(FrameBatch batch) => _device.Return(batch);
    /// <inheritdoc/>
    public bool TrySend(ReadOnlySpan<byte> frame) => _device.TrySend(frame);
    /// <inheritdoc/>
    public bool TrySendTcpSegments(ReadOnlySpan<byte> frame, int segmentSize) => _device.TrySendTcpSegments(frame, segmentSize);
    /// <inheritdoc/>
    public bool WaitReadable(TimeSpan timeout) => _device.WaitReadable(timeout);
    /// <inheritdoc/>
    public void Interrupt() => _device.Interrupt();
    int IExtraWait.ExtraWaitDescriptor { get => ((IExtraWait)_device).ExtraWaitDescriptor; set => ((IExtraWait)_device).ExtraWaitDescriptor = value; }
    /// <summary>Closes the device (a TUN this link created disappears).</summary>
    public void Dispose() => _device.Dispose();
}
