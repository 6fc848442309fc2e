namespace TcpIpSharp.Transport.Tcp;

public sealed partial class TcpConnection
{
    /// <summary>
    /// The connection's invariants (issue 8, item 2), or null when they hold: SND.UNA ≤ SND.NXT ≤ SND.MAX, what is
    /// outstanding is still in the send ring, both rings within capacity, out-of-order ranges within their bound, and
    /// the SACK scoreboard ordered and within [SND.UNA, SND.MAX]. Checked by tests after every frame.
    /// </summary>
    internal string? BrokenInvariant()
    {
        if (State is TcpState.Closed or TcpState.Listen) return null;
        if (!Seq.Le(_sndUna, _sndNxt) || !Seq.Le(_sndNxt, _sndMax)) return $"SND.UNA {_sndUna} <= SND.NXT {_sndNxt} <= SND.MAX {_sndMax} broken";
        // SYN and FIN take a sequence number each but no ring space.
        if (_sndMax - _sndUna > (uint)_send.Count + 2) return $"{_sndMax - _sndUna} bytes outstanding but only {_send.Count} in the send ring";
        if (_send.Count > _send.Capacity) return $"send ring holds {_send.Count} > capacity {_send.Capacity}";
        if (_receive.Readable > _receive.Capacity) return $"receive ring holds {_receive.Readable} > capacity {_receive.Capacity}";
        if (_receive.Ranges > _options.MaxOutOfOrderRanges) return $"{_receive.Ranges} out-of-order ranges > bound {_options.MaxOutOfOrderRanges}";
        if (_sackCount > _sackLeft.Length) return $"{_sackCount} SACK blocks > {_sackLeft.Length}";
        for (int i = 0; i < _sackCount; i++)
        {
            if (!Seq.Lt(_sackLeft[i], _sackRight[i])) return $"SACK block {i} [{_sackLeft[i]}, {_sackRight[i]}) empty or reversed";
            if (!Seq.Le(_sndUna, _sackLeft[i]) || !Seq.Le(_sackRight[i], _sndMax)) return $"SACK block {i} [{_sackLeft[i]}, {_sackRight[i]}) outside [SND.UNA {_sndUna}, SND.MAX {_sndMax}]";
            if (i > 0 && Seq.Lt(_sackLeft[i], _sackRight[i - 1])) return $"SACK blocks {i - 1} and {i} overlap or are out of order";
        }
        return RackBrokenInvariant();
    }
}
