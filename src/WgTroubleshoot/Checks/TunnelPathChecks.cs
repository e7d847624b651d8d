using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using WgTroubleshoot.Firewall;
using WgTroubleshoot.Snapshot;
using WgTroubleshoot.Snapshot.Sources;

namespace WgTroubleshoot.Checks
{
    /// <summary>One rule that rewrites the MSS of forwarded SYNs (iptables TCPMSS, nft `tcp option maxseg size set`).</summary>
    public sealed class MssClampRule
    {
        public string Backend { get; set; }
        public string Chain { get; set; }
        public string Text { get; set; }
        /// <summary>Interface matches; a leading "!" negates.</summary>
        public string In { get; set; }
        public string Out { get; set; }
        /// <summary>Clamps to the route's MTU (--clamp-mss-to-pmtu, rt mtu); otherwise <see cref="SetMss"/>.</summary>
        public bool ToPathMtu { get; set; }
        public int? SetMss { get; set; }
        /// <summary>"ipv4" or "ipv6" when the rule sees one family only (iptables / ip6tables, an nft ip or ip6 table, meta nfproto); null for both.</summary>
        public string Family { get; set; }

        /// <summary>True when the rule sees packets of that family.</summary>
        public bool Sees(bool v6) => Family == null || Family == (v6 ? "ipv6" : "ipv4");

        private static bool Matches(string pattern, string name)
        {
            if (pattern == null) return true;
            bool neg = pattern.StartsWith("!", StringComparison.Ordinal);
            var p = neg ? pattern.Substring(1) : pattern;
            return NameIn(p, name) != neg;
        }

        /// <summary>An interface match ("wg0", "wg*", "wg+", or an nft set such as { "wg0", "wg1" }) against one name.</summary>
        public static bool NameIn(string pattern, string name)
            => pattern.StartsWith("{", StringComparison.Ordinal) ? NftParser.SplitValues(pattern).Any(p => Probe.NameMatches(p, name)) : Probe.NameMatches(pattern, name);

        /// <summary>
        /// True when the rule rewrites a SYN of that family (<paramref name="v6"/>) forwarded from <paramref name="inIf"/>
        /// to <paramref name="outIf"/> to at most <paramref name="fit"/>. A clamp to the path MTU clamps to the MTU of the
        /// route out (<paramref name="outMtu"/> minus the IP and TCP headers): it does not cover a SYN whose limit is the
        /// tunnel's own, smaller MTU.
        /// </summary>
        public bool Covers(string inIf, string outIf, int fit, int outMtu, bool v6)
            => Sees(v6) && Matches(In, inIf) && Matches(Out, outIf) && (ToPathMtu ? outMtu - (v6 ? 60 : 40) <= fit : SetMss.HasValue && SetMss.Value <= fit);
    }

    /// <summary>
    /// The MSS clamp rules of every nftables, iptables and ip6tables backend, read from the one parse of the ruleset
    /// (<see cref="NetfilterState.Chains"/>): the rules whose MSS rewrite the parser recorded, in forward and
    /// postrouting base chains and in regular chains (which any hook may jump to).
    /// </summary>
    public static class MssClampRules
    {
        public static List<MssClampRule> Find(NetfilterState nf)
        {
            var list = new List<MssClampRule>();
            foreach (var b in nf.Backends.Where(x => x.Text != null))
                if (b.Name == "nftables" || b.Name.StartsWith("iptables", StringComparison.Ordinal) || b.Name.StartsWith("ip6tables", StringComparison.Ordinal))
                    list.AddRange(From(b.Name, nf.Chains(b.Name)));
            return list;
        }

        /// <summary>The clamp rules of one `iptables-save` / `ip6tables-save` text (an ip6tables backend name reads it as IPv6).</summary>
        public static IEnumerable<MssClampRule> FromIptablesSave(string backend, string text)
            => From(backend, IptablesParser.Parse(text, backend.StartsWith("ip6tables", StringComparison.Ordinal)).AllChains());

        /// <summary>The clamp rules of one `nft list ruleset` text.</summary>
        public static IEnumerable<MssClampRule> FromNft(string backend, string text) => From(backend, NftParser.Parse(text).AllChains());

