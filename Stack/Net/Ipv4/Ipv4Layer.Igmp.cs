using TcpIpSharp.Diagnostics;
using TcpIpSharp.Wire;

namespace TcpIpSharp.Net.Ipv4;

// IGMP for a host (RFC 3376, with RFC 2236 and RFC 1112 compatibility, RFC 3376 7.2.1): the IPv4 groups we belong to,
// reference-counted across their users (sockets, services); on the first join a state-change report (v3 TO_EX{}, or a
// v2/v1 report) sent robustness times at random gaps, on the last leave a v3 TO_IN{} robustness times, or one v2 Leave
// Group; answers to general and group-specific queries after a random delay up to the query's maximum response time
// (v3: one report for every group on an interface timer, RFC 3376 5.2; v2/v1: one per group, suppressed when another
// host reports the group first, RFC 2236 3). A v1 or v2 query puts the host in that version's mode for the Older
// Version Querier Present timeout. Every message goes with TTL 1 and the Router Alert option (RFC 2113), from our
// address (0.0.0.0 before we have one, RFC 3376 4.2.13). 224.0.0.1 is never reported. The IPv6 twin is
// Ipv6Layer.Mld.cs.
internal sealed partial class Ipv4Layer
{
    private static readonly Ipv4Address AllSystems = new(0xE000_0001);
    private static readonly Ipv4Address AllRouters = new(0xE000_0002);
    private static readonly Ipv4Address AllIgmpv3Routers = new(0xE000_0016);
    // RFC 3376 8.12 with the default values: Robustness (2) x Query Interval (125 s) + Query Response Interval (10 s).
    private static readonly TimeSpan OlderVersionQuerierTimeout = TimeSpan.FromSeconds(260);
    private const int RouterAlertHeaderSize = Ipv4Header.MinimumSize + 4;

    private IgmpGroup[] _igmpGroups = [];
    private byte[] _igmpTx = [];
    private IRandomSource _random = null!;
    private TimeSpan _v1QuerierUntil = TimeSpan.MinValue, _v2QuerierUntil = TimeSpan.MinValue;
    private TimeSpan _generalReportAt = TimeSpan.MaxValue;   // the v3 interface timer (RFC 3376 5.2)
    // No report is due before this (it may be earlier than the earliest timer, never later): a poll with nothing due
    // costs one comparison instead of a pass over the table.
    private TimeSpan _igmpDue = TimeSpan.MaxValue;

    private struct IgmpGroup
    {
        public Ipv4Address Group;
        public int Users;               // 0: free
        public int ChangeReportsLeft;   // unsolicited state-change reports still to send
        public TimeSpan ReportAt;       // when the next report (state change or query answer) is due; MaxValue: none
        public bool Leaving;            // a leave is pending (the entry is freed once it is sent)
    }

    private void InitialiseIgmp(IRandomSource random)
    {
        _random = random;
        _igmpGroups = new IgmpGroup[Math.Max(1, _options.IgmpMaxGroups)];
        _igmpTx = new byte[EthernetSize + RouterAlertHeaderSize + IgmpV3ReportHeader.Size + IgmpV3GroupRecordHeader.Size * _igmpGroups.Length];
    }

    /// <summary>The IGMP host compatibility mode (RFC 3376 7.2.1): 1, 2 or 3.</summary>
    public int IgmpVersion(TimeSpan now) => now < _v1QuerierUntil ? 1 : now < _v2QuerierUntil ? 2 : 3;

    /// <summary>The groups joined, 224.0.0.1 included (for status output and tests).</summary>
    public IReadOnlyList<Ipv4Address> Groups
    {
        get
        {
            var list = new List<Ipv4Address>();
            foreach (var g in _igmpGroups) if (g.Users > 0 && !g.Leaving) list.Add(g.Group);
            return list;
        }
    }

    /// <summary>How many users hold <paramref name="group"/> (0 when not joined).</summary>
    public int GroupUsers(Ipv4Address group)
    {
        foreach (var g in _igmpGroups)
            if (g.Users > 0 && !g.Leaving && g.Group == group) return g.Users;
        return 0;
    }

    private static bool IsReported(Ipv4Address group) => group != AllSystems;

