namespace TcpIpSharp.Storage;

/// <summary>A token bucket in caller-supplied time: <see cref="TryTake"/> succeeds while tokens remain, refilled at a fixed rate up to a burst.</summary>
internal struct TokenBucket
{
    private readonly double _perSecond;
    private readonly double _burst;
    private double _tokens;
    private TimeSpan _last;

    public TokenBucket(double perSecond, double burst)
    {
        _perSecond = perSecond;
        _burst = burst;
        _tokens = burst;
        _last = TimeSpan.MinValue;
    }

    public bool TryTake(TimeSpan now, double cost = 1)
    {
        if (_last != TimeSpan.MinValue && now > _last)
            _tokens = Math.Min(_burst, _tokens + (now - _last).TotalSeconds * _perSecond);
        _last = now;
        if (_tokens < cost) return false;
        _tokens -= cost;
        return true;
    }
}
