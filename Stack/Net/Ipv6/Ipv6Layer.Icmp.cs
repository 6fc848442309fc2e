using System.Buffers.Binary;
using TcpIpSharp.Diagnostics;
using TcpIpSharp.Wire;

namespace TcpIpSharp.Net.Ipv6;

// ICMPv6 (RFC 4443): echo, errors received (handed to UDP and TCP, Packet Too Big to the destination cache), errors
// sent (rate-limited, never about an error, and to multicast only where 2.4 e allows), and the dispatch of Neighbour
// Discovery and MLD messages.
internal sealed partial class Ipv6Layer
{
    private readonly Dictionary<ushort, EchoClient> _echoClients = new(4);

    /// <summary>Registers an echo client for ICMPv6 echo replies with its identifier (the IPv4 layer keeps its own).</summary>
    public void AddEchoClient(EchoClient client) => _echoClients[client.Identifier] = client;
    public void RemoveEchoClient(EchoClient client) => _echoClients.Remove(client.Identifier);

    /// <summary>Sees every valid ICMPv6 message that arrives (raw ICMPv6 sockets of the socket layer).</summary>
    internal RawIcmpHandler? RawIcmpReceived { get; set; }

    private void ProcessIcmpv6(Ipv6Packet ip, ReadOnlySpan<byte> bytes, in Ipv6HeaderChain chain, MacAddress sourceMac, TimeSpan now)
    {
        if (Icmpv6Packet.TryParse(bytes, out var icmp) != WireError.None) { Drop(_stats.Icmpv6, DropReason.Icmpv6Malformed, true); return; }
        if (!icmp.IsChecksumValid(ip.Source, ip.Destination)) { Drop(_stats.Icmpv6, DropReason.Icmpv6BadChecksum, true); return; }
        _stats.Icmpv6.ReceivedCount++;
        RawIcmpReceived?.Invoke(bytes, ip.Source);
        switch (icmp.Type)
        {
            case Icmpv6Type.EchoRequest:
                // RFC 4443 4.1: answered to unicast and, as Linux does, to the all-nodes group (ping ff02::1).
                if (ip.Destination.IsMulticast && ip.Destination != AllNodes) { Drop(_stats.Icmpv6, DropReason.Ipv6NotForUs); return; }
                if (ip.Source.IsUnspecified) { Drop(_stats.Icmpv6, DropReason.Ipv6BadSource, true); return; }
                // Gateway mode: an echo to an address not ours may be relayed to it (or answered here, below).
                if (!ip.Destination.IsMulticast && FindAddress(ip.Destination) < 0 && _internet.AnyDestinationEcho is { } relay && relay(ip.Source, ip.Destination, icmp.Bytes)) break;
                if (_answerEchoRequests) SendEchoReply(ip, icmp, now);
                break;
            case Icmpv6Type.EchoReply:
                if (_echoClients.TryGetValue(icmp.Identifier, out var client))
                {
                    _stats.EchoRepliesReceivedCount++;
                    client.Deliver(ip.Source, ip.HopLimit, icmp.SequenceNumber, icmp.Data, now);
                }
                else Drop(_stats.Icmpv6, DropReason.IcmpNoEchoClient);
                break;
            case Icmpv6Type.DestinationUnreachable:
            case Icmpv6Type.PacketTooBig:
            case Icmpv6Type.TimeExceeded:
            case Icmpv6Type.ParameterProblem:
                ProcessIcmpv6Error(icmp, now);
                break;
            case Icmpv6Type.RouterAdvertisement:
                ProcessRouterAdvertisement(ip, bytes, sourceMac, now);
                break;
            case Icmpv6Type.NeighborSolicitation:
                ProcessNeighbourSolicitation(ip, bytes, sourceMac, now);
                break;
            case Icmpv6Type.NeighborAdvertisement:
                ProcessNeighbourAdvertisement(ip, bytes, sourceMac, now);
                break;
            case Icmpv6Type.Redirect:
                ProcessRedirect(ip, bytes, now);
                break;
            case Icmpv6Type.MulticastListenerQuery:
                ProcessMldQuery(ip, bytes, chain, now);
                break;
            case Icmpv6Type.MulticastListenerReport:
                ProcessMldV1Report(ip, bytes);
                break;
            case Icmpv6Type.RouterSolicitation:            // for routers
            case Icmpv6Type.MulticastListenerDone:         // for routers
            case Icmpv6Type.MulticastListenerReportV2:     // for routers (RFC 3810 hosts do not suppress on v2 reports)
                break;
            default:
                Drop(_stats.Icmpv6, DropReason.Icmpv6UnhandledType);
                break;
        }
    }

