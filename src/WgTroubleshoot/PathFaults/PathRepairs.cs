using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Management.Automation;
using System.Net;
using System.Text.RegularExpressions;
using WgTroubleshoot.Changes;
using WgTroubleshoot.Config;
using WgTroubleshoot.Diagnosis;
using WgTroubleshoot.Firewall;
using WgTroubleshoot.Forwarding;
using WgTroubleshoot.Native;
using WgTroubleshoot.Remedies;

namespace WgTroubleshoot.PathFaults
{
    /// <summary>
    /// Repairs of the path and firewall causes: FirewallBlocksReplies, ForwardPathBlocked, ReversePathFilter,
    /// HookRulesMissing and StaleConntrack. Each reads the live state again (never trusting more of a finding
    /// than its validated interface, port and addresses), applies its steps through the repair's one <see cref="Transaction"/> across every
    /// backend that drops (so a failure rolls all of them back), and returns its change record with the undo
    /// commands. <see cref="Repairer"/> verifies with a fresh diagnosis and rolls back when it does not help.
    /// </summary>
    public static class PathRepairs
    {
        private static readonly Regex Handle = new Regex(@"#\s*handle\s+(\d+)", RegexOptions.Compiled);
        private static readonly Regex IfName = new Regex(@"^[A-Za-z0-9_.=+-]{1,15}$", RegexOptions.Compiled);

        /// <summary>The causes repaired here.</summary>
        public static readonly string[] Causes =
        {
            nameof(Cause.FirewallBlocksReplies), nameof(Cause.ForwardPathBlocked), nameof(Cause.ReversePathFilter),
            nameof(Cause.HookRulesMissing), nameof(Cause.StaleConntrack),
        };

        public static bool Handles(FindingRef f) => f != null && Causes.Contains(f.Cause);

        /// <summary>What the repair does, in words (shown as the finding's remediation and in -WhatIf).</summary>
        public static string Describe(FindingRef f)
        {
            switch (f.Cause)
            {
                case nameof(Cause.FirewallBlocksReplies): return $"accept UDP from port {f.Data("Port")} in every output chain that drops it ({f.Data("Backend")})";
                case nameof(Cause.ForwardPathBlocked): return $"accept {f.Interface} to the uplink and its replies in the forward chains that drop them (DOCKER-USER first where it exists; ufw route allow under ufw)";
                case nameof(Cause.ReversePathFilter): return $"sysctl -w net.ipv4.conf.{f.Data("Uplink")}.rp_filter=2";
                case nameof(Cause.HookRulesMissing): return $"re-apply the missing rules of {f.Interface}'s PostUp";
                case nameof(Cause.StaleConntrack): return $"conntrack -D -p udp --orig-src {f.Data("OrigSrc")} --orig-dst {f.Data("OrigDst")} --sport {f.Data("OrigSport")} --dport {f.Data("OrigDport")}";
                default: return null;
            }
        }

        public static IList<ChangeRecord> Apply(RemedyContext ctx, FindingRef f)
        {

            if (!WgConfigLocation.IsValidInterfaceName(f.Interface) || !IfName.IsMatch(f.Interface))
                throw Invalid("the interface name " + f.Interface);
            switch (f.Cause)
            {
                case nameof(Cause.FirewallBlocksReplies): return new[] { AllowReplies(ctx, f) };
                case nameof(Cause.ForwardPathBlocked): return new[] { OpenForwardPath(ctx, f) };
                case nameof(Cause.ReversePathFilter): return new[] { LoosenReversePath(ctx, f) };
                case nameof(Cause.HookRulesMissing): return new[] { ReapplyHooks(ctx, f) };
                case nameof(Cause.StaleConntrack): return new[] { DeleteConntrack(ctx, f) };
                default: throw Invalid("the cause " + f.Cause);
            }
        }

        /// <summary>
        /// The steps of one path repair, run through the repair's one <see cref="Transaction"/> (so a failure rolls
        /// back every backend it already changed, and verification can roll back all of it): each command is
        /// offered to ShouldProcess, and the privilege is checked before the first change.
        /// </summary>
        private sealed class Tx
        {
            private readonly RemedyContext _ctx;
            private readonly string _what;
            private ChangeRecord _rec;
            private bool _checked;
            public readonly List<NativeCommand> Done = new List<NativeCommand>();

            public Tx(RemedyContext ctx, string what) { _ctx = ctx; _what = what; }

            public void Apply(NativeCommand command, IEnumerable<NativeCommand> undo) => Apply(command, _ => undo);

