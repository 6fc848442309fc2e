using SharpPcap;
using SharpPcap.LibPcap;

namespace TcpIpSharp.Tests.Wire;

public class WireVectorsTests
{
    [Test]
    public void Embedded_frames_are_byte_for_byte_the_frames_in_the_shared_captures()
    {
        string captures = SharedCaptures.Folder();
        foreach (var (name, bytes, capture, frame) in WireVectors.All)
        {
            using var device = new CaptureFileReaderDevice(Path.Combine(captures, capture));
            device.Open(new DeviceConfiguration());
            byte[]? found = null;
            for (int n = 1; device.GetNextPacket(out PacketCapture e) == GetPacketStatus.PacketRead; n++)
            {
                if (n == frame)
                {
                    found = e.Data.ToArray();
                    break;
                }
            }
            Assert.That(found, Is.EqualTo(bytes), $"{name}: {capture} frame {frame}");
        }
    }
}
