using TcpIpSharp.Transport.Tcp;
using static TcpIpSharp.Sockets.SelectModule;
using static TcpIpSharp.Sockets.SocketModule;

namespace TcpIpSharp.Sockets;

public sealed partial class Socket
{
    internal StackDriver Driver => _driver;

    // Under the gate: the poll events that hold now, from those asked (POLLERR, POLLHUP, POLLNVAL are always reported).
    internal int Readiness(int events)
    {
        if (_closed) return POLLNVAL;
        int ready = 0;
        switch (Type)
        {
            case SOCK_STREAM:
                if (_listener is not null)
                {
                    if (_listener.Pending > 0) ready |= POLLIN;
                    break;
                }
                if (_connection is not { } c) { ready |= POLLHUP; break; }
                switch (c.State)
                {
                    case TcpState.SynSent or TcpState.SynReceived:
                        break;
                    case TcpState.Closed:
                        if (c.Available > 0) ready |= POLLIN;
                        // A reset, refusal or timeout: error and hang-up (and readable: the next recv reports it).
                        if (c.Error != NetError.None) ready |= POLLERR | POLLHUP | POLLIN;
                        else ready |= POLLHUP | POLLIN;
                        break;
                    default:
                        if (c.Available > 0 || c.IsEndOfStream) ready |= POLLIN;
                        if (c.SendSpace > 0) ready |= POLLOUT;
                        if (c.IsEndOfStream && !c.IsSendOpen) ready |= POLLHUP;
                        break;
                }
                break;
            case SOCK_DGRAM:
                ready |= POLLOUT;
                if (_udp is not null)
                {
                    if (_udp.QueuedDatagrams > 0) ready |= POLLIN;
                    if (_udp.PendingError != NetError.None) ready |= POLLERR;
                }
                break;
            default:
                ready |= POLLOUT;
                if (_raw!.Count > 0) ready |= POLLIN;
                break;
        }
        return ready & (events | POLLERR | POLLHUP | POLLNVAL);
    }
}
