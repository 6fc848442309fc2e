namespace TcpIpSharp.Capture;

/// <summary>A capture file that cannot be read (not a capture, an unknown link type, a damaged record). The message is
/// one line, meant to be shown to the user as it is.</summary>
public sealed class CaptureFormatException : Exception
{
    /// <summary>Creates the exception with a one-line message.</summary>
    public CaptureFormatException(string message) : base(message) { }
    /// <summary>Creates the exception with a one-line message and the error behind it.</summary>
    public CaptureFormatException(string message, Exception inner) : base(message, inner) { }
    /// <summary>Creates the exception.</summary>
    public CaptureFormatException() { }
}
