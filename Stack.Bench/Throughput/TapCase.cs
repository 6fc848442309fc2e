using System.Net;
using System.Net.Sockets;
using System.Runtime.Versioning;
using TcpIpSharp.Linux;
using TcpIpSharp.Transport.Tcp;
using TcpIpSharp.Wire;

namespace TcpIpSharp.Bench.Throughput;

/// <summary>
/// (a) and (b): the stack in this process on a TAP in a throwaway namespace, one TCP connection to the kernel there.
/// The kernel's end is a plain socket in this process too (opened inside the namespace), sending or receiving 64 KB
/// per system call, so the tool costs little and no external program sits in the measurement. The stack runs on its
/// own thread as <see cref="StackDriver"/> does: poll, serve the connection, sleep on the TAP when idle.
/// </summary>
/// <remarks>Stack→kernel without offloads may use the TAP's transmit thread and a larger send buffer (the command's
/// defaults), and kernel→stack a larger receive buffer (4 MB by default, where the kernel's own receiver autotunes to
/// several MB): all are the stack's own settings; the kernel's end is the same plain socket either way.</remarks>
[SupportedOSPlatform("linux")]
internal static class TapCase
{
    private const string KernelAddress = "192.0.2.1";
    private const string StackAddress = "192.0.2.2";
    // Over IPv6 (DESIGN.md 7: 2001:db8::/32 only); the kernel's address without DAD, the stack's static, DAD off.
    private const string KernelAddress6 = "2001:db8::1";
    private const string StackAddress6 = "2001:db8::2";
    private const int Port = 5001;

