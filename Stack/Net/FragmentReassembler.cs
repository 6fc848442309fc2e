using System.Buffers.Binary;
using TcpIpSharp.Diagnostics;
using TcpIpSharp.Wire;

namespace TcpIpSharp.Net;

/// <summary>
/// Reassembles fragments of either family (IPv4: RFC 791, RFC 815; IPv6: RFC 8200 4.5) with bounded memory: a fixed number of datagram slots, each
/// with a preallocated buffer, a bound on the bytes held by all of them, a bound on pieces per datagram, and
/// a timeout. Overlapping fragments drop the whole datagram (as RFC 5722 does for IPv6); exact duplicates are ignored.
/// Under pressure (every slot taken, or the byte budget full) the oldest datagram in progress is evicted to make room
/// for the new fragment, as Linux does (inet_frag's LRU): a flood of fragments that never complete cannot hold the
/// table for the whole timeout and keep honest fragmented traffic out.
/// The family layer says what a fragment is (its key, offset, more flag, the header to keep from the first fragment)
/// and fixes up the header of the whole datagram; the bounds, the holes, overlaps and timeouts are written once here.
/// </summary>
internal sealed class FragmentReassembler
{
    /// <summary>The longest header kept from a first fragment: IPv4's 60 bytes, or IPv6's 40 plus unfragmentable extension headers.</summary>
    public const int HeaderRoom = 256;

    private sealed class Slot
    {
        public bool InUse;
        public IpAddress Source, Destination;
        public uint Identification;
        public IpProtocol Protocol;
        public TimeSpan Deadline;
        public TimeSpan Started;
        public int TotalPayload = -1;   // known once the last fragment arrives
        public int HeaderLength;        // of the first fragment; 0 until it arrives
        public int BytesHeld;
        public readonly byte[] Buffer = new byte[HeaderRoom + 65535];
        public int[] PieceStart = [];
        public int[] PieceEnd = [];
        public int Pieces;
        public int EcnSeen;             // one bit per ECN codepoint seen among the fragments (RFC 3168 5.3)
        public IpEcn FirstEcn;          // the first fragment's codepoint (its header is the whole datagram's)
    }

    private readonly Slot[] _slots;
    private readonly NetworkStackOptions _options;
    private readonly TimeSpan _timeout;
    private int _bytesHeld;

    public FragmentReassembler(NetworkStackOptions options, TimeSpan timeout)
    {
        _options = options;
        _timeout = timeout;
        _slots = new Slot[options.ReassemblyMaxDatagrams];
        for (int i = 0; i < _slots.Length; i++)
            _slots[i] = new Slot { PieceStart = new int[options.ReassemblyMaxPieces], PieceEnd = new int[options.ReassemblyMaxPieces] };
    }

    public int BytesHeld => _bytesHeld;
    public int DatagramsInProgress { get { int n = 0; foreach (var s in _slots) if (s.InUse) n++; return n; } }

    /// <summary>Slots in use as counted when they are taken and released (polls look at it instead of the slots; the invariants check it against <see cref="DatagramsInProgress"/>).</summary>
    internal int SlotsInUse => _slotsInUse;
    private int _slotsInUse;

