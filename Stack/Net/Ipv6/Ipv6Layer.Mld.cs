using TcpIpSharp.Diagnostics;
using TcpIpSharp.Wire;

namespace TcpIpSharp.Net.Ipv6;

// MLD for a host (RFC 3810, with RFC 2710 compatibility): the groups we listen to (all-nodes, the solicited-node group of
// each address, the user's), reference-counted; unsolicited reports on join (robustness times), reports of leaving,
// answers to general and group-specific queries after a random delay; MLDv1 answers and Done while a v1 querier is
// present (RFC 3810 8.2.1). Reports go to ff02::16 (v2) from the link-local address (or :: before it has one, 5.2.13),
// hop limit 1, with a Router Alert option.
internal sealed partial class Ipv6Layer
{
    private static readonly Ipv6Address AllMldRouters = new(new UInt128(0xFF02_0000_0000_0000, 0x16));
    private static readonly TimeSpan OlderVersionQuerierTimeout = TimeSpan.FromSeconds(260);   // RFC 3810 9.12, default values

    private readonly GroupEntry[] _groups;
    private TimeSpan _v1QuerierUntil = TimeSpan.MinValue;

    private struct GroupEntry
    {
        public Ipv6Address Group;
        public int Users;               // 0: free
        public int ChangeReportsLeft;   // unsolicited state-change reports still to send
        public TimeSpan ReportAt;       // when the next report (state change or query answer) is due; MaxValue: none
        public bool Leaving;            // a leave record is pending (the entry is freed once sent)
    }

    /// <summary>The groups joined (for status output and tests).</summary>
    public IReadOnlyList<Ipv6Address> Groups
    {
        get
        {
            var list = new List<Ipv6Address>();
            foreach (var g in _groups) if (g.Users > 0 && !g.Leaving) list.Add(g.Group);
            return list;
        }
    }

    private bool IsJoined(Ipv6Address group)
    {
        foreach (var g in _groups)
            if (g.Users > 0 && !g.Leaving && g.Group == group) return true;
        return false;
    }

    // RFC 3810 6: the all-nodes group is never reported.
    private static bool IsReported(Ipv6Address group) => group != AllNodes && ((byte)(group.Value >> 112) & 0xF) > 1;

    /// <summary>Joins a group (reference-counted): frames to its MAC are accepted and, on first join, a report is sent. False when the table is full.</summary>
    public bool JoinGroup(Ipv6Address group, TimeSpan now)
    {
        int free = -1;
        for (int i = 0; i < _groups.Length; i++)
        {
            ref var g = ref _groups[i];
            if (g.Users > 0 && g.Group == group)
            {
                if (g.Leaving) { g.Leaving = false; StartChangeReports(ref g, now); }
                else g.Users++;
                return true;
            }
            if (g.Users == 0 && free < 0) free = i;
        }
        if (free < 0) { Drop(_stats.Nd, DropReason.NdTableFull); return false; }
        _groups[free] = new GroupEntry { Group = group, Users = 1, ReportAt = TimeSpan.MaxValue };
        _ethernet.JoinMulticastMac(MulticastMac(group));
        if (IsReported(group)) StartChangeReports(ref _groups[free], now);
        return true;
    }

    /// <summary>Drops one use of a group; at the last, its MAC is refused and a leave report (or MLDv1 Done) is sent.</summary>
    public void LeaveGroup(Ipv6Address group, TimeSpan now)
    {
        for (int i = 0; i < _groups.Length; i++)
        {
            ref var g = ref _groups[i];
            if (g.Users == 0 || g.Group != group || g.Leaving) continue;
            if (--g.Users > 0) return;
            _ethernet.LeaveMulticastMac(MulticastMac(group));
            if (!IsReported(group)) { g = default; return; }
            g.Users = 1;   // held until the leave is reported
            g.Leaving = true;
            StartChangeReports(ref g, now);
            return;
        }
    }

    private void StartChangeReports(ref GroupEntry g, TimeSpan now)
    {
        g.ChangeReportsLeft = Math.Max(1, _options.MldRobustness);
        g.ReportAt = now;
        Schedule(now);
    }

