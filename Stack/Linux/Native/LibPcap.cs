using System.Runtime.InteropServices;

namespace TcpIpSharp.Linux.Native;

/// <summary>The libpcap calls SharpPcap does not expose (it has no pcap_setdirection), on the handle it opened.</summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
internal static partial class LibPcap
{
    private const string Library = "libpcap";

    /// <summary>pcap_direction_t: capture only frames the interface received, not the ones sent through it.</summary>
    public const int DirectionIn = 1;

    /// <summary>Offsets in struct pcap_pkthdr: struct timeval (two longs), then caplen and len (bpf_u_int32).</summary>
    public static readonly int CaptureLengthOffset = 2 * IntPtr.Size;
    public static readonly int PacketLengthOffset = 2 * IntPtr.Size + 4;

    static LibPcap()
    {
        // Debian's libpcap0.8 ships only the soname libpcap.so.0.8 (no libpcap.so without the -dev package);
        // other distributions call it libpcap.so.1. SharpPcap resolves its own imports the same way.
        NativeLibrary.SetDllImportResolver(typeof(LibPcap).Assembly, static (name, assembly, path) =>
        {
            if (name != Library) return IntPtr.Zero;
            foreach (var candidate in (ReadOnlySpan<string>)["libpcap.so.0.8", "libpcap.so.1", "libpcap.so"])
                if (NativeLibrary.TryLoad(candidate, assembly, path, out var handle)) return handle;
            return IntPtr.Zero;
        });
    }

    [LibraryImport(Library, EntryPoint = "pcap_setdirection")]
    public static partial int SetDirection(nint pcap, int direction);

    [LibraryImport(Library, EntryPoint = "pcap_get_selectable_fd")]
    public static partial int GetSelectableFd(nint pcap);
}