        /// <summary>The clamp rules of parsed chains, in the order printed.</summary>
        public static IEnumerable<MssClampRule> From(string backend, IEnumerable<FwChain> chains)
        {
            foreach (var ch in chains)
            {
                if (ch.Hook != null && ch.Hook != "forward" && ch.Hook != "postrouting") continue;
                foreach (var r in ch.Rules.Where(x => x.SetsMss))
                    yield return new MssClampRule
                    {
                        Backend = backend,
                        Chain = ch.Source == "nft" ? $"{ch.Name} of {ch.Table}" : ch.Name,
                        Text = r.Handle != null ? r.Text + " # handle " + r.Handle : r.Text,
                        In = r.Iif == null ? null : (r.IifNegated ? "!" : "") + r.Iif,
                        Out = r.Oif == null ? null : (r.OifNegated ? "!" : "") + r.Oif,
                        ToPathMtu = r.MssToPathMtu,
                        SetMss = r.MssValue,
                        Family = r.PacketFamily,
                    };
            }
        }
    }

    /// <summary>
    /// MssClampMissing (-Deep, a host that forwards): TCP SYNs arrive through the tunnel with an MSS option larger
    /// than what fits the path they are forwarded on (the smaller of the tunnel's MTU and the MTU of the route out,
    /// minus 40 for IPv4 or 60 for IPv6), and no rule clamps it. The other end then sends segments that do not fit:
    /// ping and small transfers pass, full-size ones stall wherever "fragmentation needed" does not get back.
    /// Decided from the SYNs captured and the forward route of each (`ip route get DST from SRC iif TUNNEL`).
    /// </summary>
    public sealed class MssClampCheck : CheckBase
    {
        public const string CheckName = "MssClamp";
        public MssClampCheck() : base(CheckName, SourceNames.WgState, SourceNames.Links, SourceNames.Netfilter, SourceNames.TcpSyn) { }

