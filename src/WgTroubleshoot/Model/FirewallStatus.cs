namespace WgTroubleshoot
{
    /// <summary>
    /// The values of <see cref="FirewallStatus.Verdict"/>: Allowed, Blocked, or Unknown (a rule tests something that
    /// cannot be known here, or a rule was not understood). Strings, so that filters such as
    /// `Where-Object Verdict -eq Blocked` also work on objects deserialized by remoting.
    /// </summary>
    public static class FirewallVerdict
    {
        public const string Allowed = "Allowed";
        public const string Blocked = "Blocked";
        public const string Unknown = "Unknown";
    }

    /// <summary>What one host firewall backend does with inbound WireGuard (UDP) traffic and with forwarded tunnel traffic.</summary>
    public sealed class FirewallStatus
    {
        /// <summary>nftables, iptables-nft, iptables-legacy, ip6tables-nft, ip6tables-legacy, ufw or firewalld.</summary>
        public string Backend { get; set; }
        public bool Active { get; set; }
        /// <summary>The WireGuard interface the port belongs to; null when only -Port was given.</summary>
        public string Interface { get; set; }
        public int Port { get; set; }
        public string Protocol { get; set; } = "udp";
        /// <summary>True or false when the walk is certain; null when it is not.</summary>
        public bool? InboundAllowed { get; set; }
        /// <summary>Allowed, Blocked or Unknown (see <see cref="FirewallVerdict"/>).</summary>
        public string Verdict { get; set; } = FirewallVerdict.Unknown;
        /// <summary>The evidence: the rule that decided, or the policy ("policy drop of chain input (inet filter)").</summary>
        public string DecidingRule { get; set; }
        /// <summary>An accept for TCP on the port while UDP is not allowed: WireGuard needs UDP.</summary>
        public string TcpOnlyRule { get; set; }
        /// <summary>Whether traffic forwarded from and to the WireGuard interface passes; null when unknown.</summary>
        public bool? ForwardAllowed { get; set; }
        public string[] Notes { get; set; } = new string[0];

        public override string ToString()
            => $"{Backend}: UDP {Port} {Verdict}" + (DecidingRule != null ? $" ({DecidingRule})" : "");
    }
}
