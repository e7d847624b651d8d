using System;
using System.Collections.Generic;
using System.Linq;
using WgTroubleshoot.Native;
using WgTroubleshoot.Snapshot;
using WgTroubleshoot.Snapshot.Sources;

namespace WgTroubleshoot.Firewall
{
    /// <summary>What was read from one firewall backend: its parsed rules, or why it could not be read.</summary>
    public sealed class BackendSnapshot
    {
        public string Name { get; set; }
        public bool Active { get; set; }
        /// <summary>The command-line tool that changes this backend (nft, iptables-nft, ufw, firewall-cmd ...).</summary>
        public string Tool { get; set; }
        public NftRuleset Nft { get; set; }
        public IptablesRuleset Iptables { get; set; }
        public UfwStatus Ufw { get; set; }
        /// <summary>firewalld: the zones that apply to traffic arriving on the underlay.</summary>
        public List<FirewalldZone> Zones { get; set; }
        public Dictionary<string, string[]> ServicePorts { get; set; }
        /// <summary>The raw text read (for the -WhatIf "nothing changed" checks and for bug reports).</summary>
        public string RawText { get; set; }
    }

    /// <summary>The inputs of one evaluation besides the rules.</summary>
    public sealed class FirewallQuery
    {
        public int Port { get; set; }
        public string Interface { get; set; }
        /// <summary>Links the WireGuard UDP packets may arrive on (all but loopback and tunnels); empty: unknown.</summary>
        public IReadOnlyList<string> Underlay { get; set; } = new string[0];
    }

    /// <summary>Turns a backend snapshot into a <see cref="FirewallStatus"/> by walking its rules. Pure: no tools are run.</summary>
    public static class FirewallEvaluator
    {
        public const string UpstreamNote = "No local firewall blocks the port. If handshakes still do not complete, a cloud security group (AWS, Azure, GCP ...), the router's port forwarding or another upstream filter is the next suspect.";

        public static FirewallStatus Evaluate(BackendSnapshot snap, FirewallQuery q)
        {
            var st = new FirewallStatus { Backend = snap.Name, Active = snap.Active, Interface = q.Interface, Port = q.Port, Protocol = "udp" };
            var notes = new List<string>();
            var probe = new Probe { Protocol = "udp", Port = q.Port, UnderlayInterfaces = q.Underlay };

            Func<Probe, List<FwChain>> inputChains;
            bool dualStack = false;
            if (snap.Nft != null) { inputChains = p => snap.Nft.BaseChainsFor(p); dualStack = true; }
            else if (snap.Iptables != null) { inputChains = p => snap.Iptables.BaseChainsFor(p); probe.IsIPv6 = snap.Iptables.IsIPv6; }
            else if (snap.Ufw != null)
            {
                inputChains = p => p.Forwarded ? new List<FwChain> { snap.Ufw.Forward } : new List<FwChain> { snap.Ufw.Input };
                dualStack = true;
            }
            else if (snap.Zones != null)
            {
                return EvaluateFirewalld(snap, q, st, probe);
            }
            else
            {
                st.Verdict = FirewallVerdict.Unknown;
                st.Notes = new[] { "Nothing was read from this backend." };
                return st;
            }

            var r = ChainWalker.Walk(inputChains(probe), probe);
            Fill(st, r, notes);
            if (dualStack)
            {
                var r6 = ChainWalker.Walk(inputChains(probe.With(p => p.IsIPv6 = true)), probe.With(p => p.IsIPv6 = true));
                if (r6.Outcome != r.Outcome || r6.Certain != r.Certain)
                    notes.Add($"Over IPv6 the port is {Word(r6)}: {r6.DecidingRule}.");
            }
            if (st.Verdict != FirewallVerdict.Allowed)
            {
                var tcp = probe.With(p => p.Protocol = "tcp");
                var rt = ChainWalker.Walk(inputChains(tcp), tcp);
                if (rt.Allowed && rt.DecidingRuleObject != null && rt.DecidingRuleObject.TestsPort)
                {
                    st.TcpOnlyRule = rt.DecidingRule;
                    notes.Add($"TCP {q.Port} is allowed but WireGuard uses UDP only: the rule '{rt.DecidingRule}' does not help.");
                }
            }
            st.ForwardAllowed = Forward(inputChains, q, probe, notes);
            st.Notes = notes.ToArray();
            return st;
        }

        private static string Word(WalkResult r) => !r.Certain ? "maybe blocked" : r.Allowed ? "allowed" : "blocked";

        private static void Fill(FirewallStatus st, WalkResult r, List<string> notes)
        {
            st.DecidingRule = r.DecidingRule;
            if (r.Certain)
            {
                st.Verdict = r.Allowed ? FirewallVerdict.Allowed : FirewallVerdict.Blocked;
                st.InboundAllowed = r.Allowed;
            }
            else
            {
                st.Verdict = FirewallVerdict.Unknown;
                st.InboundAllowed = null;
                foreach (var c in r.RelevantConditional)
                    notes.Add($"It depends on a rule that tests something not known here (source address, rate, set ...): '{c.Text}' ({c.Action.ToString().ToLowerInvariant()}).");
                if (r.Outcome == RuleAction.Unknown)
                    notes.Add($"The rule '{r.DecidingRule}' hands the packet to something that cannot be evaluated (a queue).");
            }
        }

