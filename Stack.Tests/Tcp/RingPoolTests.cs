using TcpIpSharp.Transport.Tcp;

namespace TcpIpSharp.Tests.Tcp;

public class RingPoolTests
{
    private static readonly TcpConnectionOptions Small = new() { SendBufferSize = 8192, ReceiveBufferSize = 8192, TimeWaitTimeout = TimeSpan.FromSeconds(1) };

    private static (TcpConnection Client, TcpConnection Server) Exchange(TwoStacks net, TcpListener listener, byte[] request)
    {
        var client = net.A.ConnectTcp(TwoStacks.AddressB, listener.Port, Small);
        TcpConnection? server = null;
        net.RunUntil(() => listener.TryAccept(out server), TimeSpan.FromSeconds(5));
        Assert.That(client.Send(request), Is.EqualTo(request.Length));
        net.RunUntil(() => server!.Available == request.Length, TimeSpan.FromSeconds(5));
        return (client, server!);
    }

    [Test]
    public void A_closed_connection_gives_its_rings_back_in_time_wait_and_the_next_one_reuses_them()
    {
        using var net = new TwoStacks(options: new NetworkStackOptions { Tcp = Small });
        var listener = net.B.ListenTcp(7100, 8, Small);
        var request = new byte[3000];
        new Random(5).NextBytes(request);
        var (client, server) = Exchange(net, listener, request);
        var got = new byte[request.Length];
        Assert.That(server.Receive(got), Is.EqualTo(request.Length));
        Assert.That(got, Is.EqualTo(request));
        server.Send(request);   // so that the client's receive ring is used too
        net.RunUntil(() => client.Available == request.Length, TimeSpan.FromSeconds(5));
        Assert.That(client.Receive(got), Is.EqualTo(request.Length));
        var pool = net.A.Tcp.Buffers;
        Assert.That(pool.BytesHeld, Is.Zero);
        Assert.That(pool.BytesRented, Is.EqualTo(2 * 4096), "3,000 bytes each way: each ring took the smallest class");

        client.Close();   // the active closer goes to TIME-WAIT
        server.Close();
        net.RunUntil(() => client.State == TcpState.TimeWait, TimeSpan.FromSeconds(5));
        Assert.That(pool.BytesHeld, Is.EqualTo(2 * 4096), "both of the client's rings are back in A's pool while it waits in TIME-WAIT");
        Assert.That(pool.BytesRented, Is.Zero);
        Assert.That(client.Receive(got), Is.Zero, "a released connection reads end of stream (the FIN came) and does not throw");
        Assert.That(client.Send(request), Is.Zero);
        Assert.That(TcpIpSharp.Diagnostics.StackInvariants.Broken(net.A), Is.Null);

        // A second connection from A takes the same arrays, and its data is its own.
        var second = new byte[4000];
        new Random(6).NextBytes(second);
        var (client2, server2) = Exchange(net, listener, second);
        var got2 = new byte[second.Length];
        Assert.That(server2.Receive(got2), Is.EqualTo(second.Length));
        Assert.That(got2, Is.EqualTo(second));
        server2.Send(request);
        net.RunUntil(() => client2.Available == request.Length, TimeSpan.FromSeconds(5));
        Assert.That(pool.Reused, Is.EqualTo(2));
        Assert.That(client2.Receive(got), Is.EqualTo(request.Length));
        Assert.That(got, Is.EqualTo(request));
    }

    [Test]
    public void A_connection_reset_before_the_user_closes_it_keeps_its_rings_until_close()
    {
        using var net = new TwoStacks(options: new NetworkStackOptions { Tcp = Small });
        var listener = net.B.ListenTcp(7101, 8, Small);
        var (client, server) = Exchange(net, listener, new byte[100]);
        var pool = net.B.Tcp.Buffers;
        client.Abort();   // the server's connection is reset under the user
        net.RunUntil(() => server.State == TcpState.Closed, TimeSpan.FromSeconds(5));
        Assert.That(pool.BytesHeld, Is.Zero, "not released before the user closes");
        server.Close();
        Assert.That(pool.BytesHeld, Is.EqualTo(4096), "its receive ring (100 bytes came); its send ring was never used and holds nothing");
    }

    [Test]
    public void The_pool_keeps_no_more_than_its_bound()
    {
        using var net = new TwoStacks(options: new NetworkStackOptions { Tcp = Small, TcpBufferPoolBytes = 4096 });
        var listener = net.B.ListenTcp(7102, 8, Small);
        var (client, server) = Exchange(net, listener, new byte[10]);
        server.Send(new byte[10]);
        net.RunUntil(() => client.Available == 10, TimeSpan.FromSeconds(5));
        Assert.That(net.A.Tcp.Buffers.BytesRented, Is.EqualTo(2 * 4096));
        client.Abort();
        Assert.That(net.A.Tcp.Buffers.BytesHeld, Is.EqualTo(4096), "one of the two rings kept, the other left to the collector");
        Assert.That(net.A.Tcp.Buffers.BytesRented, Is.Zero);
        server.Abort();
    }
}
