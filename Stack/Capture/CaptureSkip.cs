namespace TcpIpSharp.Capture;

/// <summary>A record of a capture that was not turned into a frame, and why.</summary>
/// <param name="Number">The record number in the file, from 1.</param>
/// <param name="Reason">Why, in a few words ("truncated by the snap length: 96 of 1514 bytes").</param>
public readonly record struct CaptureSkip(long Number, string Reason);