    /// <summary>
    /// Adds a fragment. Returns <see cref="DropReason"/>-less success with <paramref name="datagram"/> set to the
    /// whole datagram when this fragment completes it (valid until the next call), or an empty span while incomplete.
    /// A non-null drop reason means this fragment (and for some reasons its whole datagram) was dropped.
    /// </summary>
    /// <param name="fragment">What identifies the datagram and where this piece goes.</param>
    /// <param name="header">The header to keep for the whole datagram, given with the first fragment (offset 0).</param>
    /// <param name="data">The fragment's data.</param>
    /// <param name="maximumPayload">The longest payload the family allows after the kept header (IPv4: 65,535 less the header).</param>
    /// <param name="now">The time.</param>
    /// <param name="datagram">The kept header followed by the whole payload, once complete (valid until the next call).</param>
    /// <param name="headerLength">The kept header's length in <paramref name="datagram"/>.</param>
    /// <param name="ecn">The whole datagram's ECN field, once complete (RFC 3168 5.3): CE when any fragment was CE.</param>
    public DropReason? Add(in Fragment fragment, ReadOnlySpan<byte> header, ReadOnlySpan<byte> data, int maximumPayload, TimeSpan now,
        out Span<byte> datagram, out int headerLength, out IpEcn ecn)
    {
        datagram = default;
        headerLength = 0;
        ecn = IpEcn.NotEct;
        int offset = fragment.Offset;
        int end = offset + data.Length;
        var slot = Find(fragment);

        // RFC 791, RFC 8200 4.5: the datagram may not exceed what its length field can say.
        if (end > maximumPayload || header.Length > HeaderRoom)
        {
            if (slot is not null) Free(slot);
            return DropReason.ReassemblyTooLarge;
        }
        // Every fragment but the last carries a multiple of 8 bytes.
        if (fragment.More && (data.Length % 8 != 0 || data.Length == 0))
            return fragment.Malformed;

        if (slot is null)
        {
            slot = Allocate(now);
            slot.Source = fragment.Source;
            slot.Destination = fragment.Destination;
            slot.Identification = fragment.Identification;
            slot.Protocol = fragment.Protocol;
        }

        if (!fragment.More)
        {
            if (slot.TotalPayload >= 0 && slot.TotalPayload != end) { Free(slot); return fragment.Malformed; }
            slot.TotalPayload = end;
        }
        if (slot.TotalPayload >= 0 && end > slot.TotalPayload) { Free(slot); return fragment.Malformed; }

        // Exact duplicate of a piece already held: ignore it; any other overlap drops the datagram.
        for (int i = 0; i < slot.Pieces; i++)
        {
            if (offset < slot.PieceEnd[i] && end > slot.PieceStart[i])
            {
                if (offset >= slot.PieceStart[i] && end <= slot.PieceEnd[i]
                    && data.SequenceEqual(slot.Buffer.AsSpan(HeaderRoom + offset, data.Length)))
                    return null;
                Free(slot);
                return DropReason.ReassemblyOverlap;
            }
        }
        // The byte budget: evict the oldest other datagrams until this fragment fits; only when this datagram alone
        // would exceed the budget is the fragment itself dropped.
        while (slot.BytesHeld + data.Length <= _options.ReassemblyMaxBytes && _bytesHeld + data.Length > _options.ReassemblyMaxBytes && EvictOldestExcept(slot)) { }
        if (_bytesHeld + data.Length > _options.ReassemblyMaxBytes)
        {
            if (slot.Pieces == 0) Free(slot);
            return DropReason.ReassemblyNoResources;
        }
        if (!AddPiece(slot, offset, end)) { Free(slot); return DropReason.ReassemblyTooManyHoles; }

        data.CopyTo(slot.Buffer.AsSpan(HeaderRoom + offset));
        slot.BytesHeld += data.Length;
        _bytesHeld += data.Length;
        slot.EcnSeen |= 1 << (int)fragment.Ecn;
        if (offset == 0)
        {
            slot.HeaderLength = header.Length;
            slot.FirstEcn = fragment.Ecn;
            header.CopyTo(slot.Buffer.AsSpan(HeaderRoom - slot.HeaderLength));
        }

        if (slot.TotalPayload >= 0 && slot.HeaderLength > 0 && slot.Pieces == 1 && slot.PieceStart[0] == 0 && slot.PieceEnd[0] == slot.TotalPayload)
        {
            // RFC 3168 5.3 (as Linux's ip_frag_ecn_table): Not-ECT beside ECT or CE cannot be combined and the datagram
            // is dropped; CE on any fragment makes the whole CE (a congestion mark is never lost to reassembly);
            // otherwise the first fragment's codepoint stands.
            int seen = slot.EcnSeen;
            if ((seen & (1 << (int)IpEcn.NotEct)) != 0 && seen != 1 << (int)IpEcn.NotEct) { Free(slot); return DropReason.ReassemblyEcnMismatch; }
            ecn = (seen & (1 << (int)IpEcn.Ce)) != 0 ? IpEcn.Ce : slot.FirstEcn;
            // Complete: the family rewrites the first fragment's header as the whole datagram's.
            datagram = slot.Buffer.AsSpan(HeaderRoom - slot.HeaderLength, slot.HeaderLength + slot.TotalPayload);
            headerLength = slot.HeaderLength;
            Release(slot);
        }
        return null;
    }

