using TcpIpSharp.Storage;
using TcpIpSharp.Transport.Tcp;

namespace TcpIpSharp.Tests.Tcp;

/// <summary>Rings that start empty and grow through the pool's size classes up to their configured capacity.</summary>
public class RingGrowthTests
{
    [TestCase(1, 262144, 4096)]
    [TestCase(4096, 262144, 4096)]
    [TestCase(4097, 262144, 8192)]
    [TestCase(200_000, 262144, 262144)]
    [TestCase(5000, 6000, 6000)]
    [TestCase(10, 64, 64)]
    [TestCase(70_000, 100_000, 100_000)]
    [TestCase(40_000, 100_000, 65536)]
    public void Size_classes_are_powers_of_two_from_4_KB_cut_at_the_capacity(int needed, int capacity, int expected) =>
        Assert.That(BufferPool.SizeFor(needed, capacity), Is.EqualTo(expected));

    [Test]
    public void A_send_ring_starts_empty_and_grows_keeping_its_bytes_across_a_wrap()
    {
        var pool = new BufferPool(1 << 20);
        var ring = new SendRing(pool, 65536);
        Assert.That((ring.StorageLength, ring.Capacity, ring.Free), Is.EqualTo((0, 65536, 65536)));
        var data = TcpTransferTests.Pattern(20_000, 1);
        Assert.That(ring.Write(data.AsSpan(0, 3000)), Is.EqualTo(3000));
        Assert.That(ring.StorageLength, Is.EqualTo(4096));
        ring.Consume(2000);                                              // offset 0 is now data[2000] at index 2000
        Assert.That(ring.Write(data.AsSpan(3000, 3000)), Is.EqualTo(3000)); // 4,000 held, wrapped in the 4 KB array
        Assert.That(ring.StorageLength, Is.EqualTo(4096));
        Assert.That(ring.Write(data.AsSpan(6000, 10_000)), Is.EqualTo(10_000));
        Assert.That(ring.StorageLength, Is.EqualTo(16384), "14,000 bytes: the 16 KB class");
        var all = new byte[ring.Count];
        ring.CopyTo(0, all);
        Assert.That(all, Is.EqualTo(data.AsSpan(2000, 14_000).ToArray()));
        Assert.That(pool.BytesHeld, Is.EqualTo(4096), "the outgrown array went back to the pool");
        Assert.That(pool.BytesRented, Is.EqualTo(16384));
    }

    [Test]
    public void A_send_ring_never_grows_beyond_its_capacity()
    {
        var pool = new BufferPool(1 << 20);
        var ring = new SendRing(pool, 10_000);
        var data = TcpTransferTests.Pattern(20_000, 2);
        Assert.That(ring.Write(data), Is.EqualTo(10_000));
        Assert.That((ring.StorageLength, ring.Free), Is.EqualTo((10_000, 0)));
        ring.Consume(5000);
        Assert.That(ring.Write(data.AsSpan(10_000)), Is.EqualTo(5000));
        Assert.That(ring.StorageLength, Is.EqualTo(10_000));
        var all = new byte[ring.Count];
        ring.CopyTo(0, all);
        Assert.That(all, Is.EqualTo(data.AsSpan(5000, 10_000).ToArray()));
    }

    [Test]
    public void A_receive_ring_grows_keeping_in_order_bytes_and_out_of_order_ranges_with_the_window_unchanged()
    {
        var pool = new BufferPool(1 << 20);
        var ring = new ReceiveRing(pool, 65536, 8);
        Assert.That((ring.StorageLength, ring.Window), Is.EqualTo((0, 65536)), "the window is the capacity before any storage");
        var data = TcpTransferTests.Pattern(20_000, 3);
        var sink = new byte[20_000];
        Assert.That(ring.Write(0, data.AsSpan(0, 3000)), Is.EqualTo(3000));
        Assert.That(ring.Read(sink.AsSpan(0, 2000)), Is.EqualTo(2000));  // read position at index 2000; data[2000..3000) readable
        // Out of order, wrapping round the 4 KB array: data[3500..4500) at offset 500 past the in-order data.
        Assert.That(ring.Write(500, data.AsSpan(3500, 1000)), Is.Zero);
        Assert.That(ring.StorageLength, Is.EqualTo(4096));
        // Further out: data[9000..12000) needs 1,000 + 9,000 + ... bytes from the read position: the ring moves to 16 KB.
        Assert.That(ring.Write(6000, data.AsSpan(9000, 3000)), Is.Zero);
        Assert.That(ring.StorageLength, Is.EqualTo(16384));
        Assert.That(ring.Ranges, Is.EqualTo(2));
        Assert.That((ring.Range(0), ring.Range(1)), Is.EqualTo(((500, 1500), (6000, 9000))), "ranges are offsets from the read position: unchanged by the move");
        Assert.That(ring.Window, Is.EqualTo(65536 - 1000), "the window is what the capacity allows, not the array");
        Assert.That(pool.BytesHeld, Is.EqualTo(4096));

        Assert.That(ring.Write(0, data.AsSpan(3000, 500)), Is.EqualTo(1500), "the gap filled up to the end of the first range");
        Assert.That(ring.Range(0), Is.EqualTo((4500, 7500)));
        Assert.That(ring.Write(0, data.AsSpan(4500, 4500)), Is.EqualTo(7500));
        Assert.That((ring.Readable, ring.Ranges), Is.EqualTo((10_000, 0)));
        Assert.That(ring.Read(sink.AsSpan(2000, 10_000)), Is.EqualTo(10_000));
        Assert.That(sink.AsSpan(0, 12_000).ToArray(), Is.EqualTo(data.AsSpan(0, 12_000).ToArray()));
    }

