using TcpIpSharp.Transport.Udp;

namespace TcpIpSharp.Tap.Services;

/// <summary>The classic UDP test services: echo (RFC 862, port 7), discard (RFC 863, port 9), chargen (RFC 864, port 19).</summary>
internal sealed class UdpServices(bool echo, bool discard, bool chargen) : IStackService
{
    private readonly byte[] _buffer = new byte[65536];
    private readonly byte[] _chargen = new byte[512];
    private int _chargenLine;

    public TimeSpan? NextDeadline => null;

    public void Start(NetworkStack stack, TimeSpan now)
    {
        if (echo) Open(stack, 7).Ready = Echo;
        if (discard) Open(stack, 9).Ready = Discard;
        if (chargen) Open(stack, 19).Ready = Chargen;
    }

    // Bound to :: (both families) when the stack speaks IPv6, else to 0.0.0.0.
    private static UdpEndpoint Open(NetworkStack stack, ushort port)
        => stack.OpenUdp(port, stack.Ipv6Enabled ? Wire.IpAddress.Any : Wire.IpAddress.AnyIpv4, out var endpoint) == NetError.None
            ? endpoint! : throw new InvalidOperationException($"cannot bind UDP port {port}");

    public void Poll(NetworkStack stack, TimeSpan now) { }

    private void Echo(UdpEndpoint e)
    {
        while (e.Receive(_buffer, out var from, out var port) is int n && n >= 0) e.SendTo(_buffer.AsSpan(0, n), from, port);
        e.TakeError();
    }

    private void Discard(UdpEndpoint e)
    {
        while (e.Receive(_buffer, out _, out _) >= 0) { }
        e.TakeError();
    }

    // RFC 864: a datagram with a random number (0..512) of characters answers each one received; we send one 72-character line.
    private void Chargen(UdpEndpoint e)
    {
        while (e.Receive(_buffer, out var from, out var port) >= 0)
        {
            for (int i = 0; i < 72; i++) _chargen[i] = (byte)(' ' + 1 + (_chargenLine + i) % 94);
            _chargen[72] = (byte)'\r';
            _chargen[73] = (byte)'\n';
            _chargenLine = (_chargenLine + 1) % 94;
            e.SendTo(_chargen.AsSpan(0, 74), from, port);
        }
        e.TakeError();
    }
}
