using TcpIpSharp.Transport.Udp;
using TcpIpSharp.Wire;

namespace TcpIpSharp.Tests.Simulation;

/// <summary>How <see cref="TestNtpServer"/> misbehaves.</summary>
public enum NtpServerMode
{
    Normal,
    Kiss,              // stratum 0 with KissCode
    BadOriginFirst,    // one reply with a wrong origin, then the right one
    Short,             // 20 bytes
    ClientMode,        // mode 3 instead of 4
    VersionZero,
    Unsynchronised,    // leap indicator 3
    Stratum16,
    ZeroTransmit,
    Silent,
}

/// <summary>
/// An NTP server on a stack for simulations: its clock is the stack's wall clock plus <see cref="Offset"/>; each reply
/// leaves <see cref="Processing"/> after the request arrived (T3 = T2 + Processing), so the client's delay must leave it out.
/// </summary>
internal sealed class TestNtpServer : IStackService
{
    private readonly byte[] _rx = new byte[1024];
    private readonly byte[] _tx = new byte[NtpPacket.Size];
    private readonly List<(TimeSpan Due, IpAddress To, ushort Port, NtpTimestamp Origin, NtpTimestamp Receive)> _due = [];
    private UdpEndpoint? _endpoint;
    private NetworkStack? _stack;

    public TimeSpan Offset { get; set; }
    public TimeSpan Processing { get; set; } = TimeSpan.FromMilliseconds(37);
    public NtpServerMode Mode { get; set; }
    public uint KissCode { get; set; } = NtpPacket.KissCode.Rate;
    public byte Stratum { get; set; } = 2;
    public sbyte PollExponent { get; set; } = 6;
    public int Requests { get; private set; }
    public (IpAddress Address, ushort Port) LastClient { get; private set; }
    public TimeSpan? NextDeadline => _due.Count > 0 ? _due.Min(d => d.Due) : null;

    public void Start(NetworkStack stack, TimeSpan now)
    {
        _stack = stack;
        _endpoint = stack.OpenUdp(NtpPacket.Port);
    }

    public NtpTimestamp ServerTime(TimeSpan now) => NtpTimestamp.FromDateTime(_stack!.WallClock(now) + Offset);

    public void Poll(NetworkStack stack, TimeSpan now)
    {
        int n;
        while ((n = _endpoint!.Receive(_rx, out var from, out ushort port)) >= 0)
        {
            if (NtpPacket.TryParse(_rx.AsSpan(0, n), out var request) != WireError.None || request.Mode != NtpMode.Client) continue;
            Requests++;
            LastClient = (from, port);
            if (Mode == NtpServerMode.Silent) continue;
            _due.Add((now + Processing, from, port, request.TransmitTimestamp, ServerTime(now)));
        }
        for (int i = 0; i < _due.Count; i++)
        {
            var d = _due[i];
            if (now < d.Due) continue;
            _due.RemoveAt(i--);
            Reply(d.To, d.Port, d.Origin, d.Receive, now);
        }
    }

    private void Reply(IpAddress to, ushort port, NtpTimestamp origin, NtpTimestamp receive, TimeSpan now)
    {
        var leap = Mode == NtpServerMode.Unsynchronised ? NtpLeap.Unsynchronised : NtpLeap.None;
        var mode = Mode == NtpServerMode.ClientMode ? NtpMode.Client : NtpMode.Server;
        int version = Mode == NtpServerMode.VersionZero ? 0 : 4;
        byte stratum = Mode switch { NtpServerMode.Kiss => 0, NtpServerMode.Stratum16 => 16, _ => Stratum };
        uint refId = Mode == NtpServerMode.Kiss ? KissCode : 0xC0000201;
        var transmit = Mode == NtpServerMode.ZeroTransmit ? default : ServerTime(now);
        if (Mode == NtpServerMode.BadOriginFirst)
        {
            NtpPacket.Write(_tx, leap, version, mode, stratum, PollExponent, -20, 0, 0, refId, receive, new NtpTimestamp(origin.Value ^ 0x1_0000_0000), receive, transmit);
            _endpoint!.SendTo(_tx, to, port);
        }
        NtpPacket.Write(_tx, leap, version, mode, stratum, PollExponent, -20, 0, 0, refId, receive, origin, receive, transmit);
        _endpoint!.SendTo(_tx.AsSpan(0, Mode == NtpServerMode.Short ? 20 : NtpPacket.Size), to, port);
    }

    /// <summary>Sends <paramref name="payload"/> from port 123 to <paramref name="to"/>:<paramref name="port"/> (forged replies).</summary>
    public void SendRaw(ReadOnlySpan<byte> payload, IpAddress to, ushort port) => _endpoint!.SendTo(payload, to, port);
}