    /// <summary>
    /// Joins a group (reference-counted): frames and datagrams to it are accepted and, on the first join, it is
    /// reported. False when <paramref name="group"/> is not multicast or <see cref="NetworkStackOptions.IgmpMaxGroups"/>
    /// groups are joined already.
    /// </summary>
    public bool JoinMulticast(Ipv4Address group, TimeSpan now)
    {
        if (!group.IsMulticast) return false;
        int free = -1;
        for (int i = 0; i < _igmpGroups.Length; i++)
        {
            ref var g = ref _igmpGroups[i];
            if (g.Users > 0 && g.Group == group)
            {
                if (g.Leaving)
                {
                    // Joined again while its leave was still being reported: report the join instead.
                    g.Leaving = false;
                    _multicastGroups.Add(group.Value);
                    _ethernet.JoinMulticastMac(MacAddress.ForIpv4Multicast(group));
                    StartChangeReports(ref g, now);
                }
                else g.Users++;
                return true;
            }
            if (g.Users == 0 && free < 0) free = i;
        }
        if (free < 0) { Drop(_stats.Igmp, DropReason.IgmpTooManyGroups); return false; }
        _igmpGroups[free] = new IgmpGroup { Group = group, Users = 1, ReportAt = TimeSpan.MaxValue };
        _multicastGroups.Add(group.Value);
        _ethernet.JoinMulticastMac(MacAddress.ForIpv4Multicast(group));
        if (IsReported(group)) StartChangeReports(ref _igmpGroups[free], now);
        return true;
    }

    /// <summary>Drops one use of a group; at the last, datagrams to it are refused and the leave is reported. False when not joined.</summary>
    public bool LeaveMulticast(Ipv4Address group, TimeSpan now)
    {
        for (int i = 0; i < _igmpGroups.Length; i++)
        {
            ref var g = ref _igmpGroups[i];
            if (g.Users == 0 || g.Group != group || g.Leaving) continue;
            if (--g.Users > 0) return true;
            _multicastGroups.Remove(group.Value);
            _ethernet.LeaveMulticastMac(MacAddress.ForIpv4Multicast(group));
            if (!IsReported(group) || IgmpVersion(now) == 1) { g = default; return true; }   // RFC 2236 3: a v1 router hears no leave
            g.Users = 1;   // held until the leave is reported
            g.Leaving = true;
            StartChangeReports(ref g, now);
            return true;
        }
        return false;
    }

    private void StartChangeReports(ref IgmpGroup g, TimeSpan now)
    {
        g.ChangeReportsLeft = Math.Max(1, _options.IgmpRobustness);
        g.ReportAt = now;
        ArmIgmp(now);
    }

    private void ArmIgmp(TimeSpan at)
    {
        if (at < _igmpDue) _igmpDue = at;
    }

    private TimeSpan RandomDelay(TimeSpan maximum) => TimeSpan.FromTicks((long)(maximum.Ticks * (_random.NextUInt32() / 4294967296.0)));

    /// <summary>Sends the reports that are due.</summary>
    public void PollIgmp(TimeSpan now)
    {
        if (now >= _igmpDue) PollIgmpDue(now);   // small enough to inline into every poll; the work is out of line
    }