        public override IEnumerable<Finding> Evaluate(CheckContext c)
        {
            var cap = c.Interface.Syns;
            if (!c.IsLinux || c.Device == null || cap == null || cap.Syns.Count == 0) yield break;
            var tunnelMtu = c.Device.Interface.Mtu ?? c.Host.Link(c.Name)?.Mtu;
            var clamps = MssClampRules.Find(c.Host.Netfilter);
            var over = new List<string>();
            var devices = new List<string>();
            int worstFit = int.MaxValue, worstMss = 0;
            int? tunnelFit = null, tunnelFit6 = null;   // SYNs whose limit is the tunnel's own MTU, smaller than the route out: a clamp to the path MTU is not enough
            bool overV6 = false;
            foreach (var s in cap.Syns)
            {
                var route = c.Interface.ForwardRoutes.FirstOrDefault(r => r.Source == s.Source && r.Destination == s.Destination);
                if (route == null || !route.Ok || route.Type != null || route.Device == null || route.Device == "lo") continue;   // local or not forwarded
                var outMtu = route.Mtu ?? c.Host.Link(route.Device)?.Mtu;
                if (!outMtu.HasValue) continue;
                var pathMtu = tunnelMtu.HasValue ? Math.Min(tunnelMtu.Value, outMtu.Value) : outMtu.Value;
                var fit = pathMtu - (s.IPv6 ? 60 : 40);
                if (s.Mss <= fit) continue;
                if (clamps.Any(r => r.Covers(c.Name, route.Device, fit, outMtu.Value, s.IPv6))) continue;
                if (tunnelMtu.HasValue && tunnelMtu.Value < outMtu.Value)
                {
                    if (s.IPv6) tunnelFit6 = Math.Min(tunnelFit6 ?? int.MaxValue, fit);
                    else tunnelFit = Math.Min(tunnelFit ?? int.MaxValue, fit);
                }
                overV6 |= s.IPv6;
                if (over.Count < 8)
                    over.Add($"{s.Count} {(s.Ack ? "SYN-ACK" : "SYN")}{(s.Count == 1 ? "" : "s")} {s.Source} -> {s.Destination}:{s.DestinationPort} in through {c.Name} with MSS {s.Mss}; forwarded out of {route.Device} (`ip route get {s.Destination} from {s.Source} iif {c.Name}`: {route.Text}), MTU {outMtu.Value}{(route.Mtu.HasValue ? " (route)" : " (link)")}; tunnel MTU {(tunnelMtu.HasValue ? tunnelMtu.Value.ToString(CultureInfo.InvariantCulture) : "unknown")}: an MSS up to {fit} fits.");
                if (!devices.Contains(route.Device)) devices.Add(route.Device);
                if (fit < worstFit) { worstFit = fit; worstMss = s.Mss; }
            }
            if (over.Count == 0) yield break;
            var f = c.NewFinding("WGD630", Severity.Warning, Cause.MssClampMissing,
                $"TCP SYNs through {c.Name} announce an MSS of {worstMss}, larger than the {worstFit} that fits the path they are forwarded on, and no rule clamps it: ping and small transfers work, full-size TCP transfers stall where \"fragmentation needed\" does not get back.");
            var ev = new List<string>(over)
            {
                $"Captured with {cap.Filter} for {cap.Seconds} s: {cap.Syns.Sum(x => x.Count)} SYNs in {cap.Syns.Count} kinds{(cap.Truncated ? " (the capture stopped at its packet limit)" : "")}.",
                clamps.Count == 0 ? "No MSS clamp rule in any backend (no iptables TCPMSS target, no nft `tcp option maxseg size set`)."
                                  : "MSS rules found, none of them covers these SYNs: " + string.Join("; ", clamps.Select(r => $"{r.Backend} {r.Chain}: {r.Text}")),
            };
            var backend = ForwardingBackend(c);
            // IPv6 through the tunnel needs its own clamp (ip6tables; the nft rules see both families in the inet table).
            var carries6 = ForwardedIPv6(c);
            bool v6 = overV6 || carries6 != null;
            if (carries6 != null) ev.Add(carries6 + ": the clamp covers IPv6 too.");
            // The tunnel's own MTU limits both families alike: IPv6 headers are 20 bytes longer.
            if (v6 && !tunnelFit6.HasValue && tunnelFit.HasValue) tunnelFit6 = tunnelFit.Value - 20;
            if (tunnelFit.HasValue)
                ev.Add($"The limit is {c.Name}'s own MTU {tunnelMtu}, smaller than the route out: a clamp to the path MTU of the route out does not reach it, so IPv4 SYNs in through {c.Name} are also set to MSS {tunnelFit.Value}.");
            if (tunnelFit6.HasValue)
                ev.Add($"IPv6 SYNs in through {c.Name} are set to MSS {tunnelFit6.Value} ({c.Name}'s MTU {tunnelMtu} minus 60).");
            f.Evidence = ev.ToArray();
            f.Remediation = $"Repair-WgIssue adds TCPMSS --clamp-mss-to-pmtu for {(v6 ? "IPv4 and IPv6 " : "")}SYNs in and out of {c.Name} in the forward path ({backend}{(v6 && backend != "nftables" ? " and ip6tables" : "")})"
                + (tunnelFit.HasValue ? $", and --set-mss {tunnelFit.Value} for IPv4 SYNs in through {c.Name} above it" : "")
                + (tunnelFit6.HasValue ? $", and --set-mss {tunnelFit6.Value} for IPv6 SYNs in through {c.Name} above it" : "") + ". To keep it, add the same rules to the interface's PostUp.";
            f.CanRepair = true;
            var data = new List<string> { "Interface=" + c.Name, "Backend=" + backend };
            if (tunnelFit.HasValue) data.Add("Mss=" + tunnelFit.Value.ToString(CultureInfo.InvariantCulture));
            if (v6) data.Add("IPv6=true");
            if (tunnelFit6.HasValue) data.Add("Mss6=" + tunnelFit6.Value.ToString(CultureInfo.InvariantCulture));
            f.RepairData = data.ToArray();
            yield return f;
        }

