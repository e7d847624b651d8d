namespace WgTroubleshoot
{
    /// <summary>Whether this host forwards (and masquerades) traffic from a WireGuard tunnel, and why not.</summary>
    public sealed class ForwardingStatus
    {
        public string Interface { get; set; }
        /// <summary>The tunnel's subnets (the interface's addresses, as networks).</summary>
        public string[] TunnelSubnets { get; set; } = new string[0];
        /// <summary>net.ipv4.ip_forward now.</summary>
        public bool? IPv4Forwarding { get; set; }
        /// <summary>net.ipv6.conf.all.forwarding now; null without IPv6.</summary>
        public bool? IPv6Forwarding { get; set; }
        /// <summary>net.ipv4.ip_forward after a reboot (the last persistent setting); null when no file sets it (off).</summary>
        public bool? IPv4ForwardingPersistent { get; set; }
        public string IPv4PersistentSource { get; set; }
        public bool? IPv6ForwardingPersistent { get; set; }
        public string IPv6PersistentSource { get; set; }
        /// <summary>The interface of the IPv4 default route.</summary>
        public string Uplink { get; set; }
        /// <summary>The interface of the IPv6 default route.</summary>
        public string Uplink6 { get; set; }
        /// <summary>Traffic from the tunnel subnet is masqueraded (or SNATed) out of the uplink.</summary>
        public bool Masquerade { get; set; }
        public string MasqueradeRule { get; set; }
        /// <summary>The forward path drops tunnel traffic (policy drop without an accept for it).</summary>
        public bool ForwardBlocked { get; set; }
        public string ForwardBlockedBy { get; set; }
        /// <summary>ufw's DEFAULT_FORWARD_POLICY when ufw is installed.</summary>
        public string UfwForwardPolicy { get; set; }
        /// <summary>net.ipv4.conf.all.src_valid_mark (wg-quick sets it with a fwmark default route).</summary>
        public bool? SrcValidMark { get; set; }
        /// <summary>Ok, or the first problem: ForwardingDisabled, ForwardBlocked, NatMissing, NoUplink, NotPersistent.</summary>
        public string Verdict { get; set; }
        public string[] Problems { get; set; } = new string[0];
        public string[] Evidence { get; set; } = new string[0];

        public override string ToString() => $"{Interface ?? "(host)"}: {Verdict}";
    }
}
