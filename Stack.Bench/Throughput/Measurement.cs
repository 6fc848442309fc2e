namespace TcpIpSharp.Bench.Throughput;

/// <summary>One row of the table: a case, a direction, and what it moved and cost; <see cref="Gbps"/> null when not measured (<see cref="Note"/> says why).</summary>
internal sealed record Measurement(string Case, string Direction, double? Gbps, TimeSpan User, TimeSpan System, long Bytes, TimeSpan Elapsed, string Note)
{
    /// <summary>A row that could not be measured, saying why.</summary>
    public static Measurement NotAvailable(string @case, string direction, string why) => new(@case, direction, null, default, default, 0, default, why);

    /// <summary>Bytes moved per second of CPU time (user and system) spent by whatever <see cref="Note"/> names.</summary>
    public double? BytesPerCpuSecond => Gbps is null || (User + System) <= TimeSpan.Zero ? null : Bytes / (User + System).TotalSeconds;
}
