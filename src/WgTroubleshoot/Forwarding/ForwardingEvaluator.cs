using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using WgTroubleshoot.Config;
using WgTroubleshoot.Firewall;
using WgTroubleshoot.Native;

namespace WgTroubleshoot.Forwarding
{
    /// <summary>Everything Get-WgForwarding looks at, gathered before any judgement (tests build it by hand).</summary>
    public sealed class ForwardingFacts
    {
        public string Interface { get; set; }
        public List<string> TunnelSubnets { get; set; } = new List<string>();
        public string IpForward { get; set; }
        public string Ipv6Forward { get; set; }
        public SysctlSetting IpForwardPersistent { get; set; }
        public SysctlSetting Ipv6ForwardPersistent { get; set; }
        public string SrcValidMark { get; set; }
        public string Uplink { get; set; }
        public string Uplink6 { get; set; }
        /// <summary>The chains of the host's one netfilter parse (<see cref="Snapshot.NetfilterState.NatForward()"/>).</summary>
        public List<FwChain> Chains { get; set; } = new List<FwChain>();
        public bool UfwEnabled { get; set; }
        public string UfwForwardPolicy { get; set; }
        public List<string> Notes { get; set; } = new List<string>();
    }

    /// <summary>Judges forwarding, NAT and the forward path from <see cref="ForwardingFacts"/>.</summary>
    public static class ForwardingEvaluator
    {
        public static ForwardingStatus Evaluate(ForwardingFacts f)
        {
            var ev = new List<string>(f.Notes);
            var problems = new List<string>();
            var s = new ForwardingStatus
            {
                Interface = f.Interface,
                TunnelSubnets = f.TunnelSubnets.ToArray(),
                IPv4Forwarding = f.IpForward == null ? (bool?)null : SysctlSettings.IsOn(f.IpForward),
                IPv6Forwarding = f.Ipv6Forward == null ? (bool?)null : SysctlSettings.IsOn(f.Ipv6Forward),
                IPv4ForwardingPersistent = f.IpForwardPersistent == null ? (bool?)null : SysctlSettings.IsOn(f.IpForwardPersistent.Value),
                IPv4PersistentSource = f.IpForwardPersistent == null ? null : f.IpForwardPersistent.File + ":" + f.IpForwardPersistent.Line,
                IPv6ForwardingPersistent = f.Ipv6ForwardPersistent == null ? (bool?)null : SysctlSettings.IsOn(f.Ipv6ForwardPersistent.Value),
                IPv6PersistentSource = f.Ipv6ForwardPersistent == null ? null : f.Ipv6ForwardPersistent.File + ":" + f.Ipv6ForwardPersistent.Line,
                SrcValidMark = f.SrcValidMark == null ? (bool?)null : SysctlSettings.IsOn(f.SrcValidMark),
                Uplink = f.Uplink,
                Uplink6 = f.Uplink6,
                UfwForwardPolicy = f.UfwForwardPolicy,
            };

            ev.Add($"net.ipv4.ip_forward = {f.IpForward ?? "?"} now; persistent: {(f.IpForwardPersistent == null ? "not set in any sysctl file (off after a reboot)" : f.IpForwardPersistent.ToString())}.");
            if (f.Ipv6Forward != null)
                ev.Add($"net.ipv6.conf.all.forwarding = {f.Ipv6Forward} now; persistent: {(f.Ipv6ForwardPersistent == null ? "not set" : f.Ipv6ForwardPersistent.ToString())}.");
            if (s.IPv4Forwarding == false)
                problems.Add("ForwardingDisabled: net.ipv4.ip_forward is 0, so packets from the tunnel are never routed on (fix: Enable-WgForwarding).");
            else if (s.IPv4ForwardingPersistent != true)
                problems.Add("NotPersistent: IPv4 forwarding is on now but " + (f.IpForwardPersistent == null ? "no sysctl file sets it" : "the winning setting " + f.IpForwardPersistent + " turns it off") + ": it is lost at the next reboot.");

            if (f.Uplink == null)
            {
                ev.Add("There is no IPv4 default route, so there is no uplink to masquerade out of.");
                problems.Add("NoUplink: no IPv4 default route.");
            }
            else ev.Add($"The IPv4 default route leaves through {f.Uplink}" + (f.Uplink6 != null ? $"; the IPv6 one through {f.Uplink6}." : "."));

            // NAT
            var v4Subnets = f.TunnelSubnets.Where(x => x.IndexOf(':') < 0).ToList();
            if (f.Uplink != null && v4Subnets.Count > 0)
            {
                var rule = FindMasquerade(f.Chains, v4Subnets, f.Uplink);
                if (rule != null)
                {
                    s.Masquerade = true;
                    s.MasqueradeRule = rule.Item1 + ": " + rule.Item2.Text;
                    ev.Add($"Traffic from {string.Join(", ", v4Subnets)} is masqueraded out of {f.Uplink} by {s.MasqueradeRule}.");
                }
                else
                {
                    ev.Add($"No masquerade or snat rule covers {string.Join(", ", v4Subnets)} leaving through {f.Uplink} (nftables postrouting chains and iptables nat POSTROUTING read).");
                    problems.Add($"NatMissing: traffic from the tunnel ({string.Join(", ", v4Subnets)}) leaves {f.Uplink} with its tunnel source address, and replies never find their way back (fix: Enable-WgForwarding -Nat).");
                }
            }

            // Forward path
            if (f.Interface != null)
            {
                var block = FindForwardBlock(f.Chains, f.Interface, f.Uplink, v4Subnets.FirstOrDefault());
                if (block != null)
                {
                    s.ForwardBlocked = true;
                    s.ForwardBlockedBy = block;
                    ev.Add("The forward path drops tunnel traffic: " + block + ".");
                    problems.Add($"ForwardBlocked: {block} (fix: accept iifname {f.Interface} and the replies in that chain, e.g. Enable-WgForwarding -Nat with the iptables backend, or your firewall's own tool).");
                }
                else ev.Add($"No forward chain drops traffic from {f.Interface} to {f.Uplink ?? "the uplink"} or its replies.");
            }
            if (f.UfwForwardPolicy != null)
                ev.Add($"ufw: DEFAULT_FORWARD_POLICY=\"{f.UfwForwardPolicy}\" ({(f.UfwEnabled ? "ufw is enabled" : "ufw is not enabled")}).");
            if (f.UfwEnabled && string.Equals(f.UfwForwardPolicy, "DROP", StringComparison.OrdinalIgnoreCase) && !s.ForwardBlocked)
            {
                s.ForwardBlocked = true;
                s.ForwardBlockedBy = "ufw DEFAULT_FORWARD_POLICY=\"DROP\"";
                problems.Add("ForwardBlocked: ufw drops forwarded traffic by default (DEFAULT_FORWARD_POLICY=\"DROP\" in /etc/default/ufw; fix: ufw route allow in on " + (f.Interface ?? "wg0") + " out on " + (f.Uplink ?? "<uplink>") + ").");
            }
            if (s.SrcValidMark.HasValue)
                ev.Add($"net.ipv4.conf.all.src_valid_mark = {f.SrcValidMark} (wg-quick sets it to 1 when it installs a default route through the tunnel with a fwmark).");

            s.Problems = problems.ToArray();
            s.Evidence = ev.ToArray();
            string[] order = { "ForwardingDisabled", "ForwardBlocked", "NatMissing", "NoUplink", "NotPersistent" };
            s.Verdict = order.FirstOrDefault(o => problems.Any(p => p.StartsWith(o + ":", StringComparison.Ordinal))) ?? "Ok";
            return s;
        }

