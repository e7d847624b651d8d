using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Net;
using System.Text.RegularExpressions;
using WgTroubleshoot.Firewall;
using WgTroubleshoot.PathFaults;
using WgTroubleshoot.Snapshot;
using WgTroubleshoot.Snapshot.Sources;

namespace WgTroubleshoot.Checks
{
    /// <summary>Facts about the path that several checks share (derived from the snapshot only).</summary>
    public static class PathFacts
    {
        /// <summary>
        /// True when this host routes for its peers: a hub (peers without endpoints), or a gateway whose firewall
        /// or hooks show it forwards for the tunnel (a NAT or forward rule for the tunnel subnet or interface, a
        /// hook that sets forwarding or NAT). Forwarding and NAT matter on such hosts only.
        /// </summary>
        public static bool RoutesForPeers(CheckContext c)
        {
            if (c.IsServer) return true;
            var subnets = TunnelSubnets(c);
            foreach (var ch in c.Host.Netfilter.NatForward())
                foreach (var r in ch.Rules)
                {
                    if (r.IsSourceNat && subnets.Any(r.SaddrCovers)) return true;
                    if (ch.Hook == "forward" && r.Verdict == "accept" && (Names(r.Iif, c.Name) || Names(r.Oif, c.Name))) return true;
                }
            var hooks = (c.Config?.PostUp ?? new string[0]).Concat(c.Config?.PreUp ?? new string[0]);
            return hooks.Any(h => Regex.IsMatch(h, @"ip_forward|forwarding|MASQUERADE|masquerade|\bFORWARD\b|\bsnat\b", RegexOptions.CultureInvariant));
        }

        private static bool Names(string pattern, string name) => Probe.NameMatches(pattern, name);

        /// <summary>The IPv4 and IPv6 networks of the interface's addresses (link-local left out).</summary>
        public static List<string> TunnelSubnets(CheckContext c)
        {
            var list = new List<string>();
            foreach (var a in c.Device?.Interface.Addresses ?? new string[0])
            {
                var n = Config.IpPrefix.NetworkOf(a);
                if (n != null && !n.StartsWith("fe80:", StringComparison.OrdinalIgnoreCase) && !list.Contains(n)) list.Add(n);
            }
            return list;
        }

        /// <summary>Peers whose handshake does not work now (never, stale, or a server's client that never came).</summary>
        public static bool AnyHandshakeFailing(CheckContext c)
            => c.Handshakes.Values.Any(h => h.Status == nameof(HandshakeStatus.NeverEstablished) || h.Status == nameof(HandshakeStatus.Stale)
                                            || h.Status == nameof(HandshakeStatus.AwaitingPeer));

        public static IEnumerable<TrafficTrace> Unanswered(CheckContext c)
            => c.Traces.Where(t => t.RemoteEndpoint != null && t.InitiationsIn > 0 && t.ResponsesOut == 0);

        public static string WireEvidence(CheckContext c, TrafficTrace t)
            => $"On the wire (tcpdump, {c.TraceSeconds} s on UDP {c.Device?.Interface.ListenPort}): {t.InitiationsIn} handshake initiations from {t.RemoteEndpoint} arrived, {t.ResponsesOut} responses left.";

        /// <summary>The base chains a probe meets in one backend (nftables or one iptables family); null for ufw/firewalld.</summary>
        public static List<FwChain> Chains(BackendSnapshot b, Probe p)
            => b.Nft != null ? b.Nft.BaseChainsFor(p) : b.Iptables != null ? b.Iptables.BaseChainsFor(p) : null;

        public static bool IsIPv6(BackendSnapshot b) => b.Iptables != null && b.Iptables.IsIPv6;

        public static string Where(WalkResult r)
            => r.DecidingBaseChain == null ? "" : $" (base chain {r.DecidingBaseChain.Name} of {r.DecidingBaseChain.Table}"
               + (r.BlockingBaseChains.Count > 1 ? "; also dropped by " + string.Join(", ", r.BlockingBaseChains.Skip(1).Select(x => x.Name + " of " + x.Table)) : "") + ")";
    }

    /// <summary>
    /// FirewallBlocksReplies: an output-hook chain (or its policy) drops UDP from the listen port, so initiations
    /// arrive and no response leaves. Walks every nftables and iptables output/postrouting base chain with the
    /// packet WireGuard sends (UDP from the listen port out of the uplink, as a reply and as a new flow).
    /// </summary>
    public sealed class FirewallOutputCheck : CheckBase
    {
        public const string CheckName = "FirewallOutput";
        public FirewallOutputCheck() : base(CheckName, SourceNames.WgState, SourceNames.Netfilter) { }

