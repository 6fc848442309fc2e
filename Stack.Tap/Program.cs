namespace TcpIpSharp.Tap;

internal static class Program
{
    private static int Main(string[] args)
    {
        Console.WriteLine("tcpipsharp " + string.Join(' ', args));
        return 0;
    }
}
