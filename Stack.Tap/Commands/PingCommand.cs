using System.CommandLine;
using System.Globalization;
using System.Runtime.InteropServices;
using TcpIpSharp.Net;
using TcpIpSharp.Tap.Cli;
using TcpIpSharp.Wire;

namespace TcpIpSharp.Tap.Commands;

/// <summary><c>tcpipsharp ping HOST</c>: pings from the stack, printing what Linux ping prints.</summary>
internal static class PingCommand
{
    public static Command Create()
    {
        var command = new Command("ping", "Ping HOST from the stack. It prints what Linux ping prints.")
        {
            Opt.Argument("HOST", "an IPv4 or IPv6 address"),
            Opt.Value("-c", "COUNT", "send COUNT echo requests (4)"),
            Opt.Value("-s", "SIZE", "SIZE data bytes in each, 8-65507 (56)"),
            Opt.Value("-i", "INTERVAL", "seconds between requests (1)"),
            Opt.Value("-W", "TIMEOUT", "seconds to wait for the last reply (2)"),
        };
        LinkOptions.AddTo(command);
        command.SetAction(App.Action(Run));
        return command;
    }

    public static int Run(CommandLine cl)
    {
        if (cl.Positional.Count != 1) throw new UsageException("ping takes one HOST (an IPv4 or IPv6 address)");
        var host = CommandLine.ParseIpAddress(cl.Positional[0], "HOST");
        int count = cl.GetInt("-c", 4), size = cl.GetInt("-s", 56);
        var interval = TimeSpan.FromSeconds(cl.GetDouble("-i", 1));
        var timeout = TimeSpan.FromSeconds(cl.GetDouble("-W", 2));
        if (count < 1) throw new UsageException("-c must be at least 1");
        if (size is < 8 or > 65507) throw new UsageException("-s must be between 8 and 65507");
        var clock = new SystemClock();
        using var stack = HostSetup.Create(cl, clock);
        var pinger = new Pinger(host, count, size, interval, timeout);
        var driver = new StackDriver(stack, clock);
        if (HostSetup.Dhcp(cl) is { } dhcp) driver.Add(dhcp);
        driver.Add(pinger);
        using var stop = new CancellationTokenSource();
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; stop.Cancel(); });
        pinger.Done = stop.Cancel;
        Console.WriteLine(host.IsIpv4 ? $"PING {host} ({host}) {size}({size + 28}) bytes of data." : $"PING {host}({host}) {size} data bytes");
        driver.Run(stop.Token);
        pinger.PrintSummary();
        return pinger.Received > 0 ? 0 : 1;
    }

    private sealed class Pinger(IpAddress host, int count, int size, TimeSpan interval, TimeSpan timeout) : IStackService
    {
        private EchoClient? _client;
        private int _sent;
        private TimeSpan _nextSend, _lastSend;
        private readonly List<double> _rtts = [];
        public int Received => _rtts.Count;
        public Action? Done { get; set; }
        public TimeSpan? NextDeadline { get; private set; }

        public void Start(NetworkStack stack, TimeSpan now)
        {
            _client = stack.OpenEchoClient();
            _nextSend = now;
        }

        public void Poll(NetworkStack stack, TimeSpan now)
        {
            if (stack.SourceAddressFor(host).IsAny && _sent == 0)
            {
                // With --dhcp, wait for an address; for IPv6, for one that passed duplicate address detection.
                _nextSend = now;
                NextDeadline = null;
                return;
            }
            while (_client!.TryReceive(out var reply))
            {
                double ms = reply.RoundTrip.TotalMilliseconds;
                _rtts.Add(ms);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{reply.PayloadLength + 8} bytes from {reply.From}: icmp_seq={reply.Sequence} {(host.IsIpv4 ? "ttl" : "hlim")}={reply.TimeToLive} time={ms:0.###} ms{(reply.DataIntact ? "" : " (corrupted data)")}"));
            }
            if (_sent < count && now >= _nextSend)
            {
                _sent++;
                var error = _client.Send(host, (ushort)_sent, size, now);
                if (error != NetError.None) Console.WriteLine($"ping: sendto: {error}");
                _lastSend = now;
                _nextSend = now + interval;
            }
            if (_sent >= count && (Received >= count || now >= _lastSend + timeout)) { Done?.Invoke(); NextDeadline = null; return; }
            NextDeadline = _sent < count ? _nextSend : _lastSend + timeout;
        }

        public void PrintSummary()
        {
            Console.WriteLine($"--- {host} ping statistics ---");
            int loss = _sent == 0 ? 0 : (int)Math.Round(100.0 * (_sent - Received) / _sent);
            Console.WriteLine($"{_sent} packets transmitted, {Received} received, {loss}% packet loss");
            if (Received > 0)
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"rtt min/avg/max = {_rtts.Min():0.###}/{_rtts.Average():0.###}/{_rtts.Max():0.###} ms"));
        }
    }
}
