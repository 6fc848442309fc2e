namespace TcpIpSharp.Capture;

/// <summary>An Ethernet frame taken from a capture (converted from a Linux cooked header and without VLAN tags when
/// <see cref="CaptureFile.ReadEthernet(string, CaptureReadOptions?)"/> was asked to).</summary>
/// <param name="Number">The frame's record number in the file, from 1.</param>
/// <param name="Time">When it was captured (UTC).</param>
/// <param name="Data">The Ethernet frame.</param>
public sealed record CaptureFrame(long Number, DateTime Time, byte[] Data);