    /// <summary>Measures one direction; <paramref name="kernelToStack"/> true for the stack receiving; <paramref name="ipv6"/> for the connection over IPv6 (the stack dual-stack).</summary>
    /// <remarks><paramref name="io"/>: the TAP's frames one system call each, or batched through io_uring (then without the transmit thread; the row's name says so).</remarks>
    public static Measurement Run(bool offloads, bool kernelToStack, TimeSpan length, CancellationToken token, bool transmitThread = false, int sendBuffer = 0, bool ipv6 = false,
        TapIoMode io = TapIoMode.PerFrame, int receiveBuffer = 0)
    {
        string name = (offloads ? "(b) stack over TAP, offloads on" : "(a) stack over TAP, no offloads") + (io == TapIoMode.IoUring ? ", io_uring" : "") + (ipv6 ? ", IPv6" : "");
        string kernelAddress = ipv6 ? KernelAddress6 : KernelAddress, stackAddress = ipv6 ? StackAddress6 : StackAddress;
        string direction = kernelToStack ? "kernel→stack" : "stack→kernel";
        Volatile.Write(ref s_snapshot, null);

        using var ns = BenchNamespace.Create((kernelToStack ? "tap-rx" : "tap-tx") + (ipv6 ? "6" : ""));
        ns.Ip("tuntap", "add", "dev", "tap0", "mode", "tap");
        if (ipv6) ns.Configure6("tap0", KernelAddress + "/24", KernelAddress6 + "/64");
        else ns.Configure("tap0", KernelAddress + "/24");
        var link = TapLink.Open("tap0", ns.Path, offloads, transmitThread, io);
        if (offloads && !link.OffloadsEnabled)
        {
            link.Dispose();
            return Measurement.NotAvailable(name, direction, "not available: the kernel refused the TAP offloads: " + link.OffloadsRefused);
        }
        using var stack = new NetworkStack(link, new NetworkStackOptions
        {
            MacAddress = MacAddress.Parse("02:00:00:00:00:02"),
            Address = Ipv4Address.Parse(StackAddress),
            PrefixLength = 24,
            Ipv6 = ipv6 ? new Net.Ipv6.Ipv6Options
            {
                StaticAddresses = [(Ipv6Address.Parse(StackAddress6), 64)],
                DupAddrDetectTransmits = 0,
                Autoconfigure = false,
                RouterSolicitations = 0,
            } : null,
        });
        ns.WaitUntilUp("tap0");

        using var kernelSocket = NetworkNamespace.Run(ns.Path, () =>
        {
            var s = new Socket(ipv6 ? AddressFamily.InterNetworkV6 : AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            if (!kernelToStack)
            {
                s.Bind(new IPEndPoint(IPAddress.Parse(kernelAddress), Port));
                s.Listen(1);
            }
            return s;
        });
        Worker stackWorker, kernelWorker;
        Worker? receiver = null;
        if (kernelToStack)
        {
            stackWorker = new Worker("stack", w => StackReceives(w, stack, receiveBuffer));
            kernelWorker = new Worker("kernel", w => KernelSends(w, kernelSocket, stackAddress, token));
            receiver = stackWorker;
        }
        else
        {
            kernelWorker = new Worker("kernel", w => KernelReceives(w, kernelSocket, token));
            stackWorker = new Worker("stack", w => StackSends(w, stack, IpAddress.Parse(kernelAddress), sendBuffer));
            receiver = kernelWorker;
        }
        try
        {
            var s = MeasurementWindow.Run($"{name} {direction}", length, () => receiver.Bytes,
                () => stackWorker.Failure ?? kernelWorker.Failure, token);
            var tcp = stack.Statistics.Tcp;
            if (Volatile.Read(ref s_snapshot) is string snapshot) Console.Error.WriteLine("      stack's connection near the end: " + snapshot);
            Console.Error.WriteLine($"      stack: {tcp.Received} TCP segments received, {tcp.Sent} sent"
                + (kernelToStack && tcp.Sent > 0 ? $" (one ACK per {(double)tcp.Received / tcp.Sent:0.0} received)" : "")
                + (link.HasTransmitThread ? $"; transmit thread: slept {link.TransmitThreadSleeps} times, ring full {link.TransmitRingFullWaits} times" : "")
                + (link.UsesIoUring ? $"; io_uring: {link.IoUringEnters} io_uring_enter calls for {link.FramesReceived} frames received and {link.FramesSent} sent ({(double)link.IoUringEnters / Math.Max(1, link.FramesReceived + link.FramesSent):0.000} per frame)" : "")
                + (kernelToStack && DirectReceive ? $"; --direct-receive: {Volatile.Read(ref stack.Statistics.TcpDetail.DirectReceivedBytes) / 1e6:0} MB taken from the lent frames" : "")
                + (offloads ? $"; TAP frames larger than the MTU: {link.LargeFramesReceived} of {link.FramesReceived} received, {link.LargeFramesSent} of {link.FramesSent} sent" : ""));
            return new Measurement(name, direction, s.Gbps, s.User, s.System, s.Bytes, s.Elapsed,
                "CPU: this process (the stack's thread" + (link.HasTransmitThread ? ", the TAP's transmit thread" : "")
                + (link.UsesIoUring ? ", frames batched through io_uring" : "")
                + " and the kernel socket's thread, kernel work in their system calls)"
                + (kernelToStack ? $"; stack receive buffer {(receiveBuffer > 0 ? receiveBuffer : new TcpConnectionOptions().ReceiveBufferSize) / 1024} KB" : "")
                + (kernelToStack || link.UsesIoUring ? "" : $"; {direction}: TAP transmit thread {(link.HasTransmitThread ? "on" : "off")}, stack send buffer {(sendBuffer > 0 ? sendBuffer : new TcpConnectionOptions().SendBufferSize) / 1024} KB"));
        }
        finally
        {
            // The sender first (its socket calls time out within 200 ms), then the stack, which keeps serving until then.
            if (kernelToStack) kernelWorker.Stop(TimeSpan.FromSeconds(5));
            stackWorker.Stop(TimeSpan.FromSeconds(5));
            kernelWorker.Stop(TimeSpan.FromSeconds(5));
        }
    }

    // The stack's thread, as StackDriver runs it: poll, serve the application, sleep on the link until the next deadline.
    private static void Drive(Worker w, NetworkStack stack, Func<TimeSpan, bool> application)
    {
        var clock = new SystemClock();
        while (!w.Stopping)
        {
            var now = clock.Now;
            bool worked = stack.Poll(now);
            worked |= application(now);
            if (worked) continue;
            var wait = stack.NextDeadline(now) is TimeSpan t ? t - clock.Now : TimeSpan.FromMilliseconds(50);
            if (wait > TimeSpan.FromMilliseconds(50)) wait = TimeSpan.FromMilliseconds(50);
            if (wait > TimeSpan.Zero) stack.Link.WaitReadable(wait);
        }
    }

    /// <summary>
    /// Kernel→stack: the application copies in-order data out of the frame the TAP lent, from within the stack's poll
    /// (<see cref="TcpConnection.DirectReceiver"/>, as the gateway's relay does), instead of out of the receive ring
    /// after it; bytes that arrive while the ring holds some still go through it. One copy fewer on the stack's thread.
    /// Off by default (<c>--direct-receive</c>): the default rows measure what <see cref="TcpConnection.Receive"/> gives.
    /// </summary>
    internal static bool DirectReceive { get; set; }

    private static void StackReceives(Worker w, NetworkStack stack, int receiveBuffer)
    {
        var listener = receiveBuffer > 0 ? stack.ListenTcp(Port, options: new TcpConnectionOptions { ReceiveBufferSize = receiveBuffer }) : stack.ListenTcp(Port);
        TcpConnection? connection = null;
        var sink = new byte[256 * 1024];
        long direct = 0;
        Drive(w, stack, now =>
        {
            if (connection is null)
            {
                if (!listener.TryAccept(out connection)) return false;
                if (DirectReceive) connection.DirectReceiver = data => { data.CopyTo(sink); direct += data.Length; return data.Length; };
            }
            long got = direct;
            direct = 0;
            int n;
            while ((n = connection.Receive(sink)) > 0) got += n;
            if (got == 0) return false;
            w.Add(got);
            return true;
        });
    }

    // The sending connection's control block, taken on the stack's thread once a second (its window, cwnd, queue).
    private static string? s_snapshot;

    private static void StackSends(Worker w, NetworkStack stack, IpAddress kernel, int sendBuffer)
    {
        var options = sendBuffer > 0 ? new TcpConnectionOptions { SendBufferSize = sendBuffer } : null;
        stack.Poll(new SystemClock().Now);   // a static IPv6 address without DAD is usable from the first poll
        var connection = stack.ConnectTcp(kernel, Port, options);
        var chunk = new byte[64 * 1024];
        var nextSnapshot = TimeSpan.Zero;
        Drive(w, stack, now =>
        {
            if (now >= nextSnapshot)
            {
                Volatile.Write(ref s_snapshot, connection.ToString());
                nextSnapshot = now + TimeSpan.FromSeconds(1);
            }
            if (connection.Error != NetError.None) throw new InvalidOperationException("the stack's connection failed: " + connection.Error);
            bool sent = false;
            while (connection.SendSpace > 0 && connection.Send(chunk) > 0) sent = true;
            return sent;
        });
    }

    private static void KernelSends(Worker w, Socket socket, string stackAddress, CancellationToken token)
    {
        using (var limit = CancellationTokenSource.CreateLinkedTokenSource(token))
        {
            limit.CancelAfter(TimeSpan.FromSeconds(10));
            socket.ConnectAsync(new IPEndPoint(IPAddress.Parse(stackAddress), Port), limit.Token).AsTask().GetAwaiter().GetResult();
        }
        socket.SendTimeout = 200;
        var chunk = new byte[64 * 1024];
        while (!w.Stopping)
        {
            try { socket.Send(chunk); }
            catch (SocketException e) when (e.SocketErrorCode == SocketError.TimedOut) { }
        }
    }

    private static void KernelReceives(Worker w, Socket listener, CancellationToken token)
    {
        Socket connection;
        using (var limit = CancellationTokenSource.CreateLinkedTokenSource(token))
        {
            limit.CancelAfter(TimeSpan.FromSeconds(10));
            connection = listener.AcceptAsync(limit.Token).AsTask().GetAwaiter().GetResult();
        }
        using (connection)
        {
            connection.ReceiveTimeout = 200;
            var buffer = new byte[256 * 1024];
            while (!w.Stopping)
            {
                int n;
                try { n = connection.Receive(buffer); }
                catch (SocketException e) when (e.SocketErrorCode == SocketError.TimedOut) { continue; }
                if (n == 0) return;
                w.Add(n);
            }
        }
    }
}
