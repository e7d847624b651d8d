using System;
using System.Collections.Generic;
using System.Linq;
using WgTroubleshoot.Liveness;
using WgTroubleshoot.Snapshot;

namespace WgTroubleshoot.Checks
{
    /// <summary>
    /// The peer and key checks of Liveness/PeerChecks over the snapshot: each class here is one cause in the
    /// catalog; the judging itself is the pure check over <see cref="PeerFacts"/>.
    /// </summary>
    internal static class PeerFactsFrom
    {
        public static PeerFacts Context(CheckContext c)
        {
            var d = c.Device;
            var f = new PeerFacts
            {
                Interface = c.Name,
                IsServer = c.IsServer,
                FwMark = d?.Interface.FwMark,
                LiveListenPort = d?.Interface.ListenPort,
                ConfiguredListenPort = c.Config?.ListenPort,
                ListenPortSockets = c.Interface.ListenPortSockets,
                HasConfig = c.Config != null,
                ConfiguredDns = c.Config?.Dns ?? new string[0],
                ResolvconfAvailable = c.Interface.ResolvconfAvailable,
                LivePeers = d?.Peers.Where(p => p.PublicKey != null).ToList() ?? new List<WgPeer>(),
                Handshakes = c.Handshakes.ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal),
                Route4 = c.Host.FamilyRoute(false),
                Route6 = c.Host.FamilyRoute(true),
                DefaultRoutes4 = c.Host.Routes.DefaultText,
                DefaultRoutes6 = c.Host.Routes.DefaultText6,
            };
            foreach (var pr in c.Interface.Probes) if (pr.Peer != null) f.Probes[pr.Peer] = pr;
            foreach (var e in c.Interface.EndpointReadings)
            {
                if (e.Peer == null) continue;
                f.EndpointSamples[e.Peer] = e.Endpoints.ToList();
                f.EndpointReads[e.Peer] = e.Reads > 0 ? e.Reads : e.Endpoints.Count;
                f.EndpointSampleSeconds = Math.Max(f.EndpointSampleSeconds, e.Seconds);
            }
            if (c.Config != null)
                foreach (var cp in c.Config.Peers)
                {
                    bool name = Diagnosis.EndpointChecker.IsHostName(cp.EndpointHost);
                    f.ConfiguredPeers.Add(new ConfiguredPeer { PublicKey = cp.PublicKey, Name = cp.Name, AllowedIPs = cp.AllowedIPs, Endpoint = cp.Endpoint, EndpointHost = name ? cp.EndpointHost : null });
                    if (name && c.Host.Name(cp.EndpointHost) is NameResolution n && cp.PublicKey != null) f.Resolved[cp.PublicKey] = n.Addresses;
                }
            foreach (var p in f.LivePeers)
            {
                var a = PeerFactsCollector.EndpointAddress(p.Endpoint);
                if (a == null) continue;
                var l = c.Host.Routes.Lookup(a.ToString());
                if (l != null) f.EndpointRoutes[p.PublicKey] = new RouteFact { Destination = l.Destination, Success = l.Reachable, Text = l.Text };
            }
            return f;
        }

        /// <summary>Peers an earlier, more specific finding already explains.</summary>
        public static HashSet<string> Explained(CheckContext c, params Cause[] causes)
        {
            var names = new HashSet<string>(causes.Select(x => x.ToString()), StringComparer.Ordinal);
            var set = new HashSet<string>(StringComparer.Ordinal);
            foreach (var f in c.Earlier.Where(f => names.Contains(f.Cause) && f.Severity != nameof(Severity.Info)))
            {
                if (f.Peer != null) set.Add(f.Peer);
                foreach (var p in f.Peers) set.Add(p);
                if (f.Peer == null && !f.Peers.Any() && c.Device != null) foreach (var p in c.Device.Peers) if (p.PublicKey != null) set.Add(p.PublicKey);
            }
            return set;
        }