        public override IEnumerable<Finding> Evaluate(CheckContext c)
        {
            var port = c.Device?.Interface.ListenPort;
            if (!port.HasValue || !c.IsLinux) yield break;
            var uplink = c.Host.Routes.DefaultDevice;
            foreach (var b in c.Host.Netfilter.Filter())
            {
                if (b.Nft == null && b.Iptables == null) continue;
                var results = new List<Tuple<string, WalkResult>>();
                foreach (var state in new[] { "established", "new" })
                {
                    var probe = new Probe
                    {
                        Output = true, Protocol = "udp", SourcePort = port.Value, OutInterface = uplink, CtState = state,
                        IsIPv6 = PathFacts.IsIPv6(b), UnderlayInterfaces = c.Host.Netfilter.Underlay,
                    };
                    var r = ChainWalker.Walk(PathFacts.Chains(b, probe), probe);
                    if (r.Blocked) results.Add(Tuple.Create(state, r));
                }
                if (results.Count == 0) continue;
                var first = results[0].Item2;
                bool replies = results.Any(x => x.Item1 == "established");
                bool hurts = c.IsServer || PathFacts.AnyHandshakeFailing(c);
                var f = c.NewFinding("WGD210", hurts && first.Certain ? Severity.Error : Severity.Warning, Cause.FirewallBlocksReplies,
                    $"{b.Name} drops WireGuard's own UDP packets from port {port} on the way out"
                    + (replies ? ": handshake initiations can arrive, and no response ever leaves this host." : " when this side starts a handshake."));
                var ev = new List<string>();
                foreach (var x in results)
                    ev.Add($"{b.Name} output: UDP from port {port} out of {uplink ?? "the uplink"} ({(x.Item1 == "established" ? "a response to a peer's initiation" : "a new flow this side starts")}) {(x.Item2.Certain ? "dropped" : "probably dropped")} by: {x.Item2.DecidingRule}{PathFacts.Where(x.Item2)}");
                ev.AddRange(first.RelevantConditional.Select(r => "A rule that may let some of it through: " + r.Text));
                ev.AddRange(PathFacts.Unanswered(c).Select(t => PathFacts.WireEvidence(c, t)));
                ev.Add("The drop is on the way out: this is not a key problem (initiations are accepted and answered by WireGuard, then dropped by the firewall).");
                f.Evidence = ev.ToArray();
                f.Remediation = $"Repair-WgIssue inserts an accept for UDP from port {port} at the top of each output chain of {b.Name} that drops it.";
                f.CanRepair = true;
                f.RepairData = new[] { "Interface=" + c.Name, "Port=" + port.Value.ToString(CultureInfo.InvariantCulture), "Backend=" + b.Name };
                yield return f;
            }
        }
    }

    /// <summary>
    /// ReversePathFilter: strict reverse-path filtering (rp_filter=1 on the uplink, an nft `fib saddr . iif oif
    /// missing drop`, or iptables' rpfilter match) drops the peers' packets because the route back to them leaves by
    /// another link. Decided by the sender's reverse path (`ip route get LOCAL from SENDER iif UPLINK` fails, or
    /// the route back is another device) or by TcpExtIPReversePathFilter growing, with handshakes failing.
    /// </summary>
    public sealed class ReversePathFilterCheck : CheckBase
    {
        public const string CheckName = "ReversePathFilter";
        private static readonly Regex NftFib = new Regex(@"fib\s+saddr\s+\.\s+(?:mark\s+\.\s+)?iif\s+oif\s+(?:missing|0|==\s*0)\b.*\bdrop\b", RegexOptions.Compiled);
        private static readonly Regex IptRpfilter = new Regex(@"-m rpfilter\b.*--invert\b.*-j DROP|-m rpfilter\b.*-j DROP", RegexOptions.Compiled);

        public ReversePathFilterCheck() : base(CheckName, SourceNames.WgState, SourceNames.Sysctls) { }

