using System.Globalization;
using ScottPlot;

namespace TcpIpSharp.Bench;

/// <summary>
/// The charts in docs/: throughput per case and direction (drawn by <c>throughput --plot</c> from the run it just made),
/// and ns per packet per path and against the number of connections (drawn by <c>plot</c> from BenchmarkDotNet's CSV
/// reports of the per-packet suites, BenchmarkDotNet.Artifacts/results).
/// </summary>
internal static class Charts
{
    /// <summary>The repository root (the folder holding TcpIpSharp.sln), from the working directory up.</summary>
    public static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(Environment.CurrentDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "TcpIpSharp.sln"))) return dir.FullName;
        throw new InvalidOperationException("run from inside the repository (no TcpIpSharp.sln above " + Environment.CurrentDirectory + ")");
    }

    /// <summary>A bar per measured case and direction, in Gbit/s.</summary>
    public static string Throughput(IReadOnlyList<Throughput.Measurement> rows, string subtitle)
    {
        var measured = rows.Where(r => r.Gbps is not null).ToList();
        var plot = new Plot();
        var palette = new ScottPlot.Palettes.Category10();
        for (int i = 0; i < measured.Count; i++)
            plot.Add.Bar(new Bar { Position = i, Value = measured[i].Gbps!.Value, FillColor = palette.GetColor(CaseIndex(measured[i].Case)) });
        Label(plot, [.. measured.Select(r => Short(r.Case) + (r.Case.EndsWith(", IPv6", StringComparison.Ordinal) ? ", IPv6" : "") + "\n" + r.Direction)]);
        plot.Title("Throughput, one TCP connection, MTU 1500\n" + subtitle);
        plot.YLabel("Gbit/s");
        plot.Axes.Margins(bottom: 0);
        return Save(plot, "throughput.png", 1100, 600);
    }

    /// <summary>Reads the per-packet reports and draws docs/perpacket.png and docs/perpacket-connections.png.</summary>
    public static int PerPacket(string[] args)
    {
        string root = RepositoryRoot();
        string results = args.Length > 0 ? args[0] : Path.Combine(root, "BenchmarkDotNet.Artifacts", "results");
        var rows = new List<(string Method, int Connections, double Ns, double Allocated)>();
        foreach (var name in new[] { "PerPacketBenchmark", "TcpSendBenchmark" })
        {
            string path = Path.Combine(results, $"TcpIpSharp.Bench.PerPacket.{name}-report.csv");
            if (!File.Exists(path)) { Console.Error.WriteLine($"plot: {path} not found: run the per-packet suites first (see docs/benchmarks.md)"); return 2; }
            rows.AddRange(ReadReport(path));
        }
        var methods = rows.Select(r => r.Method).Distinct().ToArray();
        // Two lines per label ("TcpData" / "ReceivedBatch"): long method names ran into each other.
        var labels = methods.Select(m => m.Length > 12 ? m[..(m.Length / 2)] + "\n" + m[(m.Length / 2)..] : m).ToArray();
        var counts = rows.Select(r => r.Connections).Distinct().Order().ToArray();
        string stamp = File.GetLastWriteTimeUtc(Path.Combine(results, "TcpIpSharp.Bench.PerPacket.PerPacketBenchmark-report.csv")).ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture) + " UTC";

        var single = new Plot();
        var palette = new ScottPlot.Palettes.Category10();
        for (int i = 0; i < methods.Length; i++)
            single.Add.Bar(new Bar { Position = i, Value = rows.First(r => r.Method == methods[i] && r.Connections == counts[0]).Ns, FillColor = palette.GetColor(0) });
        Label(single, labels);
        // The allocation line is read from the reports, not assumed: BenchmarkDotNet's single-invocation suites have shown
        // a few bytes per operation that the profile and the allocation tests do not (its own bookkeeping).
        double mostAllocated = rows.Max(r => r.Allocated);
        string allocation = mostAllocated == 0 ? "0 B/op on every path" : $"at most {mostAllocated:0} B/op";
        single.Title($"ns per packet per path (median where reported, else mean), {counts[0]} connection\n(BenchmarkDotNet, {stamp}; {allocation})");
        single.YLabel("ns per packet");
        single.Axes.Margins(bottom: 0);
        Console.WriteLine(Save(single, "perpacket.png", 1000, 550));

        var grouped = new Plot();
        double width = 0.8 / counts.Length;
        for (int c = 0; c < counts.Length; c++)
        {
            for (int i = 0; i < methods.Length; i++)
            {
                var row = rows.FirstOrDefault(r => r.Method == methods[i] && r.Connections == counts[c]);
                if (row.Method is null) continue;
                grouped.Add.Bar(new Bar { Position = i - 0.4 + width * (c + 0.5), Value = row.Ns, FillColor = palette.GetColor(c), Size = width * 0.95 });
            }
            grouped.Legend.ManualItems.Add(new LegendItem { LabelText = $"{counts[c]:N0} connections", FillColor = palette.GetColor(c) });
        }
        grouped.ShowLegend(Alignment.UpperLeft);
        Label(grouped, labels);
        grouped.Title($"ns per packet (median where reported, else mean) against open connections ({stamp})");
        grouped.YLabel("ns per packet");
        grouped.Axes.Margins(bottom: 0);
        Console.WriteLine(Save(grouped, "perpacket-connections.png", 1000, 550));
        return 0;
    }

    // The median where the report has one (a single-invocation suite's mean is moved by one slow iteration), else the mean.
    private static IEnumerable<(string Method, int Connections, double Ns, double Allocated)> ReadReport(string path)
    {
        var lines = File.ReadAllLines(path);
        var header = SplitCsv(lines[0]);
        int method = Array.IndexOf(header, "Method"), connections = Array.IndexOf(header, "Connections"), mean = Array.IndexOf(header, "Mean");
        if (method < 0 || connections < 0 || mean < 0) throw new InvalidDataException(path + ": no Method, Connections or Mean column");
        int family = Array.IndexOf(header, "Family"), allocatedColumn = Array.IndexOf(header, "Allocated");
        if (Array.IndexOf(header, "Median") is int median and >= 0) mean = median;
        foreach (var line in lines.Skip(1))
        {
            var cells = SplitCsv(line);
            if (cells.Length <= mean) continue;
            if (family >= 0 && cells[family] != "IPv4") continue;   // the charts draw the IPv4 rows, as before the family parameter
            var m = cells[mean].Trim();
            double scale = m.EndsWith(" us", StringComparison.Ordinal) || m.EndsWith(" μs", StringComparison.Ordinal) ? 1000 : m.EndsWith(" ms", StringComparison.Ordinal) ? 1e6 : 1;
            var number = m.Split(' ')[0].Replace(",", "", StringComparison.Ordinal);
            if (!double.TryParse(number, NumberStyles.Float, CultureInfo.InvariantCulture, out double value)) continue;   // NA: a failed benchmark
            yield return (cells[method], int.Parse(cells[connections], CultureInfo.InvariantCulture), value * scale,
                allocatedColumn >= 0 && allocatedColumn < cells.Length ? Bytes(cells[allocatedColumn]) : 0);
        }
    }

    // "-" (nothing), "3 B", "1.2 KB".
    private static double Bytes(string cell)
    {
        var parts = cell.Trim().Split(' ');
        if (parts.Length != 2 || !double.TryParse(parts[0], NumberStyles.Float, CultureInfo.InvariantCulture, out double n)) return 0;
        return parts[1] switch { "KB" => n * 1024, "MB" => n * 1024 * 1024, _ => n };
    }

    private static string[] SplitCsv(string line)
    {
        var cells = new List<string>();
        var cell = new System.Text.StringBuilder();
        bool quoted = false;
        foreach (char ch in line)
        {
            if (ch == '"') quoted = !quoted;
            else if (ch == ',' && !quoted) { cells.Add(cell.ToString()); cell.Clear(); }
            else cell.Append(ch);
        }
        cells.Add(cell.ToString());
        return [.. cells];
    }

    private static void Label(Plot plot, string[] labels)
    {
        plot.Axes.Bottom.SetTicks([.. Enumerable.Range(0, labels.Length).Select(i => (double)i)], labels);
        plot.Axes.Bottom.MajorTickStyle.Length = 0;
        plot.HideGrid();
    }

    private static int CaseIndex(string @case) => @case.Length > 1 ? @case[1] - 'a' : 0;

    private static string Short(string @case) => @case.Length < 3 ? @case : @case[..3] switch
    {
        "(a)" => "(a) TAP",
        "(b)" => "(b) TAP, offloads",
        "(c)" => @case.EndsWith("off", StringComparison.Ordinal) ? "(c) veth, offl. off" : "(c) veth, offl. on",
        "(d)" => "(d) in-memory pair",
        "(e)" => "(e) memcpy",
        _ => @case,
    };

    private static string Save(Plot plot, string name, int width, int height)
    {
        string path = Path.Combine(RepositoryRoot(), "docs", name);
        plot.SavePng(path, width, height);
        return "wrote " + path;
    }
}
