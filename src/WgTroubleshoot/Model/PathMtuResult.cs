using System;
using WgTroubleshoot.Mtu;

namespace WgTroubleshoot
{
    /// <summary>What Measure-WgPathMtu found on the underlay path to one peer's endpoint (or one destination).</summary>
    public sealed class PathMtuResult
    {
        public string Interface { get; set; }
        /// <summary>The peer's public key; null for -Destination.</summary>
        public string Peer { get; set; }
        /// <summary>The address probed (the peer's endpoint address).</summary>
        public string Destination { get; set; }
        /// <summary>Measured, LowerBound (time ran out) or Unknown (the destination answers no ping).</summary>
        public PathMtuStatus Status { get; set; }
        /// <summary>The largest IP packet that crosses the path with DF set; null when unknown.</summary>
        public int? PathMtu { get; set; }
        /// <summary>The local route's MTU toward the destination (the route's mtu attribute, else the device's).</summary>
        public int? RouteMtu { get; set; }
        /// <summary>The device the route leaves through.</summary>
        public string RouteDevice { get; set; }
        /// <summary>The tunnel interface's current MTU.</summary>
        public int? TunnelMtu { get; set; }
        /// <summary>PathMtu minus WireGuard's overhead: 60 for an IPv4 endpoint, 80 for IPv6.</summary>
        public int? RecommendedMtu { get; set; }
        /// <summary>A path MTU of exactly 1492 is the signature of PPPoE.</summary>
        public bool PppoeLikely { get; set; }
        /// <summary>Packets that fail silently with no "fragmentation needed" coming back.</summary>
        public bool Blackhole { get; set; }
        /// <summary>The address probed across the tunnel; null when there was none.</summary>
        public string TunnelTarget { get; set; }
        /// <summary>A packet of the tunnel's MTU with DF set crosses the tunnel; null when not tested.</summary>
        public bool? FullSizePassesInTunnel { get; set; }
        /// <summary>Packets sent for the path search.</summary>
        public int Probes { get; set; }
        /// <summary>Rounds of probes sent together (each probe is a round for the sequential search).</summary>
        public int Rounds { get; set; }
        /// <summary>How long the measurement took.</summary>
        public TimeSpan Elapsed { get; set; }
        public string[] Evidence { get; set; } = new string[0];

        public override string ToString()
            => $"{Interface ?? "-"} {Destination}: path MTU {(PathMtu.HasValue ? PathMtu.Value.ToString() : "unknown")}"
               + (RecommendedMtu.HasValue ? $", recommended tunnel MTU {RecommendedMtu}" : "")
               + (TunnelMtu.HasValue ? $" (now {TunnelMtu})" : "");
    }
}