        public override IEnumerable<Finding> Evaluate(CheckContext c)
        {
            if (!c.IsLinux || c.Device == null) yield break;
            var uplink = c.Host.Routes.DefaultDevice;
            if (uplink == null) yield break;
            var rp = new RpFilterSetting
            {
                Interface = uplink,
                All = RpFilterSetting.ParseValue(c.Host.Sysctls.Get("net.ipv4.conf.all.rp_filter")),
                Device = RpFilterSetting.ParseValue(c.Host.Sysctls.Get($"net.ipv4.conf.{uplink}.rp_filter")),
            };
            var rules = new List<string>();
            foreach (var b in c.Host.Netfilter.Backends)
            {
                var re = b.Name == "nftables" ? NftFib : b.Name.StartsWith("iptables", StringComparison.Ordinal) ? IptRpfilter : null;
                if (re == null) continue;
                foreach (var ch in c.Host.Netfilter.Chains(b.Name))
                    rules.AddRange(ch.Rules.Where(r => re.IsMatch(r.Text)).Select(r => $"{b.Name}: {r.Text}"));
            }
            if (!rp.Strict && rules.Count == 0) yield break;

            var asymmetric = c.Interface.ReversePaths.Where(r => !r.InputRouteOk || (r.ReturnDevice != null && r.ReturnDevice != r.ArrivesOn)).ToList();
            var delta = c.Host.Counters?.Delta(KernelCounters.ReversePathFilter);
            var unanswered = PathFacts.Unanswered(c).ToList();
            bool failing = PathFacts.AnyHandshakeFailing(c) || unanswered.Count > 0;
            if (!failing) yield break;
            bool counted = rp.Strict && delta.HasValue && delta.Value > 0;
            if (asymmetric.Count == 0 && !counted) yield break;

            var f = c.NewFinding("WGD220", Severity.Error, Cause.ReversePathFilter,
                $"Strict reverse-path filtering drops the peers' packets as they arrive on {uplink}: the route back to the sender leaves by another link, so the kernel discards them before WireGuard sees them (not a key mismatch).");
            var ev = new List<string>();
            if (rp.Strict) ev.Add(rp + ".");
            ev.AddRange(rules.Select(r => "Strict reverse-path rule: " + r));
            foreach (var a in asymmetric)
                ev.Add($"Reverse path of {a.Sender}: `ip route get {a.Local} from {a.Sender} iif {a.ArrivesOn}` {(a.InputRouteOk ? "is accepted" : "fails: " + a.InputRouteText)}; the route back is `{a.ReturnRouteText}`{(a.ReturnDevice != null && a.ReturnDevice != a.ArrivesOn ? $" (leaves by {a.ReturnDevice}, not {a.ArrivesOn})" : "")}.");
            if (delta.HasValue) ev.Add($"{KernelCounters.ReversePathFilter} grew by {delta.Value} during the {c.Host.Request.SampleSeconds} s sample.");
            ev.AddRange(unanswered.Select(t => PathFacts.WireEvidence(c, t)));
            f.Evidence = ev.ToArray();
            if (rp.Strict && rules.Count == 0)
            {
                f.Remediation = $"Repair-WgIssue sets net.ipv4.conf.{uplink}.rp_filter = 2 (loose: any route back to the sender will do), now and in /etc/sysctl.d.";
                f.CanRepair = true;
                f.RepairData = new[] { "Interface=" + c.Name, "Uplink=" + uplink, "RpFilter=2" };
            }
            else
            {
                // What decides here is a firewall rule, not the sysctl: rp_filter = 2 would not let the packets
                // through, and the rule belongs to a ruleset another tool (firewalld, a distribution's nftables.conf)
                // writes and rewrites. Report only: the field table names no safe unattended change of it.
                f.Evidence = f.Evidence.Concat(new[] { "Decided by: " + rules[0] + (rp.Strict ? $" (and {rp})" : "") + "; report only: the rule belongs to the host's firewall configuration." }).ToArray();
                f.Remediation = $"Not repaired automatically (report only): the strict reverse-path rule decides ({rules[0]}). Make it loose where the firewall is configured (nft: fib saddr oif missing drop, without . iif; firewalld: IPv6_rpfilter=loose) or route the peers back out of {uplink} (wg-quick's fwmark rules with src_valid_mark=1)"
                    + (rp.Strict ? $"; net.ipv4.conf.{uplink}.rp_filter = 2 as well." : ".");
            }
            yield return f;
        }
    }

    /// <summary>
    /// TunnelInputBlocked: the input chain drops what arrives through the tunnel for this host itself (ping, DNS,
    /// SSH to its tunnel address): a policy drop that nothing accepting the tunnel interface overrides.
    /// </summary>
    public sealed class TunnelInputCheck : CheckBase
    {
        public const string CheckName = "TunnelInput";
        public TunnelInputCheck() : base(CheckName, SourceNames.WgState, SourceNames.Netfilter) { }

