namespace TcpIpSharp.Wire;

/// <summary>IGMP message types (RFC 1112, RFC 2236, RFC 3376 4).</summary>
public enum IgmpType : byte
{
    /// <summary>Membership Query, of any version (the length and the Max Resp Code tell which, RFC 3376 7.1).</summary>
    MembershipQuery = 0x11,
    /// <summary>Version 1 Membership Report (RFC 1112).</summary>
    V1MembershipReport = 0x12,
    /// <summary>Version 2 Membership Report (RFC 2236).</summary>
    V2MembershipReport = 0x16,
    /// <summary>Version 2 Leave Group (RFC 2236).</summary>
    LeaveGroup = 0x17,
    /// <summary>Version 3 Membership Report (RFC 3376 4.2).</summary>
    V3MembershipReport = 0x22,
}