    private void ProcessIcmpv6Error(Icmpv6Packet icmp, TimeSpan now)
    {
        if (icmp.TryGetQuote(out var quote) != WireError.None || FindAddress(quote.Source) < 0) { Drop(_stats.Icmpv6, DropReason.Icmpv6Malformed, true); return; }
        _stats.IcmpErrorsReceivedCount++;
        int pathMtu = 0;
        if (icmp.Type == Icmpv6Type.PacketTooBig)
        {
            _stats.PacketTooBigReceivedCount++;
            pathMtu = LearnPathMtu(quote.Destination, icmp.Mtu, now);
        }
        if (!quote.HasPorts) return;
        // RFC 4443 3.1 / RFC 1122 4.2.3.9's spirit: port unreachable (code 4) and an unrecognised next header are hard;
        // no route, address unreachable and time exceeded are soft.
        bool unreachable = icmp.Type == Icmpv6Type.DestinationUnreachable;
        bool hard = (unreachable && icmp.Code is 1 or 4) || (icmp.Type == Icmpv6Type.ParameterProblem && icmp.Code == 1);
        var error = pathMtu > 0 ? NetError.None
            : hard ? NetError.ConnectionRefused
            : unreachable && icmp.Code == 0 ? NetError.NetworkUnreachable : NetError.HostUnreachable;
        if (quote.Protocol == IpProtocol.Tcp)
            _internet.Tcp.OnIcmpError(quote.Destination, quote.DestinationPort, quote.SourcePort, quote.TcpSequenceNumber, error, hard, pathMtu, now);
        else if (quote.Protocol == IpProtocol.Udp)
            _internet.OnUdpError(quote.Destination, quote.DestinationPort, quote.SourcePort, error);
    }

    private void SendEchoReply(Ipv6Packet request, Icmpv6Packet icmp, TimeSpan now)
    {
        var message = icmp.Bytes;
        var payload = PacketPayload;
        message.CopyTo(payload);
        payload[Icmpv6Packet.Field.Type] = (byte)Icmpv6Type.EchoReply;
        // From the address the request went to; for a multicast request, the source our choice gives.
        var source = request.Destination.IsMulticast ? SelectSource(request.Source) : request.Destination;
        if (source == request.Destination)
        {
            // The pseudo-header holds the same two addresses (swapped: the same sum) and length, and only the type word
            // changes (128 -> 129): the request's checksum updated for it (RFC 1624), not the message summed again.
            var checksum = payload[Icmpv6Packet.Field.Checksum..];
            ushort code = message[Icmpv6Packet.Field.Code];
            BinaryPrimitives.WriteUInt16BigEndian(checksum, InternetChecksum.Update(BinaryPrimitives.ReadUInt16BigEndian(checksum),
                (ushort)((int)Icmpv6Type.EchoRequest << 8 | code), (ushort)((int)Icmpv6Type.EchoReply << 8 | code)));
        }
        else Icmpv6Header.FillChecksum(payload[..message.Length], source, request.Source);
        if (SendPacket(source, request.Source, IpProtocol.Icmpv6, message.Length, now) == NetError.None)
        {
            _stats.Icmpv6.SentCount++;
            _stats.EchoRepliesSentCount++;
        }
    }

    /// <summary>Gateway mode: sends an ICMPv6 message (a relayed echo reply) from any address; the checksum is filled here.</summary>
    internal NetError SendIcmpFrom(Ipv6Address source, Ipv6Address destination, ReadOnlySpan<byte> message, TimeSpan now)
    {
        var payload = PacketPayload;
        if (message.Length < Icmpv6Header.Size || message.Length > payload.Length) return NetError.MessageTooLong;
        message.CopyTo(payload);
        Icmpv6Header.FillChecksum(payload[..message.Length], source, destination);
        var error = SendPacket(source, destination, IpProtocol.Icmpv6, message.Length, now);
        if (error == NetError.None) _stats.Icmpv6.SentCount++;
        return error;
    }

