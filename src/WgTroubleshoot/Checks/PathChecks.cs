using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using WgTroubleshoot.Forwarding;
using WgTroubleshoot.Mtu;
using WgTroubleshoot.Snapshot;

namespace WgTroubleshoot.Checks
{
    /// <summary>The forwarding evaluator over a snapshot, for one interface.</summary>
    internal static class ForwardingFactsBuilder
    {
        public static ForwardingStatus Evaluate(CheckContext c, bool withNetfilter)
            => ForwardingEvaluator.Evaluate(ForwardingReader.FromSnapshot(c.Host, c.Name, c.Device?.Interface.Addresses, withNetfilter));
    }

    /// <summary>ForwardingDisabled: a server whose clients reach it but nothing beyond (net.ipv4.ip_forward, now and after reboot).</summary>
    public sealed class ForwardingCheck : CheckBase
    {
        public ForwardingCheck() : base("Forwarding", SourceNames.WgState, SourceNames.Sysctls) { }

        public override IEnumerable<Finding> Evaluate(CheckContext c)
        {
            if (!c.IsLinux || !PathFacts.RoutesForPeers(c)) yield break;
            var st = ForwardingFactsBuilder.Evaluate(c, false);
            var evidence = st.Evidence.Where(e => e.IndexOf("forward", StringComparison.OrdinalIgnoreCase) >= 0 || e.IndexOf("sysctl", StringComparison.OrdinalIgnoreCase) >= 0).ToArray();
            if (evidence.Length == 0) evidence = st.Evidence;
            if (st.IPv4Forwarding == false)
            {
                var f = c.NewFinding("WGD500", Severity.Warning, Cause.ForwardingDisabled,
                    $"IP forwarding is off (net.ipv4.ip_forward = 0): clients of {c.Name} reach this host but nothing beyond it.");
                f.Evidence = evidence; f.CanRepair = true; f.RepairData = new[] { "Interface=" + c.Name };
                yield return f;
            }
            else if (st.IPv4ForwardingPersistent == false)
            {
                var f = c.NewFinding("WGD503", Severity.Info, Cause.ForwardingDisabled,
                    "IP forwarding is on now but not set persistently: it is off again after the next reboot.");
                f.Evidence = evidence; f.CanRepair = true; f.RepairData = new[] { "Interface=" + c.Name };
                yield return f;
            }
        }
    }

    /// <summary>NatMissing and ForwardPathBlocked: the tunnel subnet is not masqueraded out of the uplink, or the forward path drops it.</summary>
    public sealed class NatForwardPathCheck : CheckBase
    {
        public NatForwardPathCheck() : base("NatForwardPath", SourceNames.WgState, SourceNames.Netfilter, SourceNames.Routes) { }

        public override IEnumerable<Finding> Evaluate(CheckContext c)
        {
            if (!c.IsLinux || !PathFacts.RoutesForPeers(c)) yield break;
            var st = ForwardingFactsBuilder.Evaluate(c, true);
            var evidence = st.Evidence.Concat(st.Problems).ToArray();
            if (!st.Masquerade && st.Uplink != null && st.TunnelSubnets.Length > 0)
            {
                var v4 = st.TunnelSubnets.Where(x => x.IndexOf(':') < 0).ToList();
                var wrong = NatInterfaceFacts.WrongInterface(c.Host.Netfilter.NatForward(), v4, st.Uplink);
                var w = wrong.FirstOrDefault();
                var f = c.NewFinding("WGD501", Severity.Warning, Cause.NatMissing, w != null
                    ? $"The masquerade for {string.Join(", ", v4)} names {w.Item2.Oif}, which is not the uplink {st.Uplink}{(c.Host.Link(w.Item2.Oif) == null ? $" ({w.Item2.Oif} does not exist here)" : "")}: traffic from the tunnel leaves {st.Uplink} unmasqueraded and replies never come back."
                    : $"Traffic from {string.Join(", ", st.TunnelSubnets)} is not masqueraded out of the uplink {st.Uplink}: replies from beyond this host never find their way back.");
                f.Evidence = wrong.Select(x => $"{x.Item1.Label}: {x.Item2.Text} (output interface {x.Item2.Oif}; the default route leaves by {st.Uplink}: {c.Host.Routes.DefaultText})").Concat(evidence).ToArray();
                f.CanRepair = true;
                f.RepairData = w != null ? new[] { "Interface=" + c.Name, "Nat=true", "WrongOif=" + w.Item2.Oif } : new[] { "Interface=" + c.Name, "Nat=true" };
                yield return f;
            }
            // The walk follows jumps into regular chains (DOCKER-USER, ufw's chains) that the flat reader skips.
            var walked = ForwardWalk.Blocked(c, st.Uplink);
            bool walkable = c.Host.Netfilter.Filter().Any(b => b.Nft != null || b.Iptables != null);
            if (walked.Count > 0 || (st.ForwardBlocked && !walkable))
            {
                var w = walked.FirstOrDefault();
                var f = c.NewFinding("WGD502", Severity.Warning, Cause.ForwardPathBlocked, w != null
                    ? $"The forward path drops tunnel traffic: {w.Item1} {w.Item2} {w.Item3.DecidingRule}{PathFacts.Where(w.Item3)}."
                    : $"The forward path drops tunnel traffic: {st.ForwardBlockedBy}.");
                f.Evidence = walked.Select(x => $"{x.Item1}: {x.Item2} dropped by: {x.Item3.DecidingRule}{PathFacts.Where(x.Item3)}")
                    .Concat(ForwardWalk.Signature(c, st.Uplink)).Concat(evidence).ToArray();
                f.CanRepair = true; f.RepairData = new[] { "Interface=" + c.Name, "Nat=true" };
                yield return f;
            }
        }
    }

    /// <summary>MtuBlackhole (-Deep): full-size packets do not pass the tunnel; the path carries less.</summary>
    public sealed class MtuCheck : CheckBase
    {
        public MtuCheck() : base("Mtu", SourceNames.WgState, SourceNames.Mtu) { }

        public override IEnumerable<Finding> Evaluate(CheckContext c)
        {
            var iface = c.Device?.Interface;
            if (iface == null || !iface.Mtu.HasValue) yield break;
            foreach (var r in c.Interface.Mtu)
            {
                if (r.FullSizePassesInTunnel != false || !r.RecommendedMtu.HasValue || r.RecommendedMtu.Value >= iface.Mtu.Value) continue;
                var ep = PathMtuMeasurer.EndpointAddress(c.Peer(r.Peer)?.Endpoint) ?? (System.Net.IPAddress.TryParse(r.Destination ?? "", out var d) ? d : null);
                var overhead = ep != null ? PathMtuMeasurer.Overhead(ep) : 60;
                var f = c.NewFinding("WGD600", Severity.Error, Cause.MtuBlackhole,
                    $"Full-size packets ({iface.Mtu} bytes) do not pass through the tunnel: the path to {r.Destination ?? ep?.ToString()} carries only {r.PathMtu} bytes{(r.Blackhole ? " and drops bigger packets without a \"fragmentation needed\" answer (a blackhole)" : "")}.", r.Peer);
                f.Evidence = r.Evidence.Concat(new[] { $"Path MTU {r.PathMtu}, route MTU {r.RouteMtu}, tunnel MTU {iface.Mtu}, recommended {r.RecommendedMtu} (path minus {overhead} bytes of WireGuard overhead)." }).ToArray();
                f.CanRepair = true;
                f.RepairData = new[] { "Interface=" + iface.Name, "Mtu=" + r.RecommendedMtu.Value.ToString(CultureInfo.InvariantCulture) };
                yield return f;
            }
        }
    }
}
