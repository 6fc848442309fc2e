// Beyond the Pico: .NET's HttpClient with every connection going through this stack (names resolved by its resolver).
using TcpIpSharp.Sockets;

namespace TcpIpSharp.Examples;

/// <summary>HttpClient over a <see cref="SocketStack"/>.</summary>
public static class HttpClientThroughStack
{
    /// <summary>GETs <paramref name="url"/> through <paramref name="stack"/> and returns the body.</summary>
    public static async Task<string> Run(Action<object> print, SocketStack stack, string url)
    {
        using var client = new HttpClient(stack.CreateHttpHandler()) { Timeout = TimeSpan.FromSeconds(30) };
        using var response = await client.GetAsync(new Uri(url)).ConfigureAwait(false);
        print($"{(int)response.StatusCode} {response.ReasonPhrase}");
        return await response.Content.ReadAsStringAsync().ConfigureAwait(false);
    }
}