        /// <summary>
        /// What shows the tunnel carries IPv6 that this host forwards: an IPv6 address (not link-local) on the
        /// interface or an IPv6 AllowedIPs prefix, with net.ipv6.conf.all.forwarding = 1; null when it does not.
        /// </summary>
        internal static string ForwardedIPv6(CheckContext c)
        {
            if (c.Host.Sysctls.Get("net.ipv6.conf.all.forwarding")?.Trim() != "1") return null;
            var addr = c.Host.Link(c.Name)?.Addresses.FirstOrDefault(a => a.Contains(":") && !a.StartsWith("fe80:", StringComparison.OrdinalIgnoreCase));
            var prefix = addr == null ? c.Device.Peers.SelectMany(p => p.AllowedIPs ?? new string[0]).FirstOrDefault(a => a.Contains(":")) : null;
            if (addr == null && prefix == null) return null;
            return $"{c.Name} carries IPv6 ({(addr != null ? "address " + addr : "AllowedIPs " + prefix)}) and net.ipv6.conf.all.forwarding = 1";
        }

        /// <summary>The backend that holds this tunnel's NAT or forward rules (where the clamp belongs); nftables when none does and nft is in use.</summary>
        internal static string ForwardingBackend(CheckContext c)
        {
            var subnets = PathFacts.TunnelSubnets(c);
            foreach (var name in new[] { "iptables-legacy", "iptables-nft", "nftables" })
            {
                foreach (var ch in c.Host.Netfilter.Chains(name))
                    foreach (var r in ch.Rules)
                    {
                        if (r.IsSourceNat && subnets.Any(r.SaddrCovers)) return name;
                        if (ch.Hook == "forward" && (Probe.NameMatches(r.Iif, c.Name) || Probe.NameMatches(r.Oif, c.Name))) return name;
                    }
            }
            if (c.Host.Netfilter.Backend("nftables")?.Text != null) return "nftables";
            return c.Host.Netfilter.Backend("iptables-nft") != null ? "iptables-nft" : c.Host.Netfilter.Backend("iptables-legacy") != null ? "iptables-legacy" : "nftables";
        }
    }

    /// <summary>
    /// LocalSubnetConflict: a peer's AllowedIPs prefix lies inside the network of an address on another link of
    /// this host (the local LAN uses the same subnet as the remote one), and the route to a remote host in it
    /// (`ip route get HOST`) leaves by that link, not the tunnel: that traffic never enters the tunnel ("works on
    /// LTE, not on this Wi-Fi"). Report only: one of the networks has to be renumbered.
    /// </summary>
    public sealed class LocalSubnetCheck : CheckBase
    {
        public const string CheckName = "LocalSubnet";
        public LocalSubnetCheck() : base(CheckName, SourceNames.WgState, SourceNames.Links, SourceNames.SubnetRoutes) { }

        public override IEnumerable<Finding> Evaluate(CheckContext c)
        {
            if (!c.IsLinux || c.Device == null) yield break;
            foreach (var g in SubnetRouteSource.Overlaps(c.Host, c.Interface).GroupBy(o => o.Peer))
            {
                var hits = new List<Tuple<SubnetOverlap, RouteLookup>>();
                foreach (var o in g)
                {
                    var r = c.Host.Routes.Lookup(o.Host);
                    if (r == null || !r.Reachable || r.Device == null || r.Device == c.Name) continue;
                    hits.Add(Tuple.Create(o, r));
                }
                if (hits.Count == 0) continue;
                var first = hits[0].Item1;
                var f = c.NewFinding("WGD340", Severity.Error, Cause.LocalSubnetConflict,
                    $"The peer's AllowedIPs {first.Prefix} lies inside this host's own network {first.LinkNetwork} on {first.Link}: traffic for it leaves by {hits[0].Item2.Device}, not the tunnel (the local LAN uses the remote LAN's subnet).", g.Key);
                var ev = new List<string>();
                foreach (var h in hits)
                    ev.Add($"AllowedIPs {h.Item1.Prefix} is inside {h.Item1.LinkNetwork} ({h.Item1.LinkAddress} on {h.Item1.Link}); `ip route get {h.Item1.Host}`: {h.Item2.Text} (leaves by {h.Item2.Device}, not {c.Name}).");
                f.Evidence = ev.ToArray();
                f.Remediation = $"Renumber one of the two networks (the local {first.LinkNetwork} or the remote {first.Prefix}), or reach the remote hosts through a NAT'd range that does not collide. Report only: which network moves is a human's call.";
                f.FoldSummary = "have AllowedIPs inside a local network.";
                yield return f;
            }
        }
    }
}
