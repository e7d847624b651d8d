using System;

namespace WgTroubleshoot
{
    /// <summary>How a peer's live endpoint compares with what its configured host name resolves to now.</summary>
    public enum EndpointState
    {
        /// <summary>The live endpoint is one of the addresses the name resolves to now, on the configured port.</summary>
        Current,
        /// <summary>The name resolves to other addresses than the live endpoint: the dynamic-DNS address changed.</summary>
        Drifted,
        /// <summary>The name does not resolve now.</summary>
        Unresolvable,
    }

    /// <summary>One peer's dynamic-DNS endpoint check.</summary>
    public sealed class EndpointStatus
    {
        public string Interface { get; set; }
        /// <summary>The peer's public key.</summary>
        public string Peer { get; set; }
        public string Name { get; set; }
        /// <summary>The Endpoint as written in the config (host:port).</summary>
        public string ConfiguredEndpoint { get; set; }
        public string Host { get; set; }
        public int Port { get; set; }
        /// <summary>The endpoint WireGuard uses now.</summary>
        public string LiveEndpoint { get; set; }
        /// <summary>The addresses the host name resolves to now (A and AAAA).</summary>
        public string[] ResolvedAddresses { get; set; } = new string[0];
        /// <summary>Current, Drifted or Unresolvable (see EndpointState), as a string that survives remoting.</summary>
        public string Status { get; set; }
        /// <summary>The endpoint Update-WgEndpoint would apply (address:port), when there is one.</summary>
        public string RecommendedEndpoint { get; set; }
        public DateTime? LatestHandshake { get; set; }
        public TimeSpan? HandshakeAge { get; set; }
        /// <summary>A name that resolves only to an address family this host has no route for.</summary>
        public string AddressFamilyWarning { get; set; }
        /// <summary>The config has SaveConfig = true: wg-quick down will overwrite the host name with an address.</summary>
        public bool SaveConfigRisk { get; set; }
        public string Reason { get; set; }
        /// <summary>The peer's public key again, for binding to -PublicKey.</summary>
        public string PublicKey => Peer;

        public override string ToString() => $"{Interface} {Name ?? Peer}: {ConfiguredEndpoint} {Status}";
    }
}
