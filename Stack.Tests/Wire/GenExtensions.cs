using FsCheck;
using FsCheck.Fluent;

namespace TcpIpSharp.Tests.Wire;

/// <summary>Small FsCheck helpers for the wire round-trip properties.</summary>
internal static class GenExtensions
{
    /// <summary>Null one time in four, a value otherwise.</summary>
    public static Gen<T?> OrNull<T>(this Gen<T> gen) where T : struct
        => Gen.Frequency((1, Gen.Constant<T?>(null)), (3, gen.Select(v => (T?)v)));
}
