using TcpIpSharp.Transport.Udp;
using TcpIpSharp.Wire;

namespace TcpIpSharp.Tests.Simulation;

/// <summary>A small authoritative DNS server on a stack for simulations: A records and CNAMEs from tables, NXDOMAIN for the rest.</summary>
internal sealed class TestDnsServer(Dictionary<string, Ipv4Address[]> addresses, Dictionary<string, string> aliases) : IStackService
{
    private readonly byte[] _rx = new byte[2048];
    private readonly byte[] _tx = new byte[512];
    private readonly char[] _name = new char[DnsName.MaximumTextLength];
    private UdpEndpoint? _endpoint;

    public int Answered { get; private set; }
    public TimeSpan? NextDeadline => null;

    public void Start(NetworkStack stack, TimeSpan now) => _endpoint = stack.OpenUdp(DnsMessage.ServerPort);

    public void Poll(NetworkStack stack, TimeSpan now)
    {
        int n;
        while ((n = _endpoint!.Receive(_rx, out var from, out var port)) >= 0)
        {
            if (DnsMessage.TryParse(_rx.AsSpan(0, n), out var query) != WireError.None || query.IsResponse) continue;
            var reader = query.GetReader();
            if (!reader.TryReadQuestion(out var question)) continue;
            question.Name.TryDecode(_name, out int length);
            string name = new string(_name, 0, length).ToLowerInvariant();
            var w = new DnsWriter(_tx, compressNames: true);
            bool known = addresses.ContainsKey(name) || aliases.ContainsKey(name);
            w.WriteHeader(new DnsHeader(query.Id, IsResponse: true, IsAuthoritativeAnswer: true, IsRecursionDesired: query.IsRecursionDesired,
                ResponseCode: known ? DnsResponseCode.NoError : DnsResponseCode.NameError));
            w.WriteQuestion(name, question.Type);
            if (aliases.TryGetValue(name, out var target))
            {
                w.WriteCanonicalNameRecord(name, target, 60);
                name = target;
            }
            if (question.Type == DnsType.A && addresses.TryGetValue(name, out var list))
                foreach (var a in list) w.WriteAddressRecord(name, a, 60);
            Answered++;
            _endpoint.SendTo(_tx.AsSpan(0, w.Finish()), from, port);
        }
    }
}