    // Inserts [start, end) into the sorted piece list, merging with touching neighbours.
    private static bool AddPiece(Slot slot, int start, int end)
    {
        int i = 0;
        while (i < slot.Pieces && slot.PieceStart[i] < start) i++;
        bool joinLeft = i > 0 && slot.PieceEnd[i - 1] == start;
        bool joinRight = i < slot.Pieces && slot.PieceStart[i] == end;
        if (joinLeft && joinRight)
        {
            slot.PieceEnd[i - 1] = slot.PieceEnd[i];
            Array.Copy(slot.PieceStart, i + 1, slot.PieceStart, i, slot.Pieces - i - 1);
            Array.Copy(slot.PieceEnd, i + 1, slot.PieceEnd, i, slot.Pieces - i - 1);
            slot.Pieces--;
        }
        else if (joinLeft) slot.PieceEnd[i - 1] = end;
        else if (joinRight) slot.PieceStart[i] = start;
        else
        {
            if (slot.Pieces == slot.PieceStart.Length) return false;
            Array.Copy(slot.PieceStart, i, slot.PieceStart, i + 1, slot.Pieces - i);
            Array.Copy(slot.PieceEnd, i, slot.PieceEnd, i + 1, slot.Pieces - i);
            slot.PieceStart[i] = start;
            slot.PieceEnd[i] = end;
            slot.Pieces++;
        }
        return true;
    }

    private Slot? Find(in Fragment fragment)
    {
        foreach (var s in _slots)
            if (s.InUse && s.Identification == fragment.Identification && s.Source == fragment.Source
                && s.Destination == fragment.Destination && s.Protocol == fragment.Protocol)
                return s;
        return null;
    }

    /// <summary>
    /// One fragment as its family reads it: the datagram's key (RFC 791: source, destination, protocol and 16-bit ID;
    /// RFC 8200: source, destination and 32-bit ID, protocol 0), where the data goes, whether more follows, and the drop
    /// reason to count for a malformed one, and the fragment's ECN field (RFC 3168 5.3).
    /// </summary>
    public readonly record struct Fragment(IpAddress Source, IpAddress Destination, uint Identification, IpProtocol Protocol, int Offset, bool More, DropReason Malformed,
        IpEcn Ecn = IpEcn.NotEct);

    /// <summary>Datagrams evicted to make room (no free slot or no byte budget: the oldest goes, as Linux does); the caller counts and resets it.</summary>
    public int Evicted { get; set; }

    private bool EvictOldestExcept(Slot keep)
    {
        Slot? oldest = null;
        foreach (var s in _slots)
            if (s.InUse && s != keep && (oldest is null || s.Started < oldest.Started)) oldest = s;
        if (oldest is null) return false;
        Free(oldest);
        Evicted++;
        return true;
    }

    private Slot Allocate(TimeSpan now)
    {
        Slot? oldest = null;
        foreach (var s in _slots)
        {
            if (!s.InUse) { oldest = s; break; }
            if (oldest is null || s.Started < oldest.Started) oldest = s;
        }
        if (oldest!.InUse) { Free(oldest); Evicted++; }
        oldest.InUse = true;
        _slotsInUse++;
        oldest.Started = now;
        oldest.Deadline = now + _timeout;
        oldest.TotalPayload = -1;
        oldest.HeaderLength = 0;
        oldest.Pieces = 0;
        oldest.BytesHeld = 0;
        oldest.EcnSeen = 0;
        oldest.FirstEcn = IpEcn.NotEct;
        return oldest;
    }

    private void Free(Slot slot) => Release(slot);

    private void Release(Slot slot)
    {
        _bytesHeld -= slot.BytesHeld;
        slot.BytesHeld = 0;
        if (slot.InUse) _slotsInUse--;
        slot.InUse = false;
        slot.Pieces = 0;
    }

    /// <summary>The earliest reassembly deadline, or null.</summary>
    public TimeSpan? NextDeadline
    {
        get
        {
            TimeSpan? next = null;
            if (_slotsInUse == 0) return next;
            foreach (var s in _slots) if (s.InUse && (next is null || s.Deadline < next)) next = s.Deadline;
            return next;
        }
    }

    /// <summary>
    /// Expires one timed-out datagram, if any: returns true and, when its first fragment had arrived, the first
    /// fragment's header and leading payload in <paramref name="quote"/> (for an ICMP time exceeded, RFC 792).
    /// The quote is valid until the next call.
    /// </summary>
    public bool TryExpire(TimeSpan now, out ReadOnlySpan<byte> quote)
    {
        quote = default;
        if (_slotsInUse == 0) return false;   // the common case, checked on every poll
        foreach (var s in _slots)
        {
            if (!s.InUse || now < s.Deadline) continue;
            if (s.HeaderLength > 0)
            {
                int held = s.Pieces > 0 && s.PieceStart[0] == 0 ? s.PieceEnd[0] : 0;
                quote = s.Buffer.AsSpan(HeaderRoom - s.HeaderLength, s.HeaderLength + Math.Min(held, 8));
            }
            Release(s);
            return true;
        }
        return false;
    }
}