        public override IEnumerable<Finding> Evaluate(CheckContext c)
        {
            if (!c.IsLinux || c.Device == null) yield break;
            var probes = new[]
            {
                new Probe { Protocol = "icmp", InInterface = c.Name },
                new Probe { Protocol = "tcp", Port = 22, InInterface = c.Name },
                new Probe { Protocol = "udp", Port = 53, InInterface = c.Name },
            };
            foreach (var b in c.Host.Netfilter.Filter())
            {
                if ((b.Nft == null && b.Iptables == null) || PathFacts.IsIPv6(b)) continue;
                var results = probes.Select(p => ChainWalker.Walk(PathFacts.Chains(b, p), p)).ToList();
                if (!results.All(r => r.Blocked)) continue;
                bool routes = PathFacts.RoutesForPeers(c);
                var f = c.NewFinding("WGD230", routes ? Severity.Warning : Severity.Info, Cause.TunnelInputBlocked,
                    $"{b.Name} drops what arrives through {c.Name} for this host itself: ping, DNS and SSH to its tunnel address time out (forwarded traffic is not affected).");
                var r0 = results[0];
                f.Evidence = new[]
                {
                    $"{b.Name} input from {c.Name}: ICMP, TCP 22 and UDP 53 dropped by: {r0.DecidingRule}{PathFacts.Where(r0)}; no rule accepts iifname {c.Name}.",
                }.Concat(results.SelectMany(r => r.RelevantConditional).Select(r => r.Text).Distinct().Select(t => "A rule that may let some of it through: " + t)).ToArray();
                f.Remediation = $"If the peers should reach this host: add an accept for iifname \"{c.Name}\" (or for the one service) before the drop in {r0.DecidingBaseChain?.Name ?? "the input chain"}. Not repaired by Repair-WgIssue: what the peers may reach on this host is a policy decision; Invoke-WgRemediation adds that accept when the policy says {WgTroubleshoot.PathFaults.PathRepairs.TunnelInputPolicyKey}.";
                // CanRepair stays false (Repair-WgIssue does not repair it); the RemedyCatalog entry runs only for a
                // policy that has the key (PathRepairs.TunnelInputPolicyKey). The finding is reported in any case.
                f.RepairData = new[] { "Interface=" + c.Name };
                yield return f;
            }
        }
    }

    /// <summary>HookRulesMissing: rules that the config's PostUp adds are not in the live ruleset (a firewall reload dropped them).</summary>
    public sealed class HookRulesCheck : CheckBase
    {
        public const string CheckName = "HookRules";
        public HookRulesCheck() : base(CheckName, SourceNames.Netfilter) { }

        public override IEnumerable<Finding> Evaluate(CheckContext c)
        {
            if (!c.IsLinux || c.Config?.PostUp == null || c.Config.PostUp.Length == 0 || c.Device == null) yield break;
            var skipped = new List<string>();
            List<HookRule> rules;
            try { rules = HookRules.Parse(c.Config.PostUp, c.Name, skipped); }
            catch (ArgumentException) { yield break; }
            if (rules.Count == 0) yield break;
            var missing = new List<HookRule>();
            foreach (var r in rules)
                if (!Present(c.Host.Netfilter, r)) missing.Add(r);
            if (missing.Count == 0) yield break;
            bool traffic = missing.Any(r => r.Table == "nat" || r.Chain == "FORWARD" || r.Chain == "POSTROUTING" || r.Spec.Contains("masquerade") || r.Chain == "forward" || r.Chain == "postrouting");
            var f = c.NewFinding("WGD240", traffic ? Severity.Error : Severity.Warning, Cause.HookRulesMissing,
                $"{missing.Count} of the {rules.Count} firewall rule{(rules.Count == 1 ? "" : "s")} that {c.Name}'s PostUp adds {(missing.Count == 1 ? "is" : "are")} not in the live ruleset (a firewall reload or another tool removed {(missing.Count == 1 ? "it" : "them")}).");
            f.Evidence = missing.Select(r => $"Missing: {r.CommandLine} (PostUp = {r.HookLine}; not found in {(r.IsNft ? "nftables " + r.Table + " chain " + r.Chain : r.Tool + " table " + r.Table + " chain " + r.Chain)})")
                .Concat(skipped.Select(s => "Not interpreted: " + s)).ToArray();
            f.Remediation = "Repair-WgIssue re-applies the missing rules of the PostUp hook (iptables/nft commands only, as the config writes them, %i replaced).";
            f.CanRepair = true;
            f.RepairData = new[] { "Interface=" + c.Name };
            yield return f;
        }

