using System.Runtime.Versioning;

// The TAP and pcap-live links and the network-namespace helper call Linux system interfaces (CA1416).
[assembly: SupportedOSPlatform("linux")]
