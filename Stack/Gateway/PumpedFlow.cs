namespace TcpIpSharp.Gateway;

/// <summary>Something the gateway pumps on the stack's thread when its connection says it is ready (a relayed TCP flow, a DNS-over-TCP session).</summary>
internal abstract class PumpedFlow
{
    /// <summary>True while in the stack thread's list of flows to pump (so it is there once).</summary>
    internal bool Active;

    /// <summary>Moves what can move; on the stack's thread, under the gate.</summary>
    public abstract void Pump(TimeSpan now);
}