        /// <summary>True when the rule is in the backend its tool writes to.</summary>
        public static bool Present(NetfilterState nf, HookRule r)
        {
            if (r.IsNft) return HookRules.IsPresent(r, nf.Chains("nftables"));
            var family = r.Tool.StartsWith("ip6", StringComparison.Ordinal) ? "ip6tables" : "iptables";
            var names = r.Tool.EndsWith("-legacy", StringComparison.Ordinal) ? new[] { family + "-legacy" }
                : r.Tool.EndsWith("-nft", StringComparison.Ordinal) ? new[] { family + "-nft" } : new[] { family + "-nft", family + "-legacy" };
            return names.Any(n => HookRules.IsPresent(r, nf.Chains(n)));
        }
    }

    /// <summary>
    /// StaleConntrack: a conntrack entry of a WireGuard flow rewrites its source to an address that is no longer on
    /// the interface the flow leaves by (an uplink or NAT change): packets leave with the old address and the
    /// answers never come back, and every keepalive keeps the entry alive.
    /// </summary>
    public sealed class StaleConntrackCheck : CheckBase
    {
        public const string CheckName = "StaleConntrack";
        public StaleConntrackCheck() : base(CheckName, SourceNames.WgState, SourceNames.Links) { }

        public override IEnumerable<Finding> Evaluate(CheckContext c)
        {
            if (!c.IsLinux || c.Device == null) yield break;
            var port = c.Device.Interface.ListenPort;
            var endpoints = new HashSet<string>(c.Device.Peers.Where(p => !string.IsNullOrEmpty(p.Endpoint)).Select(p => p.Endpoint), StringComparer.OrdinalIgnoreCase);
            var st = c.Host.Source(ConntrackSource.SourceName);
            if (c.Host.Conntrack == null)
            {
                if (st != null && st.IsUnknown && PathFacts.AnyHandshakeFailing(c) && c.Device.Peers.Any(p => !string.IsNullOrEmpty(p.Endpoint)))
                {
                    var n = c.NewFinding("WGD951", Severity.Warning, Cause.CheckNotRun,
                        $"The check {CheckName} could not run: {st.Name} {(st.State == nameof(SourceState.Unavailable) ? "is unavailable" : "could not be read")}" + (st.Message != null ? ": " + st.Message : "."));
                    n.Evidence = new[] { $"Source {st.Name}: {st.State}" + (st.ErrorId != null ? ", " + st.ErrorId : "") + (st.Message != null ? ": " + st.Message : "") };
                    n.RepairData = new[] { "Interface=" + c.Name, "Source=" + st.Name, "Checks=" + CheckName };
                    yield return n;
                }
                yield break;
            }
            foreach (var e in c.Host.Conntrack.Entries)
            {
                if (!e.SourceNatted || e.OrigDst == null || !e.OrigDport.HasValue) continue;
                var ep = ConntrackSource.EndpointText(e.OrigDst, e.OrigDport.Value);
                bool mine = (port.HasValue && e.OrigSport == port.Value) || endpoints.Contains(ep);
                if (!mine) continue;
                var route = c.Host.Routes.Lookup(e.OrigDst);
                var egress = route?.Device ?? c.Host.Routes.DefaultDevice;
                var link = egress != null ? c.Host.Link(egress) : null;
                if (link == null) continue;
                var addresses = link.Addresses.Select(a => a.Split('/')[0]).ToList();
                if (addresses.Any(a => string.Equals(a, e.TranslatedSource, StringComparison.OrdinalIgnoreCase))) continue;
                var peer = c.Device.Peers.FirstOrDefault(p => string.Equals(p.Endpoint, ep, StringComparison.OrdinalIgnoreCase));
                bool failing = peer == null || c.Handshakes.TryGetValue(peer.PublicKey, out var h) && h.Status != nameof(HandshakeStatus.Healthy);
                var f = c.NewFinding("WGD250", failing ? Severity.Error : Severity.Warning, Cause.StaleConntrack,
                    $"The connection-tracking entry of the flow to {ep} rewrites its source to {e.TranslatedSource}, which is not an address of {egress} any more: packets leave with the old address and the answers never come back.", peer?.PublicKey);
                f.Evidence = new[]
                {
                    "conntrack: " + e.Text,
                    $"The route to {e.OrigDst} leaves by {egress}" + (route?.Text != null ? $" ({route.Text})" : "") + $", whose addresses are {(addresses.Count == 0 ? "none" : string.Join(", ", addresses))}.",
                    "Every packet of the flow (keepalives included) keeps the entry alive, so it never expires by itself.",
                };
                f.Remediation = $"Repair-WgIssue deletes this one entry: conntrack -D -p udp --orig-src {e.OrigSrc} --orig-dst {e.OrigDst} --sport {e.OrigSport} --dport {e.OrigDport}.";
                f.CanRepair = e.OrigSport.HasValue;
                f.RepairData = new[]
                {
                    "Interface=" + c.Name, "OrigSrc=" + e.OrigSrc, "OrigDst=" + e.OrigDst,
                    "OrigSport=" + (e.OrigSport?.ToString(CultureInfo.InvariantCulture) ?? ""), "OrigDport=" + e.OrigDport.Value.ToString(CultureInfo.InvariantCulture),
                };
                yield return f;
            }
        }
    }

