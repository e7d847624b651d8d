using System;
using System.Collections.Generic;
using System.Linq;

namespace WgTroubleshoot.Firewall
{
    /// <summary>Three-valued match result: a rule that tests something the walk cannot know (a source address) is Maybe.</summary>
    public enum Tri { False = 0, Maybe = 1, True = 2 }

    public static class TriExtensions
    {
        public static Tri And(this Tri a, Tri b) => (Tri)Math.Min((int)a, (int)b);
        public static Tri Not(this Tri a) => a == Tri.True ? Tri.False : a == Tri.False ? Tri.True : Tri.Maybe;
        public static Tri From(bool b) => b ? Tri.True : Tri.False;
    }

    /// <summary>
    /// The packet the walk follows: a new connection's first packet. Protocol "udp"/"tcp", or null for "any"
    /// (the forward checks). Port null means any. InInterface null means "arrives on the underlay" (any link
    /// that is neither loopback nor a tunnel).
    /// </summary>
    public sealed class Probe
    {
        public string Protocol { get; set; } = "udp";
        public int? Port { get; set; }
        public bool IsIPv6 { get; set; }
        public string InInterface { get; set; }
        public string OutInterface { get; set; }
        /// <summary>True for a forwarded packet (no local destination).</summary>
        public bool Forwarded { get; set; }
        /// <summary>True for a packet this host sends (output hook): it has an output interface and no input interface.</summary>
        public bool Output { get; set; }
        /// <summary>The source port (output probes: WireGuard's listen port); null means any.</summary>
        public int? SourcePort { get; set; }
        /// <summary>Conntrack state of the packet: "new" for the first packet of a connection, "established" for replies.</summary>
        public string CtState { get; set; } = "new";
        /// <summary>Names of the links the probe may arrive on (empty: unknown).</summary>
        public IReadOnlyList<string> UnderlayInterfaces { get; set; } = new string[0];

        public Probe With(Action<Probe> change)
        {
            var p = (Probe)MemberwiseClone();
            change(p);
            return p;
        }

        /// <summary>Matches an interface name test (exact names, nft "wg*" or iptables "wg+" wildcards) against the probe.</summary>
        public Tri MatchInterface(IEnumerable<string> patterns, bool output)
        {
            var list = patterns.ToList();
            if (Output && !output) return Tri.False; // a locally generated packet has no input interface
            var name = output ? OutInterface : InInterface;
            if (name != null) return TriExtensions.From(list.Any(p => NameMatches(p, name)));
            if (output) return Tri.Maybe; // input packets have no output interface; forward: unknown
            // The underlay: never loopback.
            var candidates = UnderlayInterfaces.Where(n => n != "lo").ToList();
            if (candidates.Count == 0)
                return list.All(p => NameMatches(p, "lo")) ? Tri.False : Tri.Maybe;
            int hits = candidates.Count(c => list.Any(p => NameMatches(p, c)));
            if (hits == 0) return Tri.False;
            return hits == candidates.Count ? Tri.True : Tri.Maybe;
        }

        /// <summary>nft "ens*" and iptables "ens+" wildcards; exact names otherwise; false when either is null.</summary>
        public static bool NameMatches(string pattern, string name)
        {
            if (pattern == null || name == null) return false;
            if (pattern.EndsWith("*", StringComparison.Ordinal) || pattern.EndsWith("+", StringComparison.Ordinal))
                return name.StartsWith(pattern.Substring(0, pattern.Length - 1), StringComparison.Ordinal);
            return string.Equals(pattern, name, StringComparison.Ordinal);
        }

        public Tri MatchProtocol(IEnumerable<string> protocols)
        {
            var set = protocols.Select(NormalizeProtocol).ToList();
            if (set.Contains("all")) return Tri.True;
            if (Protocol == null) return Tri.Maybe;
            return TriExtensions.From(set.Contains(Protocol));
        }

        public static string NormalizeProtocol(string p)
        {
            switch (p.ToLowerInvariant())
            {
                case "17": return "udp";
                case "6": return "tcp";
                case "0": return "all";
                case "1": return "icmp";
                case "58": case "icmpv6": case "ipv6-icmp": return "icmpv6";
                default: return p.ToLowerInvariant();
            }
        }

        public Tri MatchPort(IEnumerable<PortRange> ranges)
        {
            if (Port == null) return Tri.Maybe;
            return TriExtensions.From(ranges.Any(r => r.Contains(Port.Value)));
        }

