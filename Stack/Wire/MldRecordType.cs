namespace TcpIpSharp.Wire;

/// <summary>Multicast address record types of an MLDv2 report (RFC 3810 5.2.12).</summary>
public enum MldRecordType : byte
{
    /// <summary>Current state: include the sources listed.</summary>
    ModeIsInclude = 1,
    /// <summary>Current state: exclude the sources listed (with none: a plain join).</summary>
    ModeIsExclude = 2,
    /// <summary>Filter mode change to include (with no sources: leaving the group).</summary>
    ChangeToIncludeMode = 3,
    /// <summary>Filter mode change to exclude (with no sources: joining the group).</summary>
    ChangeToExcludeMode = 4,
    /// <summary>Source list change: allow new sources.</summary>
    AllowNewSources = 5,
    /// <summary>Source list change: block old sources.</summary>
    BlockOldSources = 6,
}
