namespace TcpIpSharp.Tests.Tcp.Scripts;

/// <summary>A parsed script: its <c>--name=value</c> settings and its events in order.</summary>
internal sealed record PacketdrillScript(string Name, IReadOnlyDictionary<string, string> Settings, IReadOnlyList<ScriptEvent> Events);