            public void Apply(NativeCommand command, Func<NativeResult, IEnumerable<NativeCommand>> undo)
            {
                if (!_ctx.ShouldProcess(command.CommandLine, _what)) return;
                if (!_checked) { Privilege.Demand(_what); _checked = true; }
                _rec = _rec ?? _ctx.Transaction.Begin(_what, _what, null);
                _ctx.Transaction.Run(_rec, _what, command, undo);
                Done.Add(command);
            }

            public ChangeRecord ToRecord(string target, string action, string before, string after, IEnumerable<string> notes = null)
            {
                var rec = _rec ?? new ChangeRecord { Changed = false };
                rec.Target = target; rec.Action = action; rec.Before = before; rec.After = after;
                rec.Notes = (notes ?? Enumerable.Empty<string>()).ToArray();
                return rec;
            }

            public static ChangeRecord Unchanged(string target, string action, string state)
                => new ChangeRecord { Target = target, Action = action, Changed = false, Before = state, After = state, Notes = new[] { "Already as wanted: nothing was changed." } };
        }

        private static WgException Invalid(string what)
            => new WgException(ErrorIds.InvalidArgument, ErrorCategory.InvalidArgument, $"The repair data is not valid: {what}.", what);

        private static int Port(FindingRef f)
            => int.TryParse(f.Data("Port"), NumberStyles.None, CultureInfo.InvariantCulture, out var p) && p > 0 && p < 65536 ? p : throw Invalid("the port");

        private static List<BackendSnapshot> ReadFirewall(INativeRunner runner)
        {
            var underlay = new FirewallTargets(runner).Underlay();
            return new FirewallInspector(runner).ReadAll(underlay).Where(b => b.Nft != null || b.Iptables != null || b.Ufw != null).ToList();
        }

        private static List<FwChain> Chains(BackendSnapshot b, Probe p)
            => b.Nft != null ? b.Nft.BaseChainsFor(p) : b.Iptables != null ? b.Iptables.BaseChainsFor(p) : new List<FwChain>();

        /// <summary>nft --echo --handle prints the rule it added with its handle: the undo deletes exactly that rule.</summary>
        private static void NftInsert(Tx tx, FwChain chain, params string[] statement)
        {
            var parts = chain.Table.Split(' ');
            var args = new List<string> { "--echo", "--handle", "insert", "rule", parts[0], parts[1], chain.Name };
            args.AddRange(statement);
            tx.Apply(new NativeCommand("nft", args.ToArray()), r =>
            {
                var m = Handle.Match(r.StdOut);
                return m.Success ? new[] { new NativeCommand("nft", "delete", "rule", parts[0], parts[1], chain.Name, "handle", m.Groups[1].Value) } : new NativeCommand[0];
            });
        }

        private static void IptablesInsert(Tx tx, string tool, string table, string chain, params string[] spec)
        {
            var add = new List<string> { "-w", "5", "-t", table, "-I", chain, "1" };
            add.AddRange(spec);
            var del = new List<string> { "-w", "5", "-t", table, "-D", chain };
            del.AddRange(spec);
            tx.Apply(new NativeCommand(tool, add.ToArray()), new[] { new NativeCommand(tool, del.ToArray()) });
        }

        private static ChangeRecord AllowReplies(RemedyContext ctx, FindingRef f)
        {
            var runner = ctx.Runner;
            var port = Port(f);
            var ps = port.ToString(CultureInfo.InvariantCulture);
            var uplink = new ForwardingReader(runner).DefaultRouteDevice(false);
            var tx = new Tx(ctx, "Allow WireGuard's replies out");
            var notes = new List<string>();
            foreach (var b in ReadFirewall(runner).Where(b => b.Nft != null || b.Iptables != null))
            {
                var blocking = new List<FwChain>();
                foreach (var state in new[] { "established", "new" })
                {
                    var probe = new Probe { Output = true, Protocol = "udp", SourcePort = port, OutInterface = uplink, CtState = state, IsIPv6 = b.Iptables?.IsIPv6 ?? false };
                    var r = ChainWalker.Walk(Chains(b, probe), probe);
                    foreach (var c in r.BlockingBaseChains) if (!blocking.Contains(c)) blocking.Add(c);
                }
                foreach (var c in blocking)
                {
                    if (b.Nft != null) NftInsert(tx, c, "udp", "sport", ps, "accept");
                    else IptablesInsert(tx, b.Tool, c.Table, c.Name, "-p", "udp", "--sport", ps, "-j", "ACCEPT");
                    notes.Add($"{b.Name}: accept UDP from port {ps} at the top of {c.Describe()}");
                }
            }
            if (tx.Done.Count == 0) return Tx.Unchanged(f.Interface, "Allow WireGuard's replies out", "no output chain drops them now");
            return tx.ToRecord(f.Interface, "Allow WireGuard's replies out", "output drops UDP from port " + ps, "accepted", notes);
        }

