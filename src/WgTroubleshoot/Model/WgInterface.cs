using System;

namespace WgTroubleshoot
{
    /// <summary>A live WireGuard interface, as `wg show` and `ip` see it.</summary>
    public sealed class WgInterface
    {
        /// <summary>Interface name, e.g. wg0.</summary>
        public string Name { get; set; }
        /// <summary>Same as <see cref="Name"/>; lets interface objects bind to -Interface parameters.</summary>
        public string Interface => Name;
        /// <summary>The interface's public key (base64); recorded as one that output may show (see the key redactor).</summary>
        public string PublicKey { get => _publicKey; set { _publicKey = value; Keys.KeyRedactor.RememberPublicKey(value); } }
        private string _publicKey;
        /// <summary>UDP port WireGuard listens on; null when none is bound yet.</summary>
        public int? ListenPort { get; set; }
        /// <summary>Firewall mark as hex (0x...), or null when off.</summary>
        public string FwMark { get; set; }
        public int? Mtu { get; set; }
        /// <summary>Addresses on the interface, in CIDR form.</summary>
        public string[] Addresses { get; set; } = new string[0];
        /// <summary>Up, Down, or NoCarrier, from the link flags `ip` reports (UP, LOWER_UP).</summary>
        public string LinkState { get; set; }
        /// <summary>True when the link is administratively up.</summary>
        public bool IsUp { get; set; }
        public int PeerCount { get; set; }
        /// <summary>The wg-quick configuration file for this interface, when one exists.</summary>
        public string ConfigPath { get; set; }
        /// <summary>Where the state came from: "wg" or "uapi" (the userspace socket).</summary>
        public string Source { get; set; }

        public override string ToString()
            => $"{Name} ({(IsUp ? "up" : "down")}, port {(ListenPort.HasValue ? ListenPort.Value.ToString() : "none")}, {PeerCount} peer{(PeerCount == 1 ? "" : "s")})";
    }

    /// <summary>A live WireGuard peer of one interface.</summary>
    public sealed class WgPeer
    {
        public string Interface { get; set; }
        /// <summary>The peer's public key (base64); recorded as one that output may show (see the key redactor).</summary>
        public string PublicKey { get => _publicKey; set { _publicKey = value; Keys.KeyRedactor.RememberPublicKey(value); } }
        private string _publicKey;
        /// <summary>The peer's label: the comment line directly above its [Peer] section in the config.</summary>
        public string Name { get; set; }
        /// <summary>The current endpoint (ip:port or [ipv6]:port), or null when none is known.</summary>
        public string Endpoint { get; set; }
        public string[] AllowedIPs { get; set; } = new string[0];
        /// <summary>Time of the latest handshake in UTC; null when there never was one.</summary>
        public DateTime? LatestHandshake { get; set; }
        /// <summary>Time since the latest handshake; null when there never was one.</summary>
        public TimeSpan? HandshakeAge { get; set; }
        public long RxBytes { get; set; }
        public long TxBytes { get; set; }
        /// <summary>Persistent keepalive interval in seconds; null when off.</summary>
        public int? PersistentKeepalive { get; set; }
        public bool HasPresharedKey { get; set; }

        public override string ToString()
            => $"{Interface} peer {Name ?? PublicKey} ({(LatestHandshake.HasValue ? "handshake " + Format.Age(HandshakeAge) : "no handshake")})";
    }
}
