using System.Buffers.Binary;
using TcpIpSharp.Diagnostics;
using TcpIpSharp.Storage;
using TcpIpSharp.Transport.Udp;
using TcpIpSharp.Wire;

namespace TcpIpSharp.Net.Ipv4;

// ICMP (RFC 792, RFC 1122 3.2.2): echo, errors received (handed to UDP and TCP), errors sent (rate-limited).
internal sealed partial class Ipv4Layer
{
    private const int IcmpQuoteLimit = 576 - Ipv4Header.MinimumSize - IcmpHeader.Size;   // RFC 1812 4.3.2.3

    private readonly Dictionary<ushort, EchoClient> _echoClients = new(16);
    private TokenBucket _icmpErrorBucket;

    /// <summary>Sees every valid ICMP message that arrives, as the whole IPv4 packet (raw ICMP sockets of the socket layer).</summary>
    internal RawIcmpHandler? RawIcmpReceived { get; set; }

    private void ProcessIcmp(Ipv4Packet ip, TimeSpan now)
    {
        if (IcmpPacket.TryParse(ip.Payload, out var icmp) != WireError.None) { Drop(_stats.Icmp, DropReason.IcmpMalformed, true); return; }
        if (!icmp.IsChecksumValid) { Drop(_stats.Icmp, DropReason.IcmpBadChecksum, true); return; }
        _stats.Icmp.ReceivedCount++;
        RawIcmpReceived?.Invoke(ip.Bytes, ip.Source);
        switch (icmp.Type)
        {
            case IcmpType.EchoRequest:
                // Gateway mode: an echo to an address not ours may be relayed to it (or answered here, below).
                if (ip.Destination != Address && !IsBroadcast(ip.Destination) && _internet.AnyDestinationEcho is { } relay && relay(ip.Source, ip.Destination, icmp.Bytes)) break;
                if (_options.AnswerEchoRequests) SendEchoReply(ip, icmp, now);
                break;
            case IcmpType.EchoReply:
                if (_echoClients.TryGetValue(icmp.Identifier, out var client))
                {
                    _stats.EchoRepliesReceivedCount++;
                    client.Deliver(ip.Source, ip.TimeToLive, icmp.SequenceNumber, icmp.Data, now);
                }
                else Drop(_stats.Icmp, DropReason.IcmpNoEchoClient);
                break;
            case IcmpType.DestinationUnreachable:
            case IcmpType.TimeExceeded:
            case IcmpType.ParameterProblem:
                ProcessIcmpError(icmp, now);
                break;
            default:
                Drop(_stats.Icmp, DropReason.IcmpUnhandledType);
                break;
        }
    }

    private void ProcessIcmpError(IcmpPacket icmp, TimeSpan now)
    {
        // An error about a datagram without transport bytes names no connection or socket: nothing to tell.
        if (icmp.TryGetQuote(out var quote) != WireError.None || quote.Source != Address || !quote.HasTransportHeader) { Drop(_stats.Icmp, DropReason.IcmpMalformed, true); return; }
        _stats.IcmpErrorsReceivedCount++;
        bool unreachable = icmp.Type == IcmpType.DestinationUnreachable;
        if (quote.Protocol == IpProtocol.Tcp)
        {
            // RFC 1191: fragmentation needed; without a next-hop MTU, fall to the 576-byte plateau.
            int pathMtu = unreachable && icmp.Code == 4 ? (icmp.NextHopMtu >= 68 ? icmp.NextHopMtu : 576) : 0;
            // RFC 1122 4.2.3.9: protocol and port unreachable (codes 2, 3) are hard errors; net and host unreachable, time
            // exceeded and the rest are soft.
            bool hard = unreachable && icmp.Code is 2 or 3;
            var error = hard ? NetError.ConnectionRefused : unreachable && icmp.Code == 0 ? NetError.NetworkUnreachable : NetError.HostUnreachable;
            _internet.Tcp.OnIcmpError(quote.Destination, quote.DestinationPort, quote.SourcePort, quote.TcpSequenceNumber, error, hard, pathMtu, now);
            return;
        }
        if (quote.Protocol == IpProtocol.Udp)
        {
            var error = unreachable
                ? icmp.Code switch
                {
                    3 => NetError.ConnectionRefused,          // port unreachable
                    4 => NetError.None,                       // fragmentation needed: path MTU, not an error for UDP
                    0 or 6 or 9 or 11 => NetError.NetworkUnreachable,
                    _ => NetError.HostUnreachable,
                }
                : NetError.HostUnreachable;                   // time exceeded, parameter problem
            _internet.OnUdpError(quote.Destination, quote.DestinationPort, quote.SourcePort, error);
        }
    }

    private void SendEchoReply(Ipv4Packet request, IcmpPacket icmp, TimeSpan now)
    {
        var message = icmp.Bytes;
        var payload = DatagramPayload;
        message.CopyTo(payload);
        // Only the type changes (8 -> 0): the checksum is the request's, updated for that one word (RFC 1624, as
        // lwIP's icmp_input does), not summed again. The request's was checked on arrival or by the link.
        payload[IcmpPacket.Field.Type] = (byte)IcmpType.EchoReply;
        var checksum = payload[IcmpPacket.Field.Checksum..];
        ushort code = message[IcmpPacket.Field.Code];
        BinaryPrimitives.WriteUInt16BigEndian(checksum, InternetChecksum.Update(BinaryPrimitives.ReadUInt16BigEndian(checksum),
            (ushort)((int)IcmpType.EchoRequest << 8 | code), (ushort)((int)IcmpType.EchoReply << 8 | code)));
        // From the address the request went to (in gateway mode any address: the gateway answers for all of them).
        if (SendDatagram(request.Source, IpProtocol.Icmp, message.Length, now, source: request.Destination) == NetError.None)
        {
            _stats.Icmp.SentCount++;
            _stats.EchoRepliesSentCount++;
        }
    }