    /// <summary>Gateway mode: a destination unreachable about a packet of <paramref name="to"/>'s to <paramref name="originalDestination"/>, quoting <paramref name="quoted"/> (rate-limited).</summary>
    internal void SendUnreachable(Ipv6Address to, Ipv6Address originalDestination, Icmpv6Header header, ReadOnlySpan<byte> quoted, TimeSpan now, bool fromDestination)
        => SendIcmpErrorQuoting(quoted, to, originalDestination, header, now, fromDestination);

    /// <summary>Sends an ICMPv6 echo request with the data pattern and send time an <see cref="EchoClient"/> checks.</summary>
    public NetError SendEchoRequest(Ipv6Address destination, ushort identifier, ushort sequence, int dataLength, TimeSpan now)
    {
        if (dataLength < 8 || dataLength > MaximumPayload - Icmpv6Header.Size) return NetError.MessageTooLong;
        var payload = PacketPayload;
        Icmpv6Header.Echo(Icmpv6Type.EchoRequest, identifier, sequence).WriteTo(payload);
        var data = payload.Slice(Icmpv6Header.Size, dataLength);
        System.Buffers.Binary.BinaryPrimitives.WriteInt64BigEndian(data, now.Ticks);
        for (int i = 8; i < dataLength; i++) data[i] = EchoClient.Pattern(i);
        var source = SelectSource(destination);
        if (source.IsUnspecified) return NetError.NoAddress;
        Icmpv6Header.FillChecksum(payload[..(Icmpv6Header.Size + dataLength)], source, destination);
        var error = SendPacket(source, destination, IpProtocol.Icmpv6, Icmpv6Header.Size + dataLength, now);
        if (error == NetError.None) { _stats.Icmpv6.SentCount++; _stats.EchoRequestsSentCount++; }
        return error;
    }

    // RFC 4443 2.4: never about an ICMPv6 error or a redirect, never from or to an unspecified or multicast source; to a
    // multicast destination only Packet Too Big and a parameter problem about an option (code 2) are sent; rate-limited.
    private void SendIcmpError(Ipv6Packet offending, Icmpv6Header header, TimeSpan now, bool multicastAllowed = false)
    {
        var source = offending.Source;
        if (source.IsUnspecified || source.IsMulticast) return;
        if (offending.Destination.IsMulticast && !(multicastAllowed && (header.Type == Icmpv6Type.PacketTooBig
            || (header.Type == Icmpv6Type.ParameterProblem && header.Code == (byte)Icmpv6ParameterProblemCode.UnrecognizedOption)))) return;
        if (offending.NextHeader == IpProtocol.Icmpv6 && offending.Payload.Length > 0
            && (offending.Payload[0] < 128 || offending.Payload[0] == (byte)Icmpv6Type.Redirect)) return;
        SendIcmpErrorQuoting(offending.Bytes, source, offending.Destination, header, now);
    }

    // From the offending packet's destination when it is ours (or, in gateway mode, when the destination itself answers).
    private void SendIcmpErrorQuoting(ReadOnlySpan<byte> quoted, Ipv6Address to, Ipv6Address offendingDestination, Icmpv6Header header, TimeSpan now, bool fromDestination = false)
    {
        if (!_icmpErrorBucket.TryTake(now)) { Drop(_stats.Icmpv6, DropReason.IcmpRateLimited); return; }
        var source = !offendingDestination.IsMulticast && (fromDestination || FindAddress(offendingDestination) >= 0) ? offendingDestination : SelectSource(to);
        if (source.IsUnspecified) return;
        var payload = PacketPayload;
        header.WriteTo(payload);
        // RFC 4443 2.4 c: as much of the invoking packet as fits in the minimum MTU.
        int quoteLength = Math.Min(quoted.Length, Icmpv6Header.MaximumErrorSize - Icmpv6Header.Size);
        quoted[..quoteLength].CopyTo(payload[Icmpv6Header.Size..]);
        Icmpv6Header.FillChecksum(payload[..(Icmpv6Header.Size + quoteLength)], source, to);
        if (SendPacket(source, to, IpProtocol.Icmpv6, Icmpv6Header.Size + quoteLength, now) == NetError.None)
        {
            _stats.Icmpv6.SentCount++;
            _stats.IcmpErrorsSentCount++;
        }
    }
}
