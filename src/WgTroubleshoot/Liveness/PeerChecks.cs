using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Net.Sockets;

namespace WgTroubleshoot.Liveness
{
    /// <summary>
    /// One check per cause over <see cref="PeerFacts"/>. A check that explains a peer's failure adds the peer to
    /// <c>explained</c>, so a later, less specific verdict (EndpointUnreachable) is not given for it too.
    /// </summary>
    public interface IPeerCheck
    {
        IEnumerable<Finding> Judge(PeerFacts facts, ISet<string> explained);
    }

    /// <summary>The peer checks in the order that finds root causes first.</summary>
    public static class PeerCheckCatalog
    {
        public static readonly IReadOnlyList<IPeerCheck> All = new IPeerCheck[]
        {
            new ListenPortInUseCheck(),
            new EndpointRoutedIntoTunnelCheck(),
            new AddressFamilyMismatchCheck(),
            new AllowedIpsConflictCheck(),
            new SharedKeyPairCheck(),
            new ResolverMissingCheck(),
        };

        public static List<Finding> Run(PeerFacts facts, ISet<string> explained)
        {
            var list = new List<Finding>();
            foreach (var c in All) list.AddRange(c.Judge(facts, explained));
            return list;
        }

        internal static bool NotWorking(PeerFacts f, string peer)
        {
            if (!f.Handshakes.TryGetValue(peer, out var h)) return false;
            return h.Status == nameof(HandshakeStatus.NeverEstablished) || h.Status == nameof(HandshakeStatus.Stale) || h.OneWay;
        }
    }

    /// <summary>EndpointRoutedIntoTunnel: the route to a peer's endpoint leaves by the tunnel itself (a loop).</summary>
    public sealed class EndpointRoutedIntoTunnelCheck : IPeerCheck
    {
        public IEnumerable<Finding> Judge(PeerFacts f, ISet<string> explained)
        {
            foreach (var p in f.LivePeers)
            {
                // With a fwmark, WireGuard's own packets are policy-routed (wg-quick's rules): a plain lookup says nothing.
                if (f.HasFwMark) continue;
                if (!f.EndpointRoutes.TryGetValue(p.PublicKey, out var r) || !r.Success) continue;
                if (!string.Equals(r.Device, f.Interface, StringComparison.Ordinal)) continue;
                explained.Add(p.PublicKey);
                var up = EndpointRouteRepair.UplinkGateway(r.Destination.Contains(":") ? f.DefaultRoutes6 : f.DefaultRoutes4, f.Interface);
                var gw = up != null ? $"{up.Item1} dev {up.Item2}" : "the previous gateway";
                yield return new Finding
                {
                    Id = "WGD310", Severity = "Error", Cause = nameof(Cause.EndpointRoutedIntoTunnel), Peer = p.PublicKey,
                    Summary = $"The route to {p.Name ?? "the peer"}'s endpoint {r.Destination} goes into {f.Interface} itself: the encrypted packets loop inside the tunnel and never reach the wire.",
                    Evidence = new[]
                    {
                        $"ip route get {r.Destination}{(r.Mark != null ? " mark " + r.Mark : "")}: {r.Line}",
                        $"wg show {f.Interface} fwmark: {f.FwMark ?? "off"}" + (r.Mark == null ? " (no fwmark policy routing keeps WireGuard's own packets out of the tunnel)" : ""),
                        "Handshake: " + (f.Handshakes.TryGetValue(p.PublicKey, out var h) ? h.Reason : "no data"),
                    },
                    Remediation = up != null
                        ? $"Repair-WgIssue adds a host route to {r.Destination} via {gw} (ip route replace {r.Destination} via {up.Item1} dev {up.Item2}); or use wg-quick's fwmark policy routing (Table = auto)."
                        : $"Add a host route to {r.Destination} via the uplink's gateway (ip route add {r.Destination} via <gateway> dev <uplink>), or use wg-quick's fwmark policy routing (Table = auto).",
                    CanRepair = up != null,
                    RepairData = up != null ? new[] { "Interface=" + f.Interface, "Endpoint=" + r.Destination, "Via=" + up.Item1, "Dev=" + up.Item2 } : new string[0],
                };
            }
        }
    }