    /// <summary>Gateway mode: sends an ICMP message (a relayed echo reply) from any address; the checksum is filled here.</summary>
    internal NetError SendIcmpFrom(Ipv4Address source, Ipv4Address destination, ReadOnlySpan<byte> message, TimeSpan now)
    {
        var payload = DatagramPayload;
        if (message.Length < IcmpHeader.Size || message.Length > payload.Length) return NetError.MessageTooLong;
        message.CopyTo(payload);
        payload[IcmpPacket.Field.Checksum] = 0;
        payload[IcmpPacket.Field.Checksum + 1] = 0;
        IcmpHeader.FillChecksum(payload[..message.Length]);
        var error = SendDatagram(destination, IpProtocol.Icmp, message.Length, now, source: source);
        if (error == NetError.None) _stats.Icmp.SentCount++;
        return error;
    }

    /// <summary>Gateway mode: an error about a packet of <paramref name="to"/>'s, quoting <paramref name="quoted"/>, from <paramref name="from"/> (null: our address); rate-limited as every error.</summary>
    internal void SendUnreachable(Ipv4Address to, IcmpType type, byte code, ReadOnlySpan<byte> quoted, TimeSpan now, Ipv4Address? from)
        => SendIcmpErrorQuoting(quoted, to, type, code, now, from);

    public NetError SendEchoRequest(Ipv4Address destination, ushort identifier, ushort sequence, int dataLength, TimeSpan now)
    {
        if (dataLength < 8 || dataLength > UdpEndpoint.MaximumPayload) return NetError.MessageTooLong;
        var payload = DatagramPayload;
        IcmpHeader.Echo(IcmpType.EchoRequest, identifier, sequence).WriteTo(payload);
        var data = payload.Slice(IcmpHeader.Size, dataLength);
        BinaryPrimitives.WriteInt64BigEndian(data, now.Ticks);
        for (int i = 8; i < dataLength; i++) data[i] = EchoClient.Pattern(i);
        IcmpHeader.FillChecksum(payload[..(IcmpHeader.Size + dataLength)]);
        var error = SendDatagram(destination, IpProtocol.Icmp, IcmpHeader.Size + dataLength, now);
        if (error == NetError.None) { _stats.Icmp.SentCount++; _stats.EchoRequestsSentCount++; }
        return error;
    }

    public EchoClient OpenEchoClient(NetworkStack stack, ushort identifier)
    {
        if (_echoClients.ContainsKey(identifier)) throw new InvalidOperationException($"an echo client with identifier {identifier} is open");
        var client = new EchoClient(stack, identifier, _options.EchoClientQueue);
        _echoClients.Add(identifier, client);
        stack.Internet.Ipv6?.AddEchoClient(client);   // one client takes replies of either family
        return client;
    }

    public void CloseEchoClient(EchoClient client) => _echoClients.Remove(client.Identifier);

    // RFC 1122 3.2.2: never about an ICMP error, a broadcast, a non-first fragment or a non-unicast source; rate-limited.
    private void SendIcmpError(Ipv4Packet offending, IcmpType type, byte code, TimeSpan now)
    {
        if (offending.FragmentOffset != 0 || offending.Source.IsAny || offending.Source.IsMulticast || offending.Source.IsLimitedBroadcast) return;
        if (offending.Protocol == IpProtocol.Icmp && offending.Payload.Length > 0 && (IcmpType)offending.Payload[0] is not (IcmpType.EchoRequest or IcmpType.EchoReply)) return;
        SendIcmpErrorQuoting(offending.Bytes, offending.Source, type, code, now);
    }

    private void SendIcmpErrorQuoting(ReadOnlySpan<byte> quoted, Ipv4Address to, IcmpType type, byte code, TimeSpan now, Ipv4Address? from = null)
    {
        if (!_icmpErrorBucket.TryTake(now)) { Drop(_stats.Icmp, DropReason.IcmpRateLimited); return; }
        var payload = DatagramPayload;
        new IcmpHeader(type, code).WriteTo(payload);
        int quoteLength = Math.Min(quoted.Length, IcmpQuoteLimit);
        quoted[..quoteLength].CopyTo(payload[IcmpHeader.Size..]);
        IcmpHeader.FillChecksum(payload[..(IcmpHeader.Size + quoteLength)]);
        // RFC 1812 4.3.2.5: ICMP errors carry precedence 6, internetwork control (as Linux sends them).
        if (SendDatagram(to, IpProtocol.Icmp, IcmpHeader.Size + quoteLength, now, source: from, typeOfService: 0xC0) == NetError.None)
        {
            _stats.Icmp.SentCount++;
            _stats.IcmpErrorsSentCount++;
        }
    }
}
