using System;
using System.Collections.Generic;
using System.Linq;
using WgTroubleshoot.Liveness;

namespace WgTroubleshoot.Checks
{
    /// <summary>
    /// A root cause that, when found, removes findings it explains (same interface; same peer when
    /// <see cref="SamePeer"/>). Declared only in <see cref="CheckCatalog.Suppressions"/>.
    /// </summary>
    public sealed class Suppression
    {
        public Suppression(Cause[] winners, Func<Finding, bool> loser, string why, bool samePeer = false, Func<CheckContext, bool> when = null, Func<Finding, bool> winnerIs = null)
        {
            Winners = winners;
            WinnerIs = winnerIs ?? (_ => true);
            Loser = loser;
            Why = why;
            SamePeer = samePeer;
            When = when ?? (_ => true);
        }

        public Cause[] Winners { get; }
        public Func<Finding, bool> Loser { get; }
        public string Why { get; }
        public bool SamePeer { get; }
        public Func<CheckContext, bool> When { get; }
        /// <summary>Narrows the winners to some findings of their causes (one Id of a cause that has several).</summary>
        public Func<Finding, bool> WinnerIs { get; }

        internal static Func<Finding, bool> CauseIs(params Cause[] causes)
        {
            var names = new HashSet<string>(causes.Select(c => c.ToString()), StringComparer.Ordinal);
            return f => names.Contains(f.Cause);
        }
    }

    /// <summary>
    /// The one place that says which checks exist, in which order they run (root causes first), and which root
    /// cause suppresses which findings. Adding a cause: add its check here (see Checks/README.md).
    /// </summary>
    public static class CheckCatalog
    {
        /// <summary>Every check, in the order that finds root causes first.</summary>
        public static IReadOnlyList<ICheck> Checks { get; } = new List<ICheck>
        {
            new LinkCheck(),
            new ConfigLintCheck(),
            new FirewallInputCheck(),
            new ListenPortInUseCatalogCheck(),
            new FirewallOutputCheck(),
            new ReversePathFilterCheck(),
            new HandshakeReplayCheck(),
            new KeyMismatchCheck(),
            new StaleConntrackCheck(),
            new EndpointRoutedIntoTunnelCatalogCheck(),
            new EndpointCheck(),
            new EndpointFamilyCatalogCheck(),
            new AllowedIpsConflictCatalogCheck(),
            new LocalSubnetCheck(),
            new LivenessCatalogCheck(),
            new PeerHandshakeCheck(),
            new OneWayTrafficCheck(),
            new NeverConnectedCheck(),
            new BothEndsCheck(),
            new HookRulesCheck(),
            new ForwardingCheck(),
            new NatForwardPathCheck(),
            new TunnelInputCheck(),
            new MtuCheck(),
            new MssClampCheck(),
            new SharedKeyPairCatalogCheck(),
            new ResolverMissingCatalogCheck(),
        };

        /// <summary>Runs last, over what is left after suppression and folding: "Healthy" only when nothing is above Info.</summary>
        public static ICheck Summary { get; } = new HealthySummaryCheck();

        private static readonly Cause[] FirewallDrops = { Cause.FirewallBlocksPort, Cause.TcpOnlyFirewallRule, Cause.FirewallBlocksReplies, Cause.ReversePathFilter };

        /// <summary>What suppresses what: a winner's finding removes the losers' findings on the same interface (or peer).</summary>
        public static IReadOnlyList<Suppression> Suppressions { get; } = new List<Suppression>
        {
            new Suppression(new[] { Cause.InterfaceDown }, f => f.CheckName != LinkCheck.CheckName && f.CheckName != ConfigLintCheck.CheckName,
                "A link that is down explains every symptom of its traffic."),
            new Suppression(FirewallDrops, Suppression.CauseIs(Cause.KeyMismatch),
                "Unanswered initiations are the firewall's drop, not a key this side refuses."),
            new Suppression(FirewallDrops, Suppression.CauseIs(Cause.EndpointUnreachable, Cause.PresharedKeyMismatch, Cause.UpstreamFilter),
                "On a server the local drop explains the clients that do not connect.", when: c => c.IsServer),
            new Suppression(new[] { Cause.HookRulesMissing }, Suppression.CauseIs(Cause.NatMissing, Cause.ForwardPathBlocked),
                "The hook's own NAT and forward rules are missing: re-applying them is the fix."),
            new Suppression(new[] { Cause.StaleConntrack }, Suppression.CauseIs(Cause.EndpointUnreachable, Cause.PresharedKeyMismatch, Cause.UpstreamFilter),
                "The flow leaves with a source address that is gone: nothing can answer it.", samePeer: true),
            new Suppression(new[] { Cause.StaleEndpoint }, Suppression.CauseIs(Cause.EndpointUnreachable, Cause.PresharedKeyMismatch, Cause.AllowedIpsMismatch, Cause.UpstreamFilter),
                "WireGuard still sends to the old address of the name.", samePeer: true),
            // The peer and key root causes (Liveness/PeerChecks): each explains the vaguer verdicts of the same peer.
            new Suppression(new[] { Cause.ListenPortInUse }, Suppression.CauseIs(Cause.EndpointUnreachable, Cause.PresharedKeyMismatch, Cause.AllowedIpsMismatch, Cause.UpstreamFilter, Cause.KeyMismatch),
                "Peers that send to the configured port reach another program."),
            new Suppression(new[] { Cause.EndpointRoutedIntoTunnel, Cause.AddressFamilyMismatch }, Suppression.CauseIs(Cause.EndpointUnreachable, Cause.PresharedKeyMismatch, Cause.AllowedIpsMismatch, Cause.UpstreamFilter, Cause.KeyMismatch),
                "Nothing reaches the wire towards that endpoint.", samePeer: true),
            new Suppression(new[] { Cause.EndpointUnreachable }, f => f.Id != AddressFamilyMismatchCheck.NoRouteId && Suppression.CauseIs(Cause.EndpointUnreachable, Cause.PresharedKeyMismatch, Cause.AllowedIpsMismatch, Cause.UpstreamFilter, Cause.KeyMismatch)(f),
                "This host has no route towards that endpoint (none of either family, or a route or rule that swallows it): nothing is sent.", samePeer: true, winnerIs: f => f.Id == AddressFamilyMismatchCheck.NoRouteId),
            new Suppression(new[] { Cause.AllowedIpsConflict }, f => f.Cause == nameof(Cause.AllowedIpsMismatch) || f.Cause == nameof(Cause.EndpointUnreachable),
                "Another peer holds the prefix live (the configuration lint names the same duplicate)."),
            new Suppression(new[] { Cause.HandshakeReplay }, Suppression.CauseIs(Cause.KeyMismatch, Cause.UpstreamFilter),
                "The responder rejects the initiations as replays: the clock, not the keys."),
            new Suppression(new[] { Cause.EndpointUnreachable }, f => f.Id == "WGD410",
                "The probe proved that nothing comes back: that is the peer not receiving, not an AllowedIPs guess.", samePeer: true),
        };

        /// <summary>Findings of the same Id and Cause shared by at least this many peers are folded into one.</summary>
        public const int FoldThreshold = 2;

        /// <summary>The check of a name (null when there is none).</summary>
        public static ICheck Find(string name) => Checks.Concat(new[] { Summary }).FirstOrDefault(c => c.Name == name);
    }
}