        private static ChangeRecord OpenForwardPath(RemedyContext ctx, FindingRef f)
        {
            var runner = ctx.Runner;
            var wg = f.Interface;
            var uplink = new ForwardingReader(runner).DefaultRouteDevice(false);
            if (uplink == null || !IfName.IsMatch(uplink)) throw new WgException(ErrorIds.NoRoute, ErrorCategory.ConnectionError, "There is no IPv4 default route: the forward path has no uplink to open.", wg);
            var tx = new Tx(ctx, "Open the forward path");
            var notes = new List<string>();
            var backends = ReadFirewall(runner);
            var ufw = backends.FirstOrDefault(b => b.Ufw != null && b.Active);
            foreach (var b in backends.Where(b => b.Nft != null || (b.Iptables != null && !b.Iptables.IsIPv6)))
            {
                var outbound = new Probe { Forwarded = true, Protocol = "tcp", InInterface = wg, OutInterface = uplink };
                var back = new Probe { Forwarded = true, Protocol = "tcp", InInterface = uplink, OutInterface = wg, CtState = "established" };
                var r1 = ChainWalker.Walk(Chains(b, outbound), outbound);
                var r2 = ChainWalker.Walk(Chains(b, back), back);
                if (!r1.Blocked && !r2.Blocked) continue;
                if (b.Iptables != null)
                {
                    if (ufw != null && b.Iptables.Chain("filter", "ufw-user-forward") != null) continue; // ufw's own tool below
                    var chain = b.Iptables.Chain("filter", "DOCKER-USER") != null ? "DOCKER-USER" : "FORWARD";
                    // inserted at 1 one after the other: the reply rule ends up below the outbound rule
                    if (r2.Blocked) IptablesInsert(tx, b.Tool, "filter", chain, "-i", uplink, "-o", wg, "-m", "conntrack", "--ctstate", "RELATED,ESTABLISHED", "-j", "ACCEPT");
                    if (r1.Blocked) IptablesInsert(tx, b.Tool, "filter", chain, "-i", wg, "-o", uplink, "-j", "ACCEPT");
                    notes.Add($"{b.Name}: accept {wg} -> {uplink} and its replies at the top of {chain}");
                }
                else
                {
                    foreach (var c in r1.BlockingBaseChains.Concat(r2.BlockingBaseChains).Distinct())
                    {
                        NftInsert(tx, c, "iifname", uplink, "oifname", wg, "ct", "state", "established,related", "accept");
                        NftInsert(tx, c, "iifname", wg, "oifname", uplink, "accept");
                        notes.Add($"nftables: accept {wg} -> {uplink} and its replies at the top of {c.Describe()}");
                    }
                }
            }
            if (ufw != null && string.Equals(new ForwardingReader(runner).Sysctl.ReadRuntime("net.ipv4.ip_forward"), "1", StringComparison.Ordinal))
            {
                var route = ufw.RawText ?? "";
                if (route.IndexOf("ALLOW FWD", StringComparison.Ordinal) < 0 || route.IndexOf(wg, StringComparison.Ordinal) < 0)
                {
                    tx.Apply(new NativeCommand("ufw", "route", "allow", "in", "on", wg, "out", "on", uplink),
                        new[] { new NativeCommand("ufw", "route", "delete", "allow", "in", "on", wg, "out", "on", uplink) });
                    notes.Add($"ufw: route allow in on {wg} out on {uplink}");
                }
            }
            if (tx.Done.Count == 0) return Tx.Unchanged(wg, "Open the forward path", "no forward chain drops the tunnel's traffic now");
            return tx.ToRecord(wg, "Open the forward path", "forward path drops " + wg, "accepted", notes);
        }

        private static ChangeRecord LoosenReversePath(RemedyContext ctx, FindingRef f)
        {
            var runner = ctx.Runner;
            var uplink = f.Data("Uplink");
            if (uplink == null || !IfName.IsMatch(uplink) || uplink == "all" || uplink == "default") throw Invalid("the uplink");
            var sys = new SysctlSettings();
            var key = $"net.ipv4.conf.{uplink}.rp_filter";
            var before = sys.ReadRuntime(key);
            if (before == null) throw new WgException(ErrorIds.InterfaceNotFound, ErrorCategory.ObjectNotFound, $"{key} does not exist: {uplink} is not a link here.", uplink);
            if (before.Trim() == "2") return Tx.Unchanged(uplink, "Loose reverse-path filtering", key + " = 2");
            var tx = new Tx(ctx, "Loose reverse-path filtering on " + uplink);
            tx.Apply(new NativeCommand("sysctl", "-w", key + "=2"), new[] { new NativeCommand("sysctl", "-w", key + "=" + before.Trim()) });
            return tx.ToRecord(uplink, "Loose reverse-path filtering", key + " = " + before.Trim(), key + " = 2",
                new[] { "Runtime only: add " + key + " = 2 to a file in /etc/sysctl.d to keep it after a reboot." });
        }