        public Tri MatchSourcePort(IEnumerable<PortRange> ranges)
        {
            if (SourcePort == null) return Tri.Maybe;
            return TriExtensions.From(ranges.Any(r => r.Contains(SourcePort.Value)));
        }

        /// <summary>True when the packet has an output interface the rules may test (forwarded or sent by this host).</summary>
        public bool HasOutInterface => Forwarded || Output;
    }

    public struct PortRange
    {
        public PortRange(int from, int to) { From = from; To = to; }
        public int From { get; }
        public int To { get; }
        public bool Contains(int port) => port >= From && port <= To;
        public override string ToString() => From == To ? From.ToString() : From + "-" + To;
    }

    public enum RuleAction { None, Accept, Drop, Reject, Jump, Goto, Return, Unknown }

    /// <summary>
    /// One rule: its text (the evidence shown to the user), its match, and what it does when it matches. Besides the
    /// match the chain walker evaluates, the parser records the rule's structured facts (interfaces, source prefixes,
    /// ct state, verdict including NAT statements) that the NAT, forward and repair code reads.
    /// </summary>
    public sealed class FwRule
    {
        public string Text { get; set; }
        public Func<Probe, Tri> Match { get; set; } = _ => Tri.True;
        public RuleAction Action { get; set; }
        public string Target { get; set; }
        /// <summary>Resolved target chain of a jump or goto.</summary>
        public FwChain TargetChain { get; set; }
        /// <summary>True when the rule tests the destination port (so an accept of it is about "the port").</summary>
        public bool TestsPort { get; set; }
        public FwChain Chain { get; set; }
        /// <summary>nft's handle (`nft -a` listings); null when the text has none.</summary>
        public string Handle { get; set; }

        /// <summary>The input interface the rule names (nft wildcard "wg*", iptables "wg+", or an nft set as written); null when none.</summary>
        public string Iif { get; set; }
        public bool IifNegated { get; set; }
        public string Oif { get; set; }
        public bool OifNegated { get; set; }
        /// <summary>Source prefixes (several for an nft set); null when the rule has no source match.</summary>
        public string[] Saddr { get; set; }
        public bool SaddrNegated { get; set; }
        /// <summary>ct state values in lower case (established, related, new...); null when none.</summary>
        public string[] CtState { get; set; }
        /// <summary>
        /// accept, drop (also for reject), masquerade, snat, dnat, redirect, return, "jump X", "goto X"; null when the
        /// rule only counts, logs or changes packets.
        /// </summary>
        public string Verdict { get; set; }
        /// <summary>True when the rule matches on something the facts above do not model (ports, protocols, destinations...).</summary>
        public bool HasOtherMatches { get; set; }

        /// <summary>True when the rule rewrites the TCP MSS option (iptables -j TCPMSS, nft `tcp option maxseg size set`).</summary>
        public bool SetsMss { get; set; }
        /// <summary>The MSS rewrite clamps to the route's MTU (--clamp-mss-to-pmtu, `set rt mtu`).</summary>
        public bool MssToPathMtu { get; set; }
        /// <summary>The fixed MSS the rewrite sets (--set-mss N, `set N`); null for a clamp to the path MTU.</summary>
        public int? MssValue { get; set; }
        /// <summary>The TCP flags match as written ("syn / syn,rst", "SYN,RST SYN"; --syn as "SYN,RST,ACK,FIN SYN"); null when none.</summary>
        public string TcpFlags { get; set; }
        /// <summary>"ipv4" or "ipv6" when the rule's own matches limit it to one family (nft `meta nfproto`, ip/ip6 header fields); null otherwise.</summary>
        public string MatchFamily { get; set; }

        /// <summary>
        /// The family of the packets the rule sees: "ipv4" or "ipv6" for iptables/ip6tables and nft ip/ip6 tables, else
        /// (inet, netdev...) what its own matches limit it to; null for both.
        /// </summary>
        public string PacketFamily => Chain?.Family == "ip" ? "ipv4" : Chain?.Family == "ip6" ? "ipv6" : MatchFamily;

        /// <summary>True for a masquerade or snat rule.</summary>
        public bool IsSourceNat => Verdict == "masquerade" || Verdict == "snat";

