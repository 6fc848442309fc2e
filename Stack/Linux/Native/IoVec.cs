using System.Runtime.InteropServices;

namespace TcpIpSharp.Linux.Native;

/// <summary>struct iovec of readv(2).</summary>
[StructLayout(LayoutKind.Sequential)]
internal readonly struct IoVec(nint address, nuint length)
{
    public readonly nint Address = address;
    public readonly nuint Length = length;
}
