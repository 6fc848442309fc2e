using System.Runtime.InteropServices;
using SharpPcap;
using SharpPcap.LibPcap;
using TcpIpSharp.Links;
using TcpIpSharp.Linux.Native;
using TcpIpSharp.Wire;

namespace TcpIpSharp.Linux;

/// <summary>
/// A link over any Ethernet interface (a veth end, a bridge port) through libpcap and SharpPcap's
/// <see cref="LibPcapLiveDevice"/>: received frames are captured in promiscuous mode, sent frames are injected with
/// <c>pcap_sendpacket</c>. Give the stack an interface the kernel does not use itself (no address on it), or the
/// kernel answers too.
/// </summary>
/// <remarks>
/// <para>No thread and no ring of our own: the handle is non-blocking and in immediate mode, so libpcap's kernel
/// ring (TPACKET, preallocated by the kernel) is the bounded queue. <see cref="TryReceive"/> takes one frame with
/// <c>pcap_next_ex</c> (SharpPcap's <see cref="PcapDevice.GetNextPacketPointers"/>, which allocates nothing) and copies
/// it once, into the caller's buffer; <see cref="Lend"/> lends it where libpcap captured it instead (one frame per
/// lend: libpcap keeps a frame only until its next read); <see cref="WaitReadable"/> polls libpcap's selectable descriptor and an
/// <c>eventfd</c> that <see cref="Interrupt"/> writes, as <see cref="TapLink"/> does.</para>
/// <para>libpcap also sees the frames sent through the interface by the kernel and by other sockets (a packet socket
/// never gets back its own transmissions, so this link's own frames are not the issue, but a second stack or a
/// capture tool injecting on the same interface would be). SharpPcap 6.3 does not expose <c>pcap_setdirection</c>,
/// so the link calls it on SharpPcap's handle itself (<c>PCAP_D_IN</c>); if libpcap refuses, frames whose source MAC
/// is the stack's own (<c>ownMac</c> of <see cref="Open(string, string?, MacAddress?)"/>) are dropped instead and
/// <see cref="FiltersByDirection"/> is false.</para>
/// <para>Threading as for <see cref="TapLink"/>: one owning thread; <see cref="Interrupt"/> from any.</para>
/// </remarks>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class PcapLiveLink : ILink
{
    private const int EthernetHeaderSize = 14;
    private const int SourceMacOffset = 6;

    private readonly LibPcapLiveDevice _device;
    private readonly int _selectable;
    private readonly int _wake;
    private readonly MacAddress? _dropSource;
    private readonly Lock _wakeLock = new();
    private readonly NativeFrameMemory _lentFrame = new();
    private readonly int _lendMaximum;
    private LendLedger _lent;
    private bool _disposed;

    private long _framesReceived, _bytesReceived, _framesSent, _bytesSent;
    private long _receiveErrors, _sendErrors, _oversizeDropped, _truncatedDropped, _ownFramesDropped;

    private PcapLiveLink(LibPcapLiveDevice device, int selectable, int wake, int mtu, bool byDirection, MacAddress? dropSource)
    {
        _device = device;
        _selectable = selectable;
        _wake = wake;
        _dropSource = byDirection ? null : dropSource;
        FiltersByDirection = byDirection;
        Capabilities = new LinkCapabilities(mtu, mtu + EthernetHeaderSize, ChecksumOffload: false);
        // As long a frame as the stack's own buffer took when it copied (room for a VLAN tag at MTU 1500).
        _lendMaximum = Math.Max(Capabilities.MaxFrameSize, 1518);
    }

    /// <summary>The interface's name.</summary>
    public string Name => _device.Name;

    /// <inheritdoc/>
    public LinkCapabilities Capabilities { get; }

    /// <summary>True when libpcap captures only received frames (<c>pcap_setdirection(PCAP_D_IN)</c>); false when the link drops frames with its own source MAC instead.</summary>
    public bool FiltersByDirection { get; }

    /// <summary>Frames handed to the stack.</summary>
    public long FramesReceived => Volatile.Read(ref _framesReceived);
    /// <summary>Bytes of the frames handed to the stack.</summary>
    public long BytesReceived => Volatile.Read(ref _bytesReceived);
    /// <summary>Frames injected.</summary>
    public long FramesSent => Volatile.Read(ref _framesSent);
    /// <summary>Bytes of the frames injected.</summary>
    public long BytesSent => Volatile.Read(ref _bytesSent);
    /// <summary>Failed reads and waits.</summary>
    public long ReceiveErrors => Volatile.Read(ref _receiveErrors);
    /// <summary>Frames libpcap failed to inject (see <see cref="LastError"/>).</summary>
    public long SendErrors => Volatile.Read(ref _sendErrors);
    /// <summary>Received frames longer than the buffer given to <see cref="TryReceive"/>, dropped.</summary>
    public long OversizeDropped => Volatile.Read(ref _oversizeDropped);
    /// <summary>Received frames cut by the snapshot length (larger than 64 KB), dropped.</summary>
    public long TruncatedDropped => Volatile.Read(ref _truncatedDropped);
    /// <summary>Frames dropped because their source MAC is the stack's own (only when <see cref="FiltersByDirection"/> is false).</summary>
    public long OwnFramesDropped => Volatile.Read(ref _ownFramesDropped);
    /// <summary>The last error reported by libpcap or poll, or null.</summary>
    public string? LastError { get; private set; }

    /// <summary>Frames the kernel dropped because the capture ring was full (pcap_stats; allocates, for reports only).</summary>
    public long KernelDropped => _device.Statistics.DroppedPackets;

    /// <summary>Opens <paramref name="interfaceName"/> for live capture and injection.</summary>
    /// <param name="interfaceName">The interface, e.g. a veth end.</param>
    /// <param name="netnsPath">A network namespace the interface is in (<c>/var/run/netns/NAME</c>, see
    /// <see cref="NetworkNamespace"/>); null for this thread's namespace. libpcap opens interfaces by name in the
    /// calling thread's namespace, so the open happens on a thread that has entered it.</param>
    /// <param name="ownMac">The stack's MAC address: frames from it are dropped should libpcap refuse to filter by direction.</param>
    /// <exception cref="PlatformNotSupportedException">libpcap is not installed (Debian: libpcap0.8).</exception>
    /// <exception cref="IOException">The interface does not exist or cannot be opened.</exception>
    public static PcapLiveLink Open(string interfaceName, string? netnsPath = null, MacAddress? ownMac = null)
        => Open(interfaceName, netnsPath, ownMac, filterByDirection: true);

    /// <summary>As <see cref="Open(string, string?, MacAddress?)"/>; tests pass <paramref name="filterByDirection"/> false to exercise the source-MAC fallback.</summary>
    internal static PcapLiveLink Open(string interfaceName, string? netnsPath, MacAddress? ownMac, bool filterByDirection)
    {
        ArgumentException.ThrowIfNullOrEmpty(interfaceName);
        EnsureLibpcap();
        return netnsPath is null
            ? OpenHere(interfaceName, ownMac, filterByDirection)
            : NetworkNamespace.Run(netnsPath, () => OpenHere(interfaceName, ownMac, filterByDirection));
    }

    /// <summary>Throws a clear error when libpcap is missing (SharpPcap then reports version 0.0, and its first real call fails to load 'wpcap').</summary>
    public static void EnsureLibpcap()
    {
        Version version;
        try
        {
            version = Pcap.LibpcapVersion;
        }
        catch (Exception e) when (e is DllNotFoundException or TypeInitializationException or EntryPointNotFoundException)
        {
            version = new Version(0, 0);
        }
        if (version.Major == 0)
            throw new PlatformNotSupportedException("libpcap was not found: install the Debian package libpcap0.8 (apt-get install libpcap0.8)");
    }

    private static PcapLiveLink OpenHere(string interfaceName, MacAddress? ownMac, bool filterByDirection)
    {
        // A new list, not LibPcapLiveDeviceList.Instance: that one is cached from whichever namespace asked first.
        var devices = LibPcapLiveDeviceList.New();
        var device = devices.FirstOrDefault(d => d.Name == interfaceName)
            ?? throw new IOException($"pcap: no interface '{interfaceName}' in this network namespace (it sees: {string.Join(", ", devices.Select(d => d.Name))})");

        int wake = -1;
        try
        {
            device.Open(new DeviceConfiguration
            {
                Mode = DeviceModes.Promiscuous,
                Immediate = true,  // hand over each frame at once, no batching in the kernel ring
                ReadTimeout = 1,
                Snaplen = 65536,
            });
            if (device.LinkType != PacketDotNet.LinkLayers.Ethernet)
                throw new IOException($"pcap: {interfaceName} has link type {device.LinkType}, not Ethernet");
            nint pcap = device.Handle.DangerousGetHandle();
            bool byDirection = filterByDirection && LibPcap.SetDirection(pcap, LibPcap.DirectionIn) == 0;
            MacAddress? dropSource = ownMac;
            if (!byDirection && dropSource is null)
            {
                var physical = device.MacAddress?.GetAddressBytes();
                if (physical is not { Length: MacAddress.Size })
                    throw new IOException($"pcap: cannot filter {interfaceName} by direction ({device.LastError}) and no own MAC address was given to drop our own frames by");
                dropSource = MacAddress.Read(physical);
            }
            device.NonBlockingMode = true;  // SharpPcap's name: true calls pcap_setnonblock(1)
            int selectable = LibPcap.GetSelectableFd(pcap);
            if (selectable < 0) throw new IOException($"pcap: {interfaceName} has no selectable descriptor");
            int mtu = InterfaceQuery.GetMtu(interfaceName);
            wake = Libc.EventFd(0, Libc.EFD_NONBLOCK | Libc.EFD_CLOEXEC);
            if (wake < 0) throw Libc.Error("eventfd", Marshal.GetLastPInvokeError());
            return new PcapLiveLink(device, selectable, wake, mtu, byDirection, dropSource);
        }
        catch (PcapException e)
        {
            device.Dispose();
            if (wake >= 0) Libc.Close(wake);
            throw new IOException($"pcap: cannot open {interfaceName}: {e.Message}" + (Environment.IsPrivilegedProcess ? "" : " (live capture needs root or CAP_NET_RAW)"), e);
        }
        catch
        {
            device.Dispose();
            if (wake >= 0) Libc.Close(wake);
            throw;
        }
    }

    /// <inheritdoc/>
    public int TryReceive(Span<byte> buffer)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_lent.HasBatchOut) throw new InvalidOperationException("a lent frame is out: libpcap's next read would overwrite it; return the batch first");
        if (!TryNext(buffer.Length, out nint data, out int captured)) return 0;
        Libc.MemoryCopy(ref MemoryMarshal.GetReference(buffer), data, (nuint)captured);
        return captured;
    }

    /// <inheritdoc/>
    /// <remarks>Lends one frame per call, in libpcap's capture buffer: libpcap keeps a frame only until its next read, so
    /// the batch must be returned before the next lend (which the one-batch-out rule enforces).</remarks>
    public int Lend(FrameBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        ObjectDisposedException.ThrowIf(_disposed, this);
        _lent.BeginLend(batch);
        if (TryNext(_lendMaximum, out nint data, out int captured))
        {
            _lentFrame.Reset(data, captured);
            batch.Add(this, _lentFrame.Memory, 0);
        }
        _lent.EndLend(batch);
        return batch.Count;
    }

    /// <inheritdoc/>
    public void Return(FrameBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        _lent.Return(this, batch);
        batch.Clear();
        _lentFrame.Reset(0, 0);
    }

    // The next captured frame for the stack, in libpcap's buffer (valid until libpcap's next read): false when none is
    // ready. Frames cut by the snapshot length, longer than `maximum`, or (the fallback) sent by the stack itself are
    // dropped and counted.
    private unsafe bool TryNext(int maximum, out nint data, out int captured)
    {
        for (int attempt = 0; attempt < 64; attempt++)
        {
            nint header = 0;
            data = 0;
            int status = _device.GetNextPacketPointers(ref header, ref data);
            if (status == 0) break;  // non-blocking: nothing captured
            if (status < 0)
            {
                _receiveErrors++;
                LastError = _device.LastError;
                break;
            }
            captured = Marshal.ReadInt32(header, LibPcap.CaptureLengthOffset);
            int length = Marshal.ReadInt32(header, LibPcap.PacketLengthOffset);
            if (captured < length)
            {
                _truncatedDropped++;
                continue;
            }
            if (captured > maximum)
            {
                _oversizeDropped++;
                continue;
            }
            if (captured == 0) continue;
            if (_dropSource is MacAddress own && captured >= EthernetHeaderSize
                && MacAddress.Read(new ReadOnlySpan<byte>((byte*)data + SourceMacOffset, MacAddress.Size)) == own)
            {
                _ownFramesDropped++;
                continue;
            }
            _framesReceived++;
            _bytesReceived += captured;
            return true;
        }
        data = 0;
        captured = 0;
        return false;
    }

    /// <inheritdoc/>
    public bool TrySend(ReadOnlySpan<byte> frame)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (frame.IsEmpty) return false;
        try
        {
            _device.SendPacket(frame);
        }
        catch (PcapException e)
        {
            _sendErrors++;
            LastError = e.Message;
            return false;
        }
        _framesSent++;
        _bytesSent += frame.Length;
        return true;
    }

    /// <inheritdoc/>
    public bool WaitReadable(TimeSpan timeout)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        Span<PollFd> fds = [new PollFd(_selectable, Libc.POLLIN), new PollFd(_wake, Libc.POLLIN)];
        if (!PollWait.Wait(fds, timeout, out int errno))
        {
            _receiveErrors++;
            LastError = "poll: " + Marshal.GetPInvokeErrorMessage(errno);
            return false;
        }
        if ((fds[1].ReturnedEvents & Libc.POLLIN) != 0) PollWait.DrainEventFd(_wake);
        return (fds[0].ReturnedEvents & (Libc.POLLIN | Libc.POLLERR | Libc.POLLHUP)) != 0;
    }

    /// <inheritdoc/>
    public void Interrupt()
    {
        lock (_wakeLock)
        {
            if (_disposed) return;
            PollWait.SignalEventFd(_wake);
        }
    }

    /// <summary>Closes the capture and the wake-up descriptor.</summary>
    public void Dispose()
    {
        lock (_wakeLock)
        {
            if (_disposed) return;
            _disposed = true;
            Libc.Close(_wake);
        }
        _device.Dispose();
    }
}