        /// <summary>True when a source match names a prefix that contains <paramref name="subnet"/> (not negated).</summary>
        public bool SaddrCovers(string subnet)
            => Saddr != null && !SaddrNegated && Saddr.Any(p => Config.IpPrefix.Covers(p, subnet));
    }

    public sealed class FwChain
    {
        public string Name { get; set; }
        /// <summary>Where the chain lives, e.g. "inet filter" or "filter" (iptables table).</summary>
        public string Table { get; set; }
        /// <summary>nft family (ip, ip6, inet, netdev) or "ip"/"ip6" for iptables/ip6tables.</summary>
        public string Family { get; set; }
        public string Hook { get; set; }
        public int Priority { get; set; }
        /// <summary>netdev ingress chains are bound to one device.</summary>
        public string Device { get; set; }
        /// <summary>The policy of a base chain: accept or drop; null for a regular chain.</summary>
        public string Policy { get; set; }
        public string Type { get; set; } = "filter";
        /// <summary>"nft" or "iptables": the syntax the chain was read from.</summary>
        public string Source { get; set; }
        /// <summary>How the policy is named as evidence; defaults to "policy drop of chain input (inet filter)".</summary>
        public string PolicyText { get; set; }
        public bool IsBase => Hook != null;
        public List<FwRule> Rules { get; } = new List<FwRule>();

        public string Describe() => $"chain {Name} ({Table})";
        public override string ToString() => Describe();

        /// <summary>"nft ip nat postrouting", "iptables ip nat POSTROUTING": how the NAT and forward evidence names the chain.</summary>
        public string Label => Source == "nft" ? $"nft {Table} {Name}" : $"{Source} {Family} {Table} {Name}";

        /// <summary>The policy in lower case (iptables prints ACCEPT/DROP); null for a regular chain.</summary>
        public string PolicyName => Policy?.ToLowerInvariant();
    }

    /// <summary>The verdict of one walk through every base chain a packet meets.</summary>
    public sealed class WalkResult
    {
        /// <summary>Accept, Drop, Reject or Unknown.</summary>
        public RuleAction Outcome { get; set; }
        /// <summary>The rule that decided (text), or "policy drop of chain input (inet filter)".</summary>
        public string DecidingRule { get; set; }
        /// <summary>The deciding rule itself; null when a policy decided.</summary>
        public FwRule DecidingRuleObject { get; set; }
        /// <summary>The base chain the decision was made in (for a drop: where an accept must go).</summary>
        public FwChain DecidingBaseChain { get; set; }
        /// <summary>Terminal rules that may or may not apply (they test something unknown) and would change the outcome.</summary>
        public List<FwRule> Conditional { get; } = new List<FwRule>();
        /// <summary>Every base chain that drops or rejects the probe (more than one when several do).</summary>
        public List<FwChain> BlockingBaseChains { get; } = new List<FwChain>();
        public bool Allowed => Outcome == RuleAction.Accept;
        public bool Blocked => Outcome == RuleAction.Drop || Outcome == RuleAction.Reject;
        /// <summary>Allowed or blocked for certain: no conditional rule could change the outcome.</summary>
        public bool Certain => Outcome != RuleAction.Unknown && !Conditional.Any(r => Differs(r.Action));

        private bool Differs(RuleAction a)
        {
            if (a == RuleAction.Return) return true;
            bool blocks = a == RuleAction.Drop || a == RuleAction.Reject;
            return Allowed ? blocks || a == RuleAction.Unknown : !blocks;
        }

        public IEnumerable<FwRule> RelevantConditional => Conditional.Where(r => Differs(r.Action));
    }

    /// <summary>
    /// Walks base chains in the order the kernel runs them (hook, then priority), rules in order, following
    /// jumps (return to the caller) and gotos (no return) into regular chains, with the chain policy at the end.
    /// An accept ends only its own base chain: the next base chain on the hook still sees the packet, and a
    /// drop in any of them drops it.
    /// </summary>
    public static class ChainWalker
    {
        private const int MaxDepth = 64;

        private enum Flow { FellThrough, Returned, Final }

        private sealed class Outcome
        {
            public Flow Flow;
            public RuleAction Action;
            public FwRule Rule;
        }