    private void PollIgmpDue(TimeSpan now)
    {
        int version = IgmpVersion(now);
        if (now >= _generalReportAt)
        {
            _generalReportAt = TimeSpan.MaxValue;
            if (version == 3) SendCurrentStateReport();
        }
        for (int i = 0; i < _igmpGroups.Length; i++)
        {
            ref var g = ref _igmpGroups[i];
            if (g.Users == 0 || g.ReportAt == TimeSpan.MaxValue || now < g.ReportAt) continue;
            if (g.Leaving)
            {
                if (version == 3) SendV3Report(MldRecordType.ChangeToIncludeMode, g.Group, leave: true);
                else if (version == 2) SendV1V2(IgmpType.LeaveGroup, g.Group, AllRouters);
            }
            else if (version == 3) SendV3Report(g.ChangeReportsLeft > 0 ? MldRecordType.ChangeToExcludeMode : MldRecordType.ModeIsExclude, g.Group, leave: false);
            else SendV1V2(version == 1 ? IgmpType.V1MembershipReport : IgmpType.V2MembershipReport, g.Group, g.Group);
            // RFC 2236 3 sends one Leave Group; RFC 3376 5.1 repeats state changes robustness times.
            if (g.ChangeReportsLeft > 1 && !(g.Leaving && version != 3))
            {
                g.ChangeReportsLeft--;
                g.ReportAt = now + RandomDelay(version == 3 ? _options.IgmpUnsolicitedReportInterval : _options.IgmpV2UnsolicitedReportInterval);
            }
            else
            {
                g.ChangeReportsLeft = 0;
                g.ReportAt = TimeSpan.MaxValue;
                if (g.Leaving) g = default;
            }
        }
        var next = _generalReportAt;
        foreach (var g in _igmpGroups)
            if (g.Users > 0 && g.ReportAt < next) next = g.ReportAt;
        _igmpDue = next;
    }

    private TimeSpan? IgmpDeadline() => _igmpDue == TimeSpan.MaxValue ? null : _igmpDue;

    // ---------------------------------------------------------------- receive

    private void ProcessIgmp(Ipv4Packet ip, TimeSpan now)
    {
        if (IgmpMessage.TryParse(ip.Payload, out var message) != WireError.None) { Drop(_stats.Igmp, DropReason.IgmpMalformed, true); return; }
        if (!message.IsChecksumValid) { Drop(_stats.Igmp, DropReason.IgmpBadChecksum, true); return; }
        switch (message.Type)
        {
            case IgmpType.MembershipQuery:
                _stats.Igmp.ReceivedCount++;
                ProcessIgmpQuery(message, now);
                break;
            case IgmpType.V1MembershipReport or IgmpType.V2MembershipReport:
                _stats.Igmp.ReceivedCount++;
                ProcessIgmpReport(message, now);
                break;
            default:
                // v3 reports and leaves are for routers (RFC 3376 4.2.14); other types are unknown to a host.
                Drop(_stats.Igmp, DropReason.IgmpIgnored);
                break;
        }
    }

    // RFC 3376 5.2 / RFC 2236 3: a query from any source, 0.0.0.0 included (some queriers, the Linux bridge's among
    // them, send from it); each group asked about is answered after a random delay up to the maximum response time.
    private void ProcessIgmpQuery(IgmpMessage query, TimeSpan now)
    {
        var group = query.Group;
        if (!group.IsAny && !group.IsMulticast) { Drop(_stats.Igmp, DropReason.IgmpMalformed, true); return; }
        _stats.IgmpQueriesReceivedCount++;
        int queryVersion = query.QueryVersion;
        if (queryVersion == 1) _v1QuerierUntil = now + OlderVersionQuerierTimeout;
        else if (queryVersion == 2) _v2QuerierUntil = now + OlderVersionQuerierTimeout;
        if (queryVersion < 3) _stats.IgmpOlderVersionQueriesCount++;
        var maximum = TimeSpan.FromMilliseconds(query.MaximumResponseTenths * 100L);
        if (IgmpVersion(now) == 3 && group.IsAny)
        {
            var at = now + RandomDelay(maximum);
            if (at < _generalReportAt) _generalReportAt = at;
            ArmIgmp(at);
            return;
        }
        for (int i = 0; i < _igmpGroups.Length; i++)
        {
            ref var g = ref _igmpGroups[i];
            if (g.Users == 0 || g.Leaving || !IsReported(g.Group)) continue;
            if (!group.IsAny && g.Group != group) continue;
            var at = now + RandomDelay(maximum);
            if (at < g.ReportAt) g.ReportAt = at;
            ArmIgmp(at);
        }
    }

    // RFC 2236 3: in v1/v2 mode another member's report for a group cancels our pending answer (report suppression).
    private void ProcessIgmpReport(IgmpMessage report, TimeSpan now)
    {
        if (IgmpVersion(now) == 3) return;
        for (int i = 0; i < _igmpGroups.Length; i++)
        {
            ref var g = ref _igmpGroups[i];
            if (g.Users > 0 && !g.Leaving && g.Group == report.Group && g.ChangeReportsLeft == 0) g.ReportAt = TimeSpan.MaxValue;
        }
    }