    [Test]
    public void Data_anywhere_inside_the_window_is_stored_even_with_an_empty_pool()
    {
        var pool = new BufferPool(0);   // keeps nothing: every rental allocates, and growth still succeeds
        var ring = new ReceiveRing(pool, 262144, 4);
        var tail = TcpTransferTests.Pattern(100, 4);
        Assert.That(ring.Write(ring.Window - 100, tail), Is.Zero);
        Assert.That(ring.Ranges, Is.EqualTo(1), "stored out of order at the right edge of the window");
        Assert.That(ring.StorageLength, Is.EqualTo(262144));
        Assert.That(ring.Write(ring.Window, tail), Is.Zero, "beyond the window: cut off");
        Assert.That(ring.Ranges, Is.EqualTo(1));
        var head = TcpTransferTests.Pattern(262144 - 100, 5);
        Assert.That(ring.Write(0, head), Is.EqualTo(262144));
        Assert.That((ring.Window, ring.StorageLength), Is.EqualTo((0, 262144)), "never beyond the capacity");
        var sink = new byte[262144];
        Assert.That(ring.Read(sink), Is.EqualTo(262144));
        Assert.That(sink.AsSpan(262144 - 100).ToArray(), Is.EqualTo(tail));
        Assert.That(pool.Allocated, Is.EqualTo(1), "straight to the class that holds the data: one array");
    }

    [Test]
    public void The_pool_hands_each_class_back_out_and_a_released_ring_holds_nothing()
    {
        var pool = new BufferPool(1 << 20);
        var first = new SendRing(pool, 65536);
        first.Write(new byte[100]);
        first.Write(new byte[5000]);            // 4 KB -> 8 KB: the 4 KB array goes back
        Assert.That((pool.Allocated, pool.Reused, pool.BytesHeld), Is.EqualTo((2L, 0L, 4096L)));
        var second = new ReceiveRing(pool, 65536, 4);
        second.Write(0, new byte[10]);          // takes that 4 KB array
        Assert.That((pool.Allocated, pool.Reused, pool.BytesHeld), Is.EqualTo((2L, 1L, 0L)));
        first.Release();
        second.Release();
        Assert.That((pool.BytesRented, pool.BytesHeld), Is.EqualTo((0L, 8192L + 4096L)));
        Assert.That((first.Capacity, first.Free, first.Write(new byte[1])), Is.EqualTo((0, 0, 0)), "released: no capacity");
        Assert.That((second.Window, second.Write(0, new byte[1])), Is.EqualTo((0, 0)));
        var third = new SendRing(pool, 65536);
        third.Write(new byte[6000]);
        Assert.That((pool.Allocated, pool.Reused), Is.EqualTo((2L, 2L)), "the 8 KB class reused");
    }

    [Test]
    public void Over_two_stacks_an_idle_connection_holds_no_ring_storage_and_the_window_is_the_configured_one()
    {
        using var net = new TwoStacks();
        var (client, server) = net.Connect();
        var poolA = net.A.Tcp.Buffers;
        var poolB = net.B.Tcp.Buffers;
        Assert.That(poolA.BytesRented + poolB.BytesRented, Is.Zero, "nothing rented before data");
        int capacity = new TcpConnectionOptions().ReceiveBufferSize;

        // The server does not read: the client may fill the whole configured window, which the server stores.
        var data = TcpTransferTests.Pattern(capacity + 50_000, 6);
        int sent = 0;
        net.RunUntil(() =>
        {
            sent += client.Send(data.AsSpan(sent));
            return server.Available == capacity;
        }, TimeSpan.FromSeconds(30));
        Assert.That(server.Available, Is.EqualTo(capacity), "the window was the configured receive buffer, all of it stored");
        Assert.That(poolB.BytesRented, Is.EqualTo(capacity), "the server's receive ring grew to its capacity and no further");
        Assert.That(poolA.BytesRented, Is.LessThanOrEqualTo(new TcpConnectionOptions().SendBufferSize));

        var got = new byte[data.Length];
        int read = 0;
        net.RunUntil(() =>
        {
            sent += client.Send(data.AsSpan(sent));
            read += server.Receive(got.AsSpan(read));
            return read == data.Length;
        }, TimeSpan.FromSeconds(30));
        Assert.That(got, Is.EqualTo(data));
        Assert.That(TcpIpSharp.Diagnostics.StackInvariants.Broken(net.B), Is.Null);
    }
}
