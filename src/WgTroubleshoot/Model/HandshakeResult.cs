using System;

namespace WgTroubleshoot
{
    /// <summary>How a peer's session stands, judged with WireGuard's own timers.</summary>
    public enum HandshakeStatus
    {
        /// <summary>A usable session: the latest handshake is within Reject-After-Time (180 s).</summary>
        Healthy,
        /// <summary>No usable session, but nothing tries to send: quiet by design, not a fault.</summary>
        Idle,
        /// <summary>The latest handshake is older than 180 s while this side sends traffic or keepalives.</summary>
        Stale,
        /// <summary>Never a handshake, while this side tries (it has an endpoint and sends traffic or keepalives).</summary>
        NeverEstablished,
        /// <summary>Never a handshake and no endpoint known: a server waiting for its client to connect.</summary>
        AwaitingPeer,
    }

    /// <summary>One peer's handshake verdict with its evidence.</summary>
    public sealed class HandshakeResult
    {
        public string Interface { get; set; }
        /// <summary>The peer's public key.</summary>
        public string Peer { get; set; }
        public string Name { get; set; }
        public string Endpoint { get; set; }
        public DateTime? LatestHandshake { get; set; }
        public TimeSpan? HandshakeAge { get; set; }
        /// <summary>Healthy, Idle, Stale, NeverEstablished or AwaitingPeer (see HandshakeStatus); a string so it
        /// compares the same after remoting's serialization.</summary>
        public string Status { get; set; }
        /// <summary>True when a liveness probe sent into the tunnel got no answer (data goes out, nothing comes back); never for keepalives alone.</summary>
        public bool OneWay { get; set; }
        public string Reason { get; set; }
        public long RxDelta { get; set; }
        public long TxDelta { get; set; }
        public int? PersistentKeepalive { get; set; }
        public double SampleSeconds { get; set; }
        /// <summary>The peer's public key again, so results bind to -PublicKey of the next cmdlet.</summary>
        public string PublicKey => Peer;

        public override string ToString() => $"{Interface} {Name ?? Peer}: {Status}";
    }
}