    /// <summary>
    /// AddressFamilyMismatch: the endpoint is of an address family this host has no route for, while it routes the
    /// other family. When it routes neither family, nothing of either family can be sent: that is no route at all
    /// (EndpointUnreachable, WGD305), and another DNS record would not help.
    /// </summary>
    public sealed class AddressFamilyMismatchCheck : IPeerCheck
    {
        /// <summary>The Id of the EndpointUnreachable finding for an endpoint this host has no route of either family to.</summary>
        public const string NoRouteId = "WGD305";

        /// <summary>The EndpointUnreachable (WGD305) finding of a peer this host has no route to: the failed lookup, why, the handshake.</summary>
        private static Finding NoRoute(PeerFacts f, WgPeer p, string lookup, string summary, string why, string remediation, string fold) => new Finding
        {
            Id = NoRouteId, Severity = "Error", Cause = nameof(Cause.EndpointUnreachable), Peer = p.PublicKey,
            Summary = summary,
            Evidence = new[] { $"Live endpoint {p.Endpoint}; {lookup}", why, "Handshake: " + (f.Handshakes.TryGetValue(p.PublicKey, out var h) ? h.Reason : "no data") },
            Remediation = remediation,
            CanRepair = false,
            FoldSummary = fold,
        };

        public IEnumerable<Finding> Judge(PeerFacts f, ISet<string> explained)
        {
            foreach (var p in f.LivePeers)
            {
                if (explained.Contains(p.PublicKey)) continue;
                if (!f.EndpointRoutes.TryGetValue(p.PublicKey, out var r) || r.Success) continue;
                var addr = PeerFactsCollector.EndpointAddress(p.Endpoint);
                bool v6 = addr != null && addr.AddressFamily == AddressFamily.InterNetworkV6;
                string family = v6 ? "IPv6" : "IPv4", otherFamily = v6 ? "IPv4" : "IPv6";
                var lookup = $"ip {(v6 ? "-6" : "-4")} route get {r.Destination}: {r.Line}";
                var own = v6 ? f.Route6 : f.Route4;
                if (own != null)
                {
                    // The host routes this family, and the lookup of this one address fails: a blackhole, unreachable
                    // or prohibit route (or an ip rule) swallows it. Said only for a peer that does not work, and not
                    // with a fwmark (WireGuard's own packets are policy-routed then: a plain lookup says nothing).
                    if (!PeerCheckCatalog.NotWorking(f, p.PublicKey) || f.HasFwMark) continue;
                    explained.Add(p.PublicKey);
                    yield return NoRoute(f, p, lookup,
                        $"This host has no route to {p.Name ?? "the peer"}'s endpoint {r.Destination}, although it routes {family}: a route or rule of its own swallows the packets before they reach the wire.",
                        $"{family} routes here: {own}",
                        $"Find the route or rule that catches {r.Destination} (ip {(v6 ? "-6 " : "")}route show table all | grep -F '{r.Destination}'; ip {(v6 ? "-6 " : "")}rule show) and remove it if nothing meant to block this peer (a blackhole left by a ban tool is the usual one), then check the handshake again.",
                        "have endpoints that a route or rule of this host swallows (ip route get fails although the family is routed).");
                    continue;
                }
                var other = v6 ? f.Route4 : f.Route6;
                var cp = f.ConfiguredPeers.FirstOrDefault(c => c.PublicKey == p.PublicKey);
                f.Resolved.TryGetValue(p.PublicKey, out var resolved);
                f.Handshakes.TryGetValue(p.PublicKey, out var h);
                explained.Add(p.PublicKey);
                if (other == null)
                {
                    yield return NoRoute(f, p, lookup,
                        $"This host has no route to {p.Name ?? "the peer"}'s endpoint {p.Endpoint}, and no route of either address family: nothing can be sent to any endpoint.",
                        $"No IPv4 and no IPv6 default route, and no looked-up destination of either family routes (ip -4 route show default: {Shown(f.DefaultRoutes4)}; ip -6 route show default: {Shown(f.DefaultRoutes6)})",
                        $"Give this host a route towards {r.Destination} (a default route via the uplink's gateway: ip {(v6 ? "-6 " : "")}route add default via <gateway> dev <uplink>), then check the handshake again.",
                        "have endpoints this host has no route to: it has no default route of either address family.");
                    continue;
                }
                var ev = new List<string>
                {
                    $"Live endpoint {p.Endpoint}; {lookup}; no {family} default route",
                    $"{otherFamily} routes here: {other}",
                };
                if (cp?.EndpointHost != null && resolved != null)
                    ev.Add($"'{cp.EndpointHost}' resolves to {(resolved.Length == 0 ? "nothing" : string.Join(", ", resolved))}: only {(v6 ? "IPv6 (AAAA)" : "IPv4 (A)")} records.");
                if (h != null) ev.Add("Handshake: " + h.Reason);
                yield return new Finding
                {
                    Id = "WGD303", Severity = "Error", Cause = nameof(Cause.AddressFamilyMismatch), Peer = p.PublicKey,
                    Summary = $"{p.Name ?? "The peer"}'s endpoint {p.Endpoint} is {family}, and this host has no {family} route to it (it routes only {otherFamily}): nothing can be sent there."
                              + (cp?.EndpointHost != null ? $" '{cp.EndpointHost}' resolves only to that family." : ""),
                    Evidence = ev.ToArray(),
                    Remediation = v6 ? "Publish an A record for the endpoint name (or use a name or address of IPv4), or give this host IPv6 connectivity."
                                     : "Publish an AAAA record for the endpoint name (or use an IPv6 address), or give this host IPv4 connectivity.",
                    CanRepair = false,
                };
            }
        }

