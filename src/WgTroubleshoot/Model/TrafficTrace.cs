using System;

namespace WgTroubleshoot
{
    /// <summary>What a short capture of a tunnel's UDP traffic says about one remote endpoint.</summary>
    public enum TrafficVerdict
    {
        /// <summary>Nothing arrived: dropped before this host (upstream or cloud firewall, wrong endpoint) or nobody sent.</summary>
        NothingReceived,
        /// <summary>Handshake initiations arrived and no response left: a local firewall drop or a key this side does not accept.</summary>
        InitiationsUnanswered,
        /// <summary>A handshake completed, but data did not flow both ways.</summary>
        HandshakeWithoutData,
        /// <summary>Data (or keepalives) flowed both ways.</summary>
        Healthy,
    }

    /// <summary>
    /// The WireGuard messages exchanged with one remote endpoint during Trace-WgTraffic, counted by type and
    /// direction (In = arrived at this host's listen port, Out = left it), with a verdict.
    /// </summary>
    public sealed class TrafficTrace
    {
        public string Interface { get; set; }
        /// <summary>This interface's UDP listen port, which the capture watched.</summary>
        public int ListenPort { get; set; }
        /// <summary>The remote ip:port ([ipv6]:port); null when nothing at all was seen.</summary>
        public string RemoteEndpoint { get; set; }
        /// <summary>The public key of the peer whose live endpoint this is; null when no peer has it.</summary>
        public string Peer { get; set; }
        public int InitiationsIn { get; set; }
        public int InitiationsOut { get; set; }
        public int ResponsesIn { get; set; }
        public int ResponsesOut { get; set; }
        public int CookiesIn { get; set; }
        public int CookiesOut { get; set; }
        /// <summary>Transport data messages received, keepalives included.</summary>
        public int DataIn { get; set; }
        /// <summary>Transport data messages sent, keepalives included.</summary>
        public int DataOut { get; set; }
        /// <summary>UDP datagrams on the port that are not WireGuard messages.</summary>
        public int OtherPackets { get; set; }
        public long BytesIn { get; set; }
        public long BytesOut { get; set; }
        /// <summary>First and last packet time (UTC); null when nothing was seen.</summary>
        public DateTime? FirstSeen { get; set; }
        public DateTime? LastSeen { get; set; }
        /// <summary>How long the capture ran.</summary>
        public TimeSpan Duration { get; set; }
        /// <summary>NothingReceived, InitiationsUnanswered, HandshakeWithoutData or Healthy (see TrafficVerdict), as a string that compares the same after remoting.</summary>
        public string Verdict { get; set; }
        public string Reason { get; set; }

        public int PacketsIn => InitiationsIn + ResponsesIn + CookiesIn + DataIn;
        public int PacketsOut => InitiationsOut + ResponsesOut + CookiesOut + DataOut;

        public override string ToString()
            => $"{Interface} {RemoteEndpoint ?? "(no endpoint)"}: {Verdict} ({PacketsIn} in, {PacketsOut} out)";
    }
}
