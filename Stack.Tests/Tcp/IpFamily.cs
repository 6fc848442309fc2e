namespace TcpIpSharp.Tests.Tcp;

/// <summary>The address family a TCP test runs over: the same test code runs over both (issue 14, Tests).</summary>
public enum IpFamily
{
    V4,
    V6,
}