    private void PollGroups(TimeSpan now)
    {
        for (int i = 0; i < _groups.Length; i++)
        {
            ref var g = ref _groups[i];
            if (g.Users == 0 || g.ReportAt == TimeSpan.MaxValue) continue;
            if (now < g.ReportAt) { Schedule(g.ReportAt); continue; }
            bool v1 = now < _v1QuerierUntil;
            if (g.Leaving)
            {
                if (v1) SendMldV1(Icmpv6Type.MulticastListenerDone, g.Group, AllRouters);
                else SendMldV2Report(g.Group, MldRecordType.ChangeToIncludeMode);
            }
            else if (v1) SendMldV1(Icmpv6Type.MulticastListenerReport, g.Group, g.Group);
            else SendMldV2Report(g.Group, g.ChangeReportsLeft > 0 ? MldRecordType.ChangeToExcludeMode : MldRecordType.ModeIsExclude);
            if (g.ChangeReportsLeft > 1)
            {
                g.ChangeReportsLeft--;
                g.ReportAt = now + RandomDelay(_options.MldUnsolicitedReportInterval);
                Schedule(g.ReportAt);
            }
            else
            {
                g.ChangeReportsLeft = 0;
                g.ReportAt = TimeSpan.MaxValue;
                if (g.Leaving) g = default;
            }
        }
    }

    // RFC 3810 5.1 / RFC 2710 4: a query from a link-local source with hop limit 1 (a v2 query with Router Alert);
    // each group it asks about (all, for a general query) is reported after a random delay up to the maximum response
    // delay, unless a report is due sooner already.
    private void ProcessMldQuery(Ipv6Packet ip, ReadOnlySpan<byte> message, in Ipv6HeaderChain chain, TimeSpan now)
    {
        if (!IsLinkLocal(ip.Source) || ip.HopLimit != 1 || MldQuery.TryParse(message, out var query) != WireError.None)
        {
            Drop(_stats.Icmpv6, DropReason.MldInvalid, true);
            return;
        }
        if (query.IsVersion1) _v1QuerierUntil = now + OlderVersionQuerierTimeout;
        var delay = TimeSpan.FromMilliseconds(Math.Min(query.MaximumResponseDelay, 3_600_000u));
        var specific = query.MulticastAddress;
        for (int i = 0; i < _groups.Length; i++)
        {
            ref var g = ref _groups[i];
            if (g.Users == 0 || g.Leaving || !IsReported(g.Group)) continue;
            if (!specific.IsUnspecified && g.Group != specific) continue;
            var at = now + RandomDelay(delay);
            if (at < g.ReportAt) { g.ReportAt = at; Schedule(at); }
        }
    }

    // RFC 2710 4: in MLDv1 mode another listener's report for a group cancels ours (report suppression).
    private void ProcessMldV1Report(Ipv6Packet ip, ReadOnlySpan<byte> message)
    {
        if (MldV1Message.TryParse(message, out var report) != WireError.None) { Drop(_stats.Icmpv6, DropReason.MldInvalid, true); return; }
        if (_ethernet.Now >= _v1QuerierUntil) return;
        for (int i = 0; i < _groups.Length; i++)
        {
            ref var g = ref _groups[i];
            if (g.Users > 0 && !g.Leaving && g.Group == report.MulticastAddress && g.ChangeReportsLeft == 0) g.ReportAt = TimeSpan.MaxValue;
        }
    }

    private void SendMldV2Report(Ipv6Address group, MldRecordType type)
    {
        var message = _control.AsSpan(EthernetSize + Ipv6Header.Size + Ipv6RouterAlertHeader.Size);
        int length = new MldReportHeader(1).WriteTo(message);
        length += new MldAddressRecordHeader(type, group).WriteTo(message[length..]);
        SendMld(AllMldRouters, length);
    }

    private void SendMldV1(Icmpv6Type type, Ipv6Address group, Ipv6Address destination)
    {
        var message = _control.AsSpan(EthernetSize + Ipv6Header.Size + Ipv6RouterAlertHeader.Size);
        int length = new MldV1Header(type, group).WriteTo(message);
        SendMld(destination, length);
    }

    // IPv6 header, a hop-by-hop header with Router Alert (RFC 2711, value 0: MLD), then the message; hop limit 1.
    private void SendMld(Ipv6Address destination, int messageLength)
    {
        var source = PreferredLinkLocal();
        int hopByHop = EthernetSize + Ipv6Header.Size;
        var message = _control.AsSpan(hopByHop + Ipv6RouterAlertHeader.Size, messageLength);
        Icmpv6Header.FillChecksum(message, source, destination);
        new Ipv6RouterAlertHeader(IpProtocol.Icmpv6).WriteTo(_control.AsSpan(hopByHop));
        new Ipv6Header(source, destination, IpProtocol.HopByHopOptions, (ushort)(Ipv6RouterAlertHeader.Size + messageLength), 1).WriteTo(_control.AsSpan(EthernetSize));
        new EthernetHeader(MulticastMac(destination), Mac, EtherType.Ipv6).WriteTo(_control);
        _stats.Ipv6.SentCount++;
        _stats.Icmpv6.SentCount++;
        _stats.MldReportsSentCount++;
        _ethernet.Transmit(_control.AsSpan(0, hopByHop + Ipv6RouterAlertHeader.Size + messageLength), _ethernet.Now);
    }
}