        private static ChangeRecord ReapplyHooks(RemedyContext ctx, FindingRef f)
        {
            var runner = ctx.Runner;
            var path = WgConfigLocation.PathForConfigOrNull(f.Interface);
            if (path == null || !System.IO.File.Exists(path)) throw new WgException(ErrorIds.ConfigNotFound, ErrorCategory.ObjectNotFound, $"No configuration file for {f.Interface}: there are no hooks to re-apply.", f.Interface);
            var config = Lint.LintFile.Read(path).Config;
            var skipped = new List<string>();
            var rules = HookRules.Parse(config.PostUp, f.Interface, skipped);
            var nf = new Snapshot.NetfilterState();
            foreach (var b in new FirewallInspector(runner).ReadAll())
                nf.Backends.Add(new Snapshot.NetfilterBackend { Name = b.Name, Tool = b.Tool, Text = b.RawText });
            var tx = new Tx(ctx, "Re-apply the PostUp rules of " + f.Interface);
            var notes = new List<string>();
            foreach (var r in rules.Where(r => !Checks.HookRulesCheck.Present(nf, r)))
            {
                var undo = UndoOf(r);
                if (r.IsNft)
                {
                    var args = new List<string> { "--echo", "--handle" };
                    args.AddRange(r.Arguments);
                    var parts = r.Table.Split(' ');
                    tx.Apply(new NativeCommand("nft", args.ToArray()), res =>
                    {
                        var m = Handle.Match(res.StdOut);
                        return m.Success ? new[] { new NativeCommand("nft", "delete", "rule", parts[0], parts[1], r.Chain, "handle", m.Groups[1].Value) } : new NativeCommand[0];
                    });
                }
                else tx.Apply(new NativeCommand(r.Tool, r.Arguments), undo);
                notes.Add("re-applied: " + r.CommandLine);
            }
            if (tx.Done.Count == 0) return Tx.Unchanged(f.Interface, "Re-apply the PostUp rules", "every rule of the hook is present");
            return tx.ToRecord(f.Interface, "Re-apply the PostUp rules", "missing from the live ruleset", "present", notes);
        }

        private static NativeCommand[] UndoOf(HookRule r)
        {
            if (r.IsNft) return new NativeCommand[0];
            var a = r.Arguments.ToList();
            for (int i = 0; i < a.Count; i++)
            {
                if (a[i] == "-A" || a[i] == "--append") { a[i] = "-D"; break; }
                if (a[i] == "-I" || a[i] == "--insert")
                {
                    a[i] = "-D";
                    if (i + 2 < a.Count && a[i + 2].All(char.IsDigit)) a.RemoveAt(i + 2);
                    break;
                }
            }
            return new[] { new NativeCommand(r.Tool, a.ToArray()) };
        }

        private static ChangeRecord DeleteConntrack(RemedyContext ctx, FindingRef f)
        {
            var runner = ctx.Runner;
            string Addr(string key) => IPAddress.TryParse(f.Data(key) ?? "", out var a) ? a.ToString() : throw Invalid(key);
            string P(string key) => int.TryParse(f.Data(key), NumberStyles.None, CultureInfo.InvariantCulture, out var p) && p > 0 && p < 65536 ? p.ToString(CultureInfo.InvariantCulture) : throw Invalid(key);
            var src = Addr("OrigSrc"); var dst = Addr("OrigDst"); var sport = P("OrigSport"); var dport = P("OrigDport");
            var tx = new Tx(ctx, "Delete the stale conntrack entry");
            // A deleted entry is not restored (the next packet makes a fresh one): no undo.
            tx.Apply(new NativeCommand("conntrack", "-D", "-p", "udp", "--orig-src", src, "--orig-dst", dst, "--sport", sport, "--dport", dport), new NativeCommand[0]);
            return tx.ToRecord(f.Interface, "Delete the stale conntrack entry", $"udp {src}:{sport} -> {dst}:{dport} mapped to an address that is gone", "deleted",
                new[] { "Only this entry was deleted; the next packet of the flow creates a fresh one with the current source address." });
        }
    }
}
