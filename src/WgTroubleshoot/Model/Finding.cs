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
        /// <summary>A check could not run because a source it needs could not be read (Warning or above).</summary>
        CheckNotRun,
        FirewallBlocksReplies,
        TunnelInputBlocked,
        ReversePathFilter,
        EndpointRoutedIntoTunnel,
        AllowedIpsConflict,
        ListenPortInUse,
        SharedKeyPair,
        HookRulesMissing,
        StaleConntrack,
        MssClampMissing,
        HandshakeReplay,
        NoKeepaliveBehindNat,
        ReturnPathBlocked,
        ResolverMissing,
        LocalSubnetConflict,
    }
}

namespace WgTroubleshoot
{
    /// <summary>One diagnosis finding: what is wrong, the evidence, and the exact fix.</summary>
    public sealed class Finding
    {
        /// <summary>Stable identifier of the check that produced it (e.g. WGD-FIREWALL-BLOCKS).</summary>
        public string Id { get; set; }
        /// <summary>Error, Warning or Info (see the Severity enum); strings survive remoting intact.</summary>
        public string Severity { get; set; }
        public string Interface { get; set; }
        /// <summary>The peer's public key, when the finding is about one peer.</summary>
        public string Peer { get; set; }
        public string PeerName { get; set; }
        /// <summary>One of the documented Cause names (see the Cause enum).</summary>
        public string Cause { get; set; }
        public string Summary { get; set; }
        /// <summary>What was measured, in words and values.</summary>
        public string[] Evidence { get; set; } = new string[0];
        /// <summary>The exact cmdlet call that fixes it, when one exists; otherwise what a human should do.</summary>
        public string Remediation { get; set; }
        /// <summary>True when Repair-WgIssue can apply the remediation.</summary>
        public bool CanRepair { get; set; }
        /// <summary>Which side of the tunnel this was seen on (Client, Server, Host).</summary>
        public string Role { get; set; }
        public DateTime Timestamp { get; set; } = DateTime.UtcNow;

        /// <summary>Repair parameters (e.g. port, MTU, uplink), as text, for Repair-WgIssue after remoting too.</summary>
        public string[] RepairData { get; set; } = new string[0];

        /// <summary>
        /// For a finding that several peers share (folded into one): the public key of every peer concerned.
        /// Empty for a finding about one peer (see <see cref="Peer"/>) or none.
        /// </summary>
        public string[] Peers { get; set; } = new string[0];

        /// <summary>The check that produced the finding (not part of the output contract; not serialized by remoting).</summary>
        internal string CheckName { get; set; }

        /// <summary>How a folded finding of many peers describes them ("have never connected"); null: generic text.</summary>
        internal string FoldSummary { get; set; }

        public override string ToString() => $"[{Severity}] {Interface}: {Cause}: {Summary}";
    }
}