        public static WalkResult Walk(IEnumerable<FwChain> baseChains, Probe probe)
        {
            var result = new WalkResult { Outcome = RuleAction.Accept };
            FwRule lastAccept = null;
            FwChain lastAcceptChain = null;
            foreach (var chain in baseChains)
            {
                var o = WalkChain(chain, probe, result, false, 0);
                RuleAction action;
                FwRule rule = null;
                if (o.Flow == Flow.Final) { action = o.Action; rule = o.Rule; }
                else action = string.Equals(chain.Policy, "drop", StringComparison.OrdinalIgnoreCase) ? RuleAction.Drop
                    : string.Equals(chain.Policy, "reject", StringComparison.OrdinalIgnoreCase) ? RuleAction.Reject : RuleAction.Accept;

                if (action == RuleAction.Accept)
                {
                    if (rule != null || lastAccept == null) { lastAccept = rule; lastAcceptChain = chain; }
                    continue;
                }
                if (action == RuleAction.Unknown)
                {
                    if (result.Outcome == RuleAction.Accept)
                    {
                        result.Outcome = RuleAction.Unknown;
                        result.DecidingRule = rule?.Text;
                        result.DecidingRuleObject = rule;
                        result.DecidingBaseChain = chain;
                    }
                    continue;
                }
                // Drop or reject: the first one decides; later ones are remembered for the repair.
                result.BlockingBaseChains.Add(chain);
                if (result.Outcome == RuleAction.Accept || result.Outcome == RuleAction.Unknown && result.BlockingBaseChains.Count == 1)
                {
                    result.Outcome = action;
                    result.DecidingRule = rule != null ? rule.Text : chain.PolicyText ?? $"policy {chain.Policy.ToLowerInvariant()} of {chain.Describe()}";
                    result.DecidingRuleObject = rule;
                    result.DecidingBaseChain = chain;
                }
            }
            if (result.Outcome == RuleAction.Accept)
            {
                result.DecidingRuleObject = lastAccept;
                result.DecidingBaseChain = lastAcceptChain;
                result.DecidingRule = lastAccept != null ? lastAccept.Text
                    : lastAcceptChain != null ? lastAcceptChain.PolicyText ?? $"policy accept of {lastAcceptChain.Describe()}" : "no base chain filters this traffic";
            }
            return result;
        }

        private static Outcome WalkChain(FwChain chain, Probe probe, WalkResult result, bool conditional, int depth)
        {
            if (depth > MaxDepth)
                return new Outcome { Flow = Flow.Final, Action = RuleAction.Unknown, Rule = new FwRule { Text = "jump loop at " + chain.Describe(), Action = RuleAction.Unknown } };
            FwRule maybeReturn = null;
            Outcome Final(Outcome o)
            {
                // A conditional return earlier in this chain lets some packets skip this decision.
                if (maybeReturn != null && !result.Conditional.Contains(maybeReturn)) result.Conditional.Add(maybeReturn);
                return o;
            }
            foreach (var rule in chain.Rules)
            {
                var m = rule.Match(probe);
                if (m == Tri.False) continue;
                switch (rule.Action)
                {
                    case RuleAction.None:
                        continue;
                    case RuleAction.Accept:
                    case RuleAction.Drop:
                    case RuleAction.Reject:
                    case RuleAction.Unknown:
                        if (m == Tri.True) return Final(new Outcome { Flow = Flow.Final, Action = rule.Action, Rule = rule });
                        result.Conditional.Add(rule);
                        continue;
                    case RuleAction.Return:
                        if (m == Tri.True) return new Outcome { Flow = Flow.Returned };
                        // A conditional return: follow the path where it does not apply, and remember that the
                        // packets it does apply to skip the rest of this chain (the outcome depends on them).
                        maybeReturn = maybeReturn ?? rule;
                        continue;
                    case RuleAction.Jump:
                    case RuleAction.Goto:
                        if (rule.TargetChain == null) continue;
                        if (m == Tri.True)
                        {
                            var sub = WalkChain(rule.TargetChain, probe, result, conditional, depth + 1);
                            if (sub.Flow == Flow.Final) return Final(sub);
                            if (rule.Action == RuleAction.Goto) return new Outcome { Flow = Flow.Returned };
                            continue;
                        }
                        // May or may not jump: what the target decides is only conditional.
                        var maybe = WalkChain(rule.TargetChain, probe, result, true, depth + 1);
                        if (maybe.Flow == Flow.Final && maybe.Rule != null && !result.Conditional.Contains(maybe.Rule))
                            result.Conditional.Add(maybe.Rule);
                        continue;
                }
            }
            return new Outcome { Flow = Flow.FellThrough };
        }
    }
}