        private static string Shown(string text) => string.IsNullOrWhiteSpace(text) ? "(none)" : text.Split('\n')[0].Trim();
    }

    /// <summary>AllowedIpsConflict: a prefix configured for one peer is live on another peer (the later peer took it).</summary>
    public sealed class AllowedIpsConflictCheck : IPeerCheck
    {
        public IEnumerable<Finding> Judge(PeerFacts f, ISet<string> explained)
        {
            var live = f.LivePeers.ToDictionary(p => p.PublicKey, p => new HashSet<string>((p.AllowedIPs ?? new string[0]).Select(Norm), StringComparer.OrdinalIgnoreCase), StringComparer.Ordinal);
            foreach (var cp in f.ConfiguredPeers)
            {
                if (!live.TryGetValue(cp.PublicKey, out var mine)) continue;
                foreach (var prefix in cp.AllowedIPs.Select(Norm).Distinct(StringComparer.OrdinalIgnoreCase))
                {
                    if (mine.Contains(prefix)) continue;
                    var taker = f.LivePeers.FirstOrDefault(o => o.PublicKey != cp.PublicKey && live[o.PublicKey].Contains(prefix));
                    if (taker == null) continue;
                    var livePeer = f.LivePeers.First(p => p.PublicKey == cp.PublicKey);
                    explained.Add(cp.PublicKey);
                    var takerName = taker.Name ?? f.ConfiguredPeers.FirstOrDefault(c => c.PublicKey == taker.PublicKey)?.Name ?? taker.PublicKey;
                    yield return new Finding
                    {
                        Id = "WGD420", Severity = "Error", Cause = nameof(Cause.AllowedIpsConflict), Peer = cp.PublicKey,
                        Summary = $"{prefix} is configured for {cp.Name ?? cp.PublicKey} but live on {takerName}: two peers claim the same AllowedIPs, and WireGuard gives a prefix to the peer set last, so traffic for {prefix} goes to {takerName}.",
                        Evidence = new[]
                        {
                            $"Configured AllowedIPs of {cp.Name ?? cp.PublicKey}: {string.Join(", ", cp.AllowedIPs)}",
                            $"Live allowed-ips of {cp.Name ?? cp.PublicKey}: {(livePeer.AllowedIPs == null || livePeer.AllowedIPs.Length == 0 ? "(none)" : string.Join(", ", livePeer.AllowedIPs))}",
                            $"Live allowed-ips of {takerName} ({taker.PublicKey}): {string.Join(", ", taker.AllowedIPs)}",
                        },
                        Remediation = $"Give each peer a unique prefix: which peer {prefix} belongs to is a human's call (wg show {f.Interface} allowed-ips).",
                        CanRepair = false,
                    };
                    break;
                }
            }
        }