        public static IEnumerable<Finding> Adopt(CheckContext c, IEnumerable<Finding> found)
        {
            foreach (var f in found)
            {
                var g = c.NewFinding(f.Id, (Severity)Enum.Parse(typeof(Severity), f.Severity), (Cause)Enum.Parse(typeof(Cause), f.Cause), f.Summary, f.Peer);
                g.Evidence = f.Evidence; g.Remediation = f.Remediation; g.CanRepair = f.CanRepair; g.RepairData = f.RepairData;
                if (f.PeerName != null) g.PeerName = f.PeerName;
                yield return g;
            }
        }
    }

    /// <summary>ListenPortInUse: another socket owns the configured ListenPort.</summary>
    public sealed class ListenPortInUseCatalogCheck : CheckBase
    {
        public ListenPortInUseCatalogCheck() : base("ListenPortInUse", SourceNames.WgState, SourceNames.Config, LivenessSourceNames.ListenPort) { }
        public override IEnumerable<Finding> Evaluate(CheckContext c)
            => c.Device == null ? new Finding[0] : PeerFactsFrom.Adopt(c, new ListenPortInUseCheck().Judge(PeerFactsFrom.Context(c), new HashSet<string>()));
    }

    /// <summary>EndpointRoutedIntoTunnel: `ip route get ENDPOINT` answers dev of the tunnel itself, and no fwmark.</summary>
    public sealed class EndpointRoutedIntoTunnelCatalogCheck : CheckBase
    {
        public EndpointRoutedIntoTunnelCatalogCheck() : base("EndpointRoutedIntoTunnel", SourceNames.WgState, SourceNames.Routes) { }
        public override IEnumerable<Finding> Evaluate(CheckContext c)
            => c.Device == null ? new Finding[0] : PeerFactsFrom.Adopt(c, new EndpointRoutedIntoTunnelCheck().Judge(PeerFactsFrom.Context(c), new HashSet<string>()));
    }

    /// <summary>
    /// AddressFamilyMismatch for a live endpoint (literal or resolved) of a family this host has no route for while it
    /// routes the other one; EndpointUnreachable (WGD305) when it routes neither family.
    /// </summary>
    public sealed class EndpointFamilyCatalogCheck : CheckBase
    {
        public EndpointFamilyCatalogCheck() : base("EndpointFamily", SourceNames.WgState, SourceNames.Routes) { }
        public override IEnumerable<Finding> Evaluate(CheckContext c)
            => c.Device == null ? new Finding[0] : PeerFactsFrom.Adopt(c, new AddressFamilyMismatchCheck().Judge(PeerFactsFrom.Context(c),
                PeerFactsFrom.Explained(c, Cause.EndpointRoutedIntoTunnel, Cause.AddressFamilyMismatch, Cause.ListenPortInUse)));
    }

    /// <summary>AllowedIpsConflict: a configured prefix is live on another peer.</summary>
    public sealed class AllowedIpsConflictCatalogCheck : CheckBase
    {
        public AllowedIpsConflictCatalogCheck() : base("AllowedIpsConflict", SourceNames.WgState, SourceNames.Config) { }
        public override IEnumerable<Finding> Evaluate(CheckContext c)
            => c.Device == null || c.Config == null ? new Finding[0] : PeerFactsFrom.Adopt(c, new AllowedIpsConflictCheck().Judge(PeerFactsFrom.Context(c), new HashSet<string>()));
    }

    /// <summary>SharedKeyPair: one public key's endpoint flips back and forth within the sample.</summary>
    public sealed class SharedKeyPairCatalogCheck : CheckBase
    {
        public SharedKeyPairCatalogCheck() : base("SharedKeyPair", SourceNames.WgState) { }
        public override IEnumerable<Finding> Evaluate(CheckContext c)
            => c.Device == null ? new Finding[0] : PeerFactsFrom.Adopt(c, new SharedKeyPairCheck().Judge(PeerFactsFrom.Context(c), new HashSet<string>()));
    }

    /// <summary>ResolverMissing: DNS = and no resolvconf.</summary>
    public sealed class ResolverMissingCatalogCheck : CheckBase
    {
        public ResolverMissingCatalogCheck() : base("ResolverMissing", SourceNames.Config) { }
        public override IEnumerable<Finding> Evaluate(CheckContext c)
            => PeerFactsFrom.Adopt(c, new ResolverMissingCheck().Judge(PeerFactsFrom.Context(c), new HashSet<string>()));
    }

    /// <summary>
    /// Liveness: a fresh handshake whose peer did not answer a probe into the tunnel (EndpointUnreachable, an Error
    /// for a peer this side reaches out to), or a probe that could not be sent (CheckNotRun).
    /// </summary>
    public sealed class LivenessCatalogCheck : CheckBase
    {
        public LivenessCatalogCheck() : base("Liveness", SourceNames.WgState) { }
        public override IEnumerable<Finding> Evaluate(CheckContext c)
            => c.Device == null ? new Finding[0] : PeerFactsFrom.Adopt(c, new LivenessCheck().Judge(PeerFactsFrom.Context(c),
                PeerFactsFrom.Explained(c, Cause.StaleEndpoint, Cause.EndpointRoutedIntoTunnel, Cause.AddressFamilyMismatch, Cause.ListenPortInUse, Cause.AllowedIpsConflict)));
    }
}

namespace WgTroubleshoot.Checks
{
    /// <summary>HandshakeReplay: the responder rejects initiations as replays (the initiator's clock went backwards).</summary>
    public sealed class HandshakeReplayCheck : CheckBase
    {
        public HandshakeReplayCheck() : base("HandshakeReplay", SourceNames.WgState) { }

        public override IEnumerable<Finding> Evaluate(CheckContext c)
        {
            var replays = c.Interface.LogEvents.Where(e => e.EventType == WgLogEventType.HandshakeReplay).ToList();
            if (replays.Count == 0) yield break;
            foreach (var g in replays.GroupBy(e => e.Peer ?? "?"))
            {
                var last = g.Last();
                var f = c.NewFinding("WGD440", Severity.Error, Cause.HandshakeReplay,
                    $"{c.Name} rejects the handshake initiations of peer {g.Key} as replays ({g.Count()} in the log): their timestamp is not newer than one accepted before, so the initiator's clock went backwards. It looks like a key mismatch, but the keys are right.");
                f.Evidence = new[] { $"{last.Source} log: {last.Line}", $"{c.Interface.LogEvents.Count(e => e.EventType == WgLogEventType.InvalidInitiation)} invalid-initiation lines beside them" };
                f.Remediation = $"Fix time synchronisation on the initiator (NTP). Restarting {c.Name} here makes it forget the last timestamp: ip link set dev {c.Name} down; ip link set dev {c.Name} up (or wg-quick down/up).";
                yield return f;
            }
        }
    }
}