        private static bool SaddrOk(FwRule r, string subnet)
        {
            if (r.Saddr == null) return true;
            if (r.SaddrNegated) return subnet != null && !r.Saddr.Any(p => IpPrefix.Covers(p, subnet) || IpPrefix.Covers(subnet, p));
            return subnet != null && r.SaddrCovers(subnet);
        }

        private static bool IfOk(string pattern, bool negated, string name)
        {
            if (pattern == null) return true;
            if (name == null) return false;
            return Probe.NameMatches(pattern, name) != negated;
        }

        /// <summary>The first masquerade/snat rule in a postrouting chain that covers every subnet out of the uplink.</summary>
        public static Tuple<string, FwRule> FindMasquerade(IEnumerable<FwChain> chains, IList<string> subnets, string uplink)
        {
            foreach (var c in chains)
            {
                bool post = c.Hook == "postrouting" && (c.Source == "nft" ? c.Family == "ip" || c.Family == "inet" : c.Table == "nat");
                if (!post) continue;
                foreach (var r in c.Rules)
                {
                    if (!r.IsSourceNat) continue;
                    if (!IfOk(r.Oif, r.OifNegated, uplink) || r.Iif != null) continue;
                    if (!subnets.All(sn => SaddrOk(r, sn))) continue;
                    return Tuple.Create(c.Label, r);
                }
            }
            return null;
        }

        /// <summary>
        /// Walks each forward base chain with a new packet from the tunnel to the uplink and with a reply
        /// (uplink to tunnel, ct established); returns what drops either, or null. Rules with matches this
        /// reader does not model are passed over; jumps are not followed.
        /// </summary>
        public static string FindForwardBlock(IEnumerable<FwChain> chains, string wg, string uplink, string subnet)
        {
            foreach (var c in chains)
            {
                bool fwd = c.Hook == "forward" && (c.Source == "nft" || c.Table == "filter");
                if (!fwd) continue;
                var outVerdict = Walk(c, wg, uplink, subnet, reply: false, out var outRule);
                if (outVerdict == "drop")
                    return $"{c.Label} drops new packets from {wg}" + (outRule != null ? " (rule: " + outRule.Text + ")" : $" (policy {c.PolicyName}, no accept for iifname {wg})");
                var backVerdict = Walk(c, uplink, wg, null, reply: true, out var backRule);
                if (backVerdict == "drop")
                    return $"{c.Label} drops the replies to {wg}" + (backRule != null ? " (rule: " + backRule.Text + ")" : $" (policy {c.PolicyName}, no accept for oifname {wg} or ct state established)");
            }
            return null;
        }