    /// <summary>NatMissing, the wrong-interface form: a masquerade rule covers the tunnel subnet but names a link that is not the uplink.</summary>
    public static class NatInterfaceFacts
    {
        /// <summary>Masquerade/snat rules for the tunnel subnets whose output interface is not the uplink (with the chain they are in).</summary>
        public static List<Tuple<FwChain, FwRule>> WrongInterface(IEnumerable<FwChain> chains, IList<string> subnets, string uplink)
        {
            var list = new List<Tuple<FwChain, FwRule>>();
            foreach (var ch in chains)
            {
                if (ch.Hook != "postrouting") continue;
                foreach (var r in ch.Rules)
                {
                    if (!r.IsSourceNat || r.Oif == null || r.OifNegated) continue;
                    if (Probe.NameMatches(r.Oif, uplink)) continue;
                    if (r.Saddr != null && !r.SaddrNegated && !subnets.Any(r.SaddrCovers)) continue;
                    list.Add(Tuple.Create(ch, r));
                }
            }
            return list;
        }
    }

    /// <summary>The forward path walked with the chain walker (jumps followed): TCP from the tunnel to the uplink, and its replies.</summary>
    public static class ForwardWalk
    {
        public static List<Tuple<string, string, WalkResult>> Blocked(CheckContext c, string uplink)
        {
            var list = new List<Tuple<string, string, WalkResult>>();
            if (uplink == null) return list;
            foreach (var b in c.Host.Netfilter.Filter())
            {
                if ((b.Nft == null && b.Iptables == null) || PathFacts.IsIPv6(b)) continue;
                var outbound = new Probe { Forwarded = true, Protocol = "tcp", InInterface = c.Name, OutInterface = uplink };
                var back = new Probe { Forwarded = true, Protocol = "tcp", InInterface = uplink, OutInterface = c.Name, CtState = "established" };
                var r1 = ChainWalker.Walk(PathFacts.Chains(b, outbound), outbound);
                var r2 = ChainWalker.Walk(PathFacts.Chains(b, back), back);
                if (r1.Blocked) list.Add(Tuple.Create(b.Name, $"TCP from {c.Name} to {uplink}", r1));
                if (r2.Blocked) list.Add(Tuple.Create(b.Name, $"replies from {uplink} to {c.Name}", r2));
            }
            return list;
        }

        /// <summary>What tells the forward drop apart: a container engine's DOCKER-USER chain, ufw's routed policy letting ping through.</summary>
        public static IEnumerable<string> Signature(CheckContext c, string uplink)
        {
            foreach (var b in c.Host.Netfilter.Filter().Where(x => x.Iptables != null && !x.Iptables.IsIPv6))
            {
                if (b.Iptables.Chain("filter", "DOCKER-USER") != null)
                    yield return $"{b.Name}: a DOCKER-USER chain exists (a container engine set FORWARD policy {b.Iptables.Chain("filter", "FORWARD")?.Policy ?? "?"}): the accept belongs there, before the engine's rules.";
                if (b.Iptables.Chain("filter", "ufw-user-forward") != null && uplink != null)
                {
                    var ping = new Probe { Forwarded = true, Protocol = "icmp", InInterface = c.Name, OutInterface = uplink };
                    var r = ChainWalker.Walk(b.Iptables.BaseChainsFor(ping), ping);
                    if (r.Allowed) yield return $"{b.Name}: ufw accepts forwarded ICMP ({r.DecidingRule}) and drops TCP: ping through this host works while connections do not (ufw status: deny (routed)).";
                }
            }
        }
    }
}