        private static string Norm(string p)
        {
            var c = TunnelProbe.ParsePrefix(p);
            return c == null ? p.Trim() : c.ToString();
        }
    }

    /// <summary>ListenPortInUse: the configured listen port is owned by another socket, and WireGuard listens elsewhere.</summary>
    public sealed class ListenPortInUseCheck : IPeerCheck
    {
        public IEnumerable<Finding> Judge(PeerFacts f, ISet<string> explained)
        {
            if (!f.ConfiguredListenPort.HasValue || f.ConfiguredListenPort == f.LiveListenPort || f.ListenPortSockets == null) yield break;
            var owners = SocketOwner.Parse(f.ListenPortSockets);
            if (owners.Count == 0) yield break;
            foreach (var p in f.LivePeers) explained.Add(p.PublicKey);
            yield return new Finding
            {
                Id = "WGD260", Severity = "Error", Cause = nameof(Cause.ListenPortInUse),
                Summary = $"UDP {f.ConfiguredListenPort} (ListenPort in the configuration) is owned by another socket; {f.Interface} listens on {(f.LiveListenPort.HasValue ? f.LiveListenPort.Value.ToString(CultureInfo.InvariantCulture) : "no port")}, so peers that send to {f.ConfiguredListenPort} reach the other program.",
                Evidence = new[]
                {
                    $"ss -ulpn 'sport = :{f.ConfiguredListenPort}': " + string.Join("; ", owners.Select(o => o.ToString())),
                    $"wg show {f.Interface} listen-port: {(f.LiveListenPort.HasValue ? f.LiveListenPort.Value.ToString(CultureInfo.InvariantCulture) : "(none)")}",
                },
                Remediation = $"Stop the other program or choose another ListenPort (and tell the peers); then re-apply the configuration of {f.Interface}.",
                CanRepair = false,
            };
        }
    }

    /// <summary>SharedKeyPair: the endpoint of one public key flips back and forth between addresses within seconds.</summary>
    public sealed class SharedKeyPairCheck : IPeerCheck
    {
        public IEnumerable<Finding> Judge(PeerFacts f, ISet<string> explained)
        {
            foreach (var kv in f.EndpointSamples)
            {
                var seq = Collapse(kv.Value);
                // A move is roaming; a return to an address already left is two devices taking turns.
                bool flipsBack = false;
                for (int i = 2; i < seq.Count && !flipsBack; i++)
                    if (seq.Take(i - 1).Contains(seq[i])) flipsBack = true;
                if (!flipsBack) continue;
                var distinct = seq.Distinct().ToList();
                var name = f.LivePeers.FirstOrDefault(p => p.PublicKey == kv.Key)?.Name;
                yield return new Finding
                {
                    Id = "WGD430", Severity = "Warning", Cause = nameof(Cause.SharedKeyPair), Peer = kv.Key,
                    Summary = $"The endpoint of {name ?? kv.Key} flips between {string.Join(" and ", distinct)} within seconds: two devices use the same key pair and take the session from each other.",
                    Evidence = new[] { string.Format(CultureInfo.InvariantCulture, "Live endpoint in {0} reads over {1:0.#} s: {2}", f.EndpointReads.TryGetValue(kv.Key, out var reads) ? reads : kv.Value.Count, f.EndpointSampleSeconds, string.Join(" -> ", seq)) },
                    Remediation = "Give every device its own key pair (wg genkey) and its own [Peer] section.",
                    CanRepair = false,
                };
            }
        }

