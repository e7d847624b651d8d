using System;

namespace WgTroubleshoot
{
    /// <summary>How bad a finding is; diagnosis output is sorted most severe first.</summary>
    public enum Severity
    {
        Info = 0,
        Warning = 1,
        Error = 2,
    }

    /// <summary>
    /// The documented root causes that scripts filter on (about_WgTroubleshoot lists them with their meaning).
    /// Values are stable: new causes are only ever added.
    /// </summary>
    public enum Cause
    {
        None = 0,
        FirewallBlocksPort,
        TcpOnlyFirewallRule,
        EndpointUnreachable,
        KeyMismatch,
        PresharedKeyMismatch,
        AllowedIpsMismatch,
        StaleEndpoint,
        MtuBlackhole,
        ForwardingDisabled,
        NatMissing,
        ForwardPathBlocked,
        InterfaceDown,
        ConfigError,
        PortMismatch,
        UpstreamFilter,
        AddressFamilyMismatch,
        Healthy,
    }
}
