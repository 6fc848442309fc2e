namespace TcpIpSharp.Gateway;

/// <summary>Decides what happens to a new flow; called on the stack's thread (never block in it).</summary>
public delegate GatewayDecision GatewayRule(in GatewayFlow flow);
