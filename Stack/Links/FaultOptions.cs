namespace TcpIpSharp.Links;

/// <summary>What a <see cref="FaultInjectorLink"/> does to frames it sends, and reordering of frames it receives (smoltcp's fault options are the floor).</summary>
public sealed record FaultOptions
{
    /// <summary>Probability a frame is dropped.</summary>
    public double DropRate { get; init; }
    /// <summary>Probability a frame is sent twice.</summary>
    public double DuplicateRate { get; init; }
    /// <summary>Probability a frame is held back so that later frames overtake it.</summary>
    public double ReorderRate { get; init; }
    /// <summary>Probability one random byte of a frame is changed.</summary>
    public double CorruptRate { get; init; }
    /// <summary>Delay added to every frame.</summary>
    public TimeSpan Delay { get; init; }
    /// <summary>Random extra delay up to this much (jitter).</summary>
    public TimeSpan Jitter { get; init; }
    /// <summary>How long a reordered frame is held back at most.</summary>
    public TimeSpan ReorderDelay { get; init; } = TimeSpan.FromMilliseconds(5);
    /// <summary>When above 0, a reordered frame is held until this many later frames went out (reordering of degree K,
    /// independent of the rate the sender reaches), or <see cref="ReorderDelay"/> passed, whichever comes first; when 0
    /// it is held <see cref="ReorderDelay"/> times 0.5-1.</summary>
    public int ReorderDisplacement { get; init; }
    /// <summary>Probability a received frame is held back so that frames received after it overtake it on their way to
    /// the caller (reordering on the path towards the stack: the peer's sending meets it). Only reordering applies to
    /// received frames; every other fault applies to frames sent.</summary>
    public double ReceiveReorderRate { get; init; }
    /// <summary>How long a received frame held back waits at most (see <see cref="ReorderDelay"/>).</summary>
    public TimeSpan ReceiveReorderDelay { get; init; } = TimeSpan.FromMilliseconds(5);
    /// <summary>As <see cref="ReorderDisplacement"/>, for received frames: above 0, a held frame is passed on once this
    /// many later frames were, or <see cref="ReceiveReorderDelay"/> passed; when 0 it waits <see cref="ReceiveReorderDelay"/>
    /// times 0.5-1.</summary>
    public int ReceiveReorderDisplacement { get; init; }
    /// <summary>Frames longer than this are dropped (0: no limit).</summary>
    public int MaxFrameSize { get; init; }
    /// <summary>Token-bucket rate in bytes per second (0: unlimited); frames over it are dropped.</summary>
    public double RateBytesPerSecond { get; init; }
    /// <summary>Token-bucket burst in bytes.</summary>
    public double BurstBytes { get; init; } = 64 * 1024;
    /// <summary>Frames held (delayed or reordered) at most, each way; more are dropped when sent, passed on in order when received.</summary>
    public int MaxHeld { get; init; } = 512;
    /// <summary>While true, every frame is dropped (a cut link).</summary>
    public bool Cut { get; set; }
}