        private static string Walk(FwChain c, string iif, string oif, string subnet, bool reply, out FwRule decided)
        {
            decided = null;
            foreach (var r in c.Rules)
            {
                if (r.Verdict == null || r.HasOtherMatches) continue;
                if (r.Verdict.StartsWith("jump", StringComparison.Ordinal) || r.Verdict.StartsWith("goto", StringComparison.Ordinal)) continue;
                if (!IfOk(r.Iif, r.IifNegated, iif) || !IfOk(r.Oif, r.OifNegated, oif)) continue;
                if (r.Saddr != null && (reply || !SaddrOk(r, subnet))) continue;
                if (r.CtState != null && !r.CtState.Contains(reply ? "established" : "new")) continue;
                if (r.Verdict == "accept" || r.Verdict == "drop") { decided = r; return r.Verdict; }
                if (r.Verdict == "return") break;
            }
            return c.PolicyName ?? "accept";
        }
    }

    /// <summary>Gathers <see cref="ForwardingFacts"/> from this host (this network namespace).</summary>
    public sealed class ForwardingReader
    {
        private readonly INativeRunner _runner;
        private readonly SysctlSettings _sysctl;

        public ForwardingReader(INativeRunner runner, SysctlSettings sysctl = null)
        {
            _runner = runner;
            _sysctl = sysctl ?? new SysctlSettings();
        }

        public SysctlSettings Sysctl => _sysctl;

        /// <summary>The device of the default route: `ip [-6] route show default` → "default via X dev ens3 ...".</summary>
        public string DefaultRouteDevice(bool v6)
        {
            if (!_runner.IsAvailable("ip")) return null;
            var r = _runner.Run("ip", v6 ? new[] { "-6", "route", "show", "default" } : new[] { "-4", "route", "show", "default" });
            return r.Success ? ParseDefaultRouteDevice(r.StdOut) : null;
        }

        public static string ParseDefaultRouteDevice(string text)
        {
            foreach (var line in (text ?? "").Split('\n'))
            {
                var t = line.Split(new[] { ' ', '\t' }, StringSplitOptions.RemoveEmptyEntries);
                if (t.Length == 0 || t[0] != "default") continue;
                for (int i = 1; i + 1 < t.Length; i++) if (t[i] == "dev") return t[i + 1];
            }
            return null;
        }

        /// <summary>
        /// The facts for one interface, read as a diagnosis reads them (one snapshot of the netfilter backends, the
        /// sysctls and the default routes); what could not be read is in the Notes.
        /// </summary>
        public ForwardingFacts Read(string iface, IEnumerable<string> addresses)
        {
            var snap = Snapshot.SnapshotCollector.CollectHost(_runner, null,
                new Snapshot.Sources.NetfilterSource(), new Snapshot.Sources.SysctlSource(_sysctl), new Snapshot.Sources.RouteSource());
            var f = FromSnapshot(snap, iface, addresses, true);
            foreach (var st in snap.Sources.Where(x => x.IsUnknown)) f.Notes.Add($"{st.Name}: {st.Message}");
            return f;
        }

        /// <summary>The facts for one interface from a host snapshot (pure).</summary>
        public static ForwardingFacts FromSnapshot(Snapshot.HostSnapshot snap, string iface, IEnumerable<string> addresses, bool withNetfilter)
        {
            var f = new ForwardingFacts { Interface = iface };
            foreach (var a in addresses ?? Enumerable.Empty<string>())
            {
                var n = IpPrefix.NetworkOf(a);
                if (n != null && n.StartsWith("fe80:", StringComparison.OrdinalIgnoreCase)) continue; // link-local: never routed
                if (n != null && !f.TunnelSubnets.Contains(n)) f.TunnelSubnets.Add(n);
            }
            var s = snap.Sysctls;
            f.IpForward = s.Get("net.ipv4.ip_forward");
            f.Ipv6Forward = s.Get("net.ipv6.conf.all.forwarding");
            f.SrcValidMark = s.Get("net.ipv4.conf.all.src_valid_mark");
            f.IpForwardPersistent = s.GetPersistent("net.ipv4.ip_forward");
            f.Ipv6ForwardPersistent = s.GetPersistent("net.ipv6.conf.all.forwarding");
            f.Uplink = snap.Routes.DefaultDevice;
            f.Uplink6 = snap.Routes.DefaultDevice6;
            if (withNetfilter)
            {
                f.Chains = snap.Netfilter.NatForward();
                f.UfwForwardPolicy = snap.Netfilter.UfwForwardPolicy;
                f.UfwEnabled = snap.Netfilter.UfwEnabled;
            }
            return f;
        }
    }
}