        /// <summary>Forwarding: new connections from the tunnel, and replies back into it.</summary>
        private static bool? Forward(Func<Probe, List<FwChain>> chains, FirewallQuery q, Probe basis, List<string> notes)
        {
            if (q.Interface == null)
            {
                notes.Add("Forwarding was not checked: give -Interface to know which interface the tunnel traffic uses.");
                return null;
            }
            var fromTunnel = basis.With(p => { p.Forwarded = true; p.Protocol = null; p.Port = null; p.InInterface = q.Interface; p.CtState = "new"; });
            var toTunnel = basis.With(p => { p.Forwarded = true; p.Protocol = null; p.Port = null; p.InInterface = null; p.OutInterface = q.Interface; p.CtState = "established"; });
            var a = ChainWalker.Walk(chains(fromTunnel), fromTunnel);
            var b = ChainWalker.Walk(chains(toTunnel), toTunnel);
            if (a.Certain && a.Blocked) { notes.Add($"Forwarded traffic from {q.Interface} is dropped: {a.DecidingRule}."); return false; }
            if (b.Certain && b.Blocked) { notes.Add($"Replies forwarded back into {q.Interface} are dropped: {b.DecidingRule}."); return false; }
            if (a.Certain && b.Certain) return true;
            return null;
        }

        private static FirewallStatus EvaluateFirewalld(BackendSnapshot snap, FirewallQuery q, FirewallStatus st, Probe probe)
        {
            var notes = new List<string>();
            var results = snap.Zones.Select(z => (zone: z, chain: z.ToChain(snap.ServicePorts))).ToList();
            if (results.Count == 0)
            {
                st.Verdict = FirewallVerdict.Unknown;
                st.Notes = new[] { "No firewalld zone applies to the underlay interfaces." };
                return st;
            }
            var walks = results.Select(x => (x.zone, x.chain, r: ChainWalker.Walk(new[] { x.chain }, probe))).ToList();
            var first = walks[0];
            Fill(st, first.r, notes);
            if (walks.Skip(1).Any(w => w.r.Outcome != first.r.Outcome || w.r.Certain != first.r.Certain))
            {
                st.Verdict = FirewallVerdict.Unknown;
                st.InboundAllowed = null;
                foreach (var w in walks) notes.Add($"Zone {w.zone.Name} ({string.Join(", ", w.zone.Interfaces)}): {Word(w.r)} by {w.r.DecidingRule}.");
            }
            if (st.Verdict != FirewallVerdict.Allowed)
            {
                var tcp = probe.With(p => p.Protocol = "tcp");
                var rt = ChainWalker.Walk(new[] { first.chain }, tcp);
                if (rt.Allowed && rt.DecidingRuleObject != null && rt.DecidingRuleObject.TestsPort)
                {
                    st.TcpOnlyRule = rt.DecidingRule;
                    notes.Add($"TCP {q.Port} is allowed but WireGuard uses UDP only: '{rt.DecidingRule}' does not help.");
                }
            }
            notes.Add("Forwarding under firewalld depends on zone and policy objects; see the nftables result for the rules it loaded.");
            st.Notes = notes.ToArray();
            return st;
        }
    }

    /// <summary>
    /// Finds the firewall backends present on this host (this network namespace) and reads their rules through
    /// the native runner: nft, iptables/ip6tables (legacy and nf_tables), ufw, firewalld. The commands and the parse
    /// are the snapshot's (<see cref="NetfilterSource.ReadBackends"/>); a backend that fails to read throws here.
    /// </summary>
    public sealed class FirewallInspector
    {
        private readonly INativeRunner _runner;

        public FirewallInspector(INativeRunner runner)
        {
            _runner = runner;
        }

        public static readonly string[] BackendNames = { "nftables", "iptables-nft", "iptables-legacy", "ip6tables-nft", "ip6tables-legacy", "ufw", "firewalld" };

        /// <summary>Every backend that is installed, read (ufw even when inactive); the caller keeps the active ones.</summary>
        public List<BackendSnapshot> ReadAll(IReadOnlyList<string> underlay = null)
        {
            var nf = new NetfilterState { Underlay = underlay?.ToList() ?? new List<string>() };
            NetfilterSource.ReadBackends(_runner, nf, (backend, body) => body(), null, ufwWhenInactive: true);
            // firewalld and ufw first (the front ends), then nftables and iptables in the order read.
            return nf.Filter().Select((b, i) => new { b, i }).OrderBy(x => x.b.Name == "firewalld" ? 0 : x.b.Name == "ufw" ? 1 : 2).ThenBy(x => x.i).Select(x => x.b).ToList();
        }

        public BackendSnapshot ReadNft() => NetfilterSource.ReadNft(_runner).ToBackendSnapshot();

        public BackendSnapshot ReadIptables(string family, string flavour, string saveTool, string tool)
            => NetfilterSource.ReadIptables(_runner, family + "-" + flavour, saveTool, tool).ToBackendSnapshot();

        public BackendSnapshot ReadUfw() => NetfilterSource.ReadUfw(_runner).ToBackendSnapshot();

        public BackendSnapshot ReadFirewalld(IReadOnlyList<string> underlay = null) => NetfilterSource.ReadFirewalld(_runner, underlay).ToBackendSnapshot();
    }
}