        private static List<string> Collapse(IEnumerable<string> s)
        {
            var l = new List<string>();
            foreach (var e in s) if (l.Count == 0 || l[l.Count - 1] != e) l.Add(e);
            return l;
        }
    }

    /// <summary>ResolverMissing: DNS = in a wg-quick configuration and no resolvconf program to apply it.</summary>
    public sealed class ResolverMissingCheck : IPeerCheck
    {
        public IEnumerable<Finding> Judge(PeerFacts f, ISet<string> explained)
        {
            if (f.ConfiguredDns.Length == 0 || f.ResolvconfAvailable != false) yield break;
            yield return new Finding
            {
                Id = "WGD320", Severity = "Warning", Cause = nameof(Cause.ResolverMissing),
                Summary = $"The configuration of {f.Interface} sets DNS = {string.Join(", ", f.ConfiguredDns)}, and there is no resolvconf: `wg-quick up` fails (exit 127) and removes the interface.",
                Evidence = new[] { "DNS = " + string.Join(", ", f.ConfiguredDns), "command -v resolvconf: not found on PATH" },
                Remediation = "Install openresolv (or systemd-resolved's resolvconf), or drop DNS = and set the resolver in PostUp with resolvectl.",
                CanRepair = false,
            };
        }
    }

    /// <summary>
    /// Liveness verdicts from the probe: a fresh handshake whose peer does not answer a packet sent into the tunnel
    /// is not healthy.
    /// </summary>
    public sealed class LivenessCheck : IPeerCheck
    {
        public IEnumerable<Finding> Judge(PeerFacts f, ISet<string> explained)
        {
            foreach (var pr in f.Probes.Values)
            {
                if (explained.Contains(pr.Peer)) continue;
                if (!f.Handshakes.TryGetValue(pr.Peer, out var h)) continue;
                var cp = f.ConfiguredPeers.FirstOrDefault(c => c.PublicKey == pr.Peer);
                var live = f.LivePeers.FirstOrDefault(p => p.PublicKey == pr.Peer);
                if (!pr.WasSent)
                {
                    yield return new Finding
                    {
                        Id = "WGD902", Severity = "Warning", Cause = nameof(Cause.CheckNotRun), Peer = pr.Peer,
                        Summary = $"Liveness of {h.Name ?? pr.Peer} is not proven: the counters did not show two-way traffic and no probe could be sent.",
                        Evidence = new[] { "Handshake: " + h.Reason, pr.Evidence },
                    };
                    continue;
                }
                if (pr.Answered) continue;
                bool initiator = cp != null ? !string.IsNullOrEmpty(cp.Endpoint) : !f.IsServer;
                explained.Add(pr.Peer);
                yield return new Finding
                {
                    Id = initiator ? "WGD304" : "WGD903", Severity = initiator ? "Error" : "Info", Cause = nameof(Cause.EndpointUnreachable), Peer = pr.Peer,
                    Summary = initiator
                        ? $"{h.Name ?? "The peer"} at {live?.Endpoint ?? h.Endpoint} does not receive now: a packet sent into the tunnel got no answer, although the latest handshake is {Format.Age(h.HandshakeAge)} old (a fresh handshake proves nothing about the last two minutes)."
                        : $"{h.Name ?? "The client"} does not answer now (last seen at {live?.Endpoint ?? "(none)"}, handshake {Format.Age(h.HandshakeAge)}): it may have gone offline or moved.",
                    Evidence = new[] { "Handshake: " + h.Reason, pr.Evidence },
                    Remediation = initiator
                        ? "Check that the peer is up at that address and port (Test-WgEndpoint, Invoke-WgDiagnosis on the other side); a dynamic-DNS name that moved is re-resolved by Update-WgEndpoint."
                        : "Nothing to do if the client is offline; otherwise run Invoke-WgDiagnosis on the client.",
                };
            }
        }
    }
}