    // ---------------------------------------------------------------- send

    private Span<byte> IgmpMessageBuffer => _igmpTx.AsSpan(EthernetSize + RouterAlertHeaderSize);

    private void SendV1V2(IgmpType type, Ipv4Address group, Ipv4Address destination)
    {
        int length = new IgmpHeader(type, 0, group).WriteTo(IgmpMessageBuffer);
        if (type == IgmpType.LeaveGroup) _stats.IgmpLeavesSentCount++;
        else _stats.IgmpReportsSentCount++;
        SendIgmp(destination, length);
    }

    private void SendV3Report(MldRecordType type, Ipv4Address group, bool leave)
    {
        var message = IgmpMessageBuffer;
        int length = new IgmpV3ReportHeader(1).WriteTo(message);
        length += new IgmpV3GroupRecordHeader(type, group).WriteTo(message[length..]);
        IgmpHeader.FillChecksum(message[..length]);
        if (leave) _stats.IgmpLeavesSentCount++;
        else _stats.IgmpReportsSentCount++;
        SendIgmp(AllIgmpv3Routers, length);
    }

    // RFC 3376 5.2: the answer to a general query, a MODE_IS_EXCLUDE{} record for every reported group, in as few
    // reports as the MTU allows.
    private void SendCurrentStateReport()
    {
        var message = IgmpMessageBuffer;
        int perReport = Math.Max(1, (Mtu - RouterAlertHeaderSize - IgmpV3ReportHeader.Size) / IgmpV3GroupRecordHeader.Size);
        int records = 0, length = IgmpV3ReportHeader.Size;
        foreach (var g in _igmpGroups)
        {
            if (g.Users == 0 || g.Leaving || !IsReported(g.Group)) continue;
            length += new IgmpV3GroupRecordHeader(MldRecordType.ModeIsExclude, g.Group).WriteTo(message[length..]);
            if (++records == perReport)
            {
                FinishCurrentStateReport(message, records, length);
                records = 0;
                length = IgmpV3ReportHeader.Size;
            }
        }
        if (records > 0) FinishCurrentStateReport(message, records, length);
    }

    private void FinishCurrentStateReport(Span<byte> message, int records, int length)
    {
        new IgmpV3ReportHeader((ushort)records).WriteTo(message);
        IgmpHeader.FillChecksum(message[..length]);
        _stats.IgmpReportsSentCount++;
        SendIgmp(AllIgmpv3Routers, length);
    }

    // An IPv4 header of 24 bytes, TTL 1, with the Router Alert option (RFC 2113: 0x94 0x04 0x0000), then the message.
    private void SendIgmp(Ipv4Address destination, int messageLength)
    {
        var header = _igmpTx.AsSpan(EthernetSize, RouterAlertHeaderSize);
        int total = RouterAlertHeaderSize + messageLength;
        new Ipv4Header(Address, destination, IpProtocol.Igmp, (ushort)total, _identification++, 1, TypeOfService: 0xC0).WriteTo(header);
        header[Ipv4Packet.Field.VersionIhl] = 0x40 | (RouterAlertHeaderSize / 4);
        header[Ipv4Packet.Field.Options] = 0x94;
        header[Ipv4Packet.Field.Options + 1] = 0x04;
        header[Ipv4Packet.Field.Options + 2] = 0;
        header[Ipv4Packet.Field.Options + 3] = 0;
        header[Ipv4Packet.Field.Checksum] = 0;
        header[Ipv4Packet.Field.Checksum + 1] = 0;
        System.Buffers.Binary.BinaryPrimitives.WriteUInt16BigEndian(header[Ipv4Packet.Field.Checksum..], InternetChecksum.Compute(header));
        new EthernetHeader(MacAddress.ForIpv4Multicast(destination), Mac, EtherType.Ipv4).WriteTo(_igmpTx);
        _stats.Ipv4.SentCount++;
        _stats.Igmp.SentCount++;
        _ethernet.Transmit(_igmpTx.AsSpan(0, EthernetSize + total), _ethernet.Now);
    }
}
