using TcpIpSharp.Wire;

namespace TcpIpSharp.Tests.Wire;

/// <summary>Parsing real frames and walking their options or records allocates nothing (DESIGN.md section 4).</summary>
public class WireAllocationTests
{
    private const int Rounds = 10_000;

    [Test]
    public void Tcp_parse_and_option_walk_of_real_frames_allocates_nothing()
    {
        byte[][] frames = [WireVectors.TcpSyn, WireVectors.TcpSynAck, WireVectors.TcpData, WireVectors.TcpSack];
        long sink = 0;
        for (int i = 0; i < 100; i++) sink += ParseTcp(frames);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < Rounds; i++) sink += ParseTcp(frames);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.That(allocated, Is.Zero);
        Assert.That(sink, Is.Not.Zero);
    }

    private static long ParseTcp(byte[][] frames)
    {
        long sum = 0;
        foreach (var frame in frames)
        {
            if (EthernetFrame.TryParse(frame, out var ethernet) != WireError.None) return -1;
            if (Ipv4Packet.TryParse(ethernet.Payload, out var ip) != WireError.None) return -1;
            if (TcpSegment.TryParse(ip.Payload, out var segment) != WireError.None) return -1;
            sum += segment.SourcePort + segment.SequenceNumber + (int)segment.Flags + segment.Payload.Length;
            if (segment.IsChecksumValid(ip.Source, ip.Destination)) sum++;
            var reader = new TcpOptionReader(segment.Options);
            while (reader.Read()) sum += (int)reader.Kind + reader.Data.Length;
            if (TcpOptions.TryParse(segment.Options, out var options) != WireError.None) return -1;
            sum += options.MaximumSegmentSize ?? 0;
            sum += options.Timestamp?.Value ?? 0;
            for (int i = 0; i < options.SackBlocks.Count; i++) sum += options.SackBlocks[i].Right;
            if (TcpHeader.TryFrom(segment, out var header) != WireError.None) return -1;
            sum += header.WindowSize;
        }
        return sum;
    }
}
