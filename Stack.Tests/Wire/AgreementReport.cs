using System.Text;
using TcpIpSharp.Tests.Support;

namespace TcpIpSharp.Tests.Wire;

/// <summary>Counts, per capture, the fields where decode and an oracle disagree, and the differences that are by design.</summary>
internal sealed class AgreementReport(string capture, string oracle)
{
    private readonly List<string> _mismatches = [];
    private readonly Dictionary<string, int> _excused = new(StringComparer.Ordinal);
    private int _frames;
    private int _declined;
    private int _compared;

    public int Mismatches => _mismatches.Count;

    /// <summary>Compares one frame's fields; <paramref name="theirs"/> is null when the oracle could not parse the frame.</summary>
    public void Compare(int frame, FrameFields ours, FrameFields? theirs, IEnumerable<string> keys)
    {
        _frames++;
        if (theirs is null) { _declined++; return; }
        foreach (string key in keys)
        {
            string? o = ours.Get(key), t = theirs.Get(key);
            if (o == t) { if (o != null) _compared++; continue; }
            string? excuse = oracle == "PacketDotNet" && t is null && ours.Get("ipv6.src") is not null
                ? "the PacketDotNet oracle reads no layer inside IPv6"
                : oracle == "PacketDotNet" && ours.Get("eth.vlans") is not null
                    ? "PacketDotNet reads one VLAN tag: after a second (QinQ) tag it sees an unknown EtherType"
                    : Excuse(key, ours, o, t);
            if (excuse != null) { _excused[excuse] = _excused.GetValueOrDefault(excuse) + 1; continue; }
            _mismatches.Add($"frame {frame} {key}: decode {o ?? "(absent)"}, {oracle} {t ?? "(absent)"}");
        }
    }

    // The differences that follow from decode's documented behaviour, each with its reason.
    private static string? Excuse(string key, FrameFields ours, string? o, string? t)
    {
        string layer = key.Split('.')[0];
        bool transport = layer is "icmp" or "udp" or "tcp" or "dns" or "dhcp" or "icmpv6";
        if (o is null && ours.Get("error") is not null)
            return "decode stopped at the malformed layer";
        if (o is null && transport && ours.Get("ipv4.offset") is { } offset && offset != "0")
            return "a later fragment carries no transport keys";
        if (o is null && (transport || layer == "icmpv6") && ours.Get("ipv6.frag.offset") is { } offset6 && offset6 != "0")
            return "a later fragment carries no transport keys";
        if (o is null && key.EndsWith(".checksum_ok", StringComparison.Ordinal) && transport
            && (ours.Get("ipv4.mf") == "true" || ours.Get("ipv6.frag.more") == "true" || ours.Get("caplen") is not null))
            return "transport checksum not checked on a fragment or a frame cut by the snap length";
        if (key == "tcp.payload" && t is null && ours.Get("ipv4.mf") == "true")
            return "tshark gives no TCP length for a first fragment (decode counts the bytes in the fragment)";
        if (key == "dns.rcode" && t is null && ours.Get("dns.qr") == "false")
            return "tshark shows no RCODE for a query";
        if (key == "eth.type" && t is null && ours.Get("eth.tpid") == "34984")
            return "tshark names no field for the EtherType after an 802.1ad tag";
        if (o is not null && t is null && key.EndsWith(".checksum_ok", StringComparison.Ordinal))
            return "the oracle did not verify this checksum";
        return null;
    }

    /// <summary>Writes the report and asserts the mismatch count is the documented one for this capture (0 when none is).</summary>
    public void AssertWithin(Dictionary<string, (int Count, string Why)> documented)
    {
        var text = new StringBuilder();
        text.AppendLine(System.Globalization.CultureInfo.InvariantCulture,
            $"{capture} vs {oracle}: {_frames} frames, {_compared} fields agree, {_mismatches.Count} mismatches, {_declined} frames the oracle could not parse");
        foreach (var (why, count) in _excused) text.AppendLine(System.Globalization.CultureInfo.InvariantCulture, $"  by design ({count}): {why}");
        foreach (string m in _mismatches.Take(40)) text.AppendLine("  " + m);
        TestContext.Out.Write(text.ToString());
        int allowed = documented.TryGetValue(capture, out var exception) ? exception.Count : 0;
        Assert.That(_mismatches, Has.Count.EqualTo(allowed),
            (allowed > 0 ? $"documented: {exception.Why}\n" : "") + text);
    }
}
