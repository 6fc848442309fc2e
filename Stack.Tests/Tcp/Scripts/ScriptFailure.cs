namespace TcpIpSharp.Tests.Tcp.Scripts;

/// <summary>A script that cannot be parsed, or whose run differs from what it expects.</summary>
internal sealed class ScriptFailure : Exception
{
    public ScriptFailure() { }
    public ScriptFailure(string message) : base(message) { }
    public ScriptFailure(string message, Exception inner) : base(message, inner) { }
}
