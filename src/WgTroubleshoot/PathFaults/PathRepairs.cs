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
            nameof(Cause.HookRulesMissing), nameof(Cause.StaleConntrack), nameof(Cause.TunnelInputBlocked),
        };

        /// <summary>The policy key that alone allows the TunnelInputBlocked repair (what the peers may reach on this host is a policy decision).</summary>
        public const string TunnelInputPolicyKey = "firewall: { acceptTunnelInput: true }";

        public static bool Handles(FindingRef f) => f != null && Causes.Contains(f.Cause);

        /// <summary>What the repair does, in words (shown as the finding's remediation and in -WhatIf).</summary>
        public static string Describe(FindingRef f)
        {
            switch (f.Cause)
            {
                case nameof(Cause.FirewallBlocksReplies): return $"accept UDP from port {f.Data("Port")} in every output chain that drops it ({f.Data("Backend")})";
                case nameof(Cause.ForwardPathBlocked): return $"accept {f.Interface} to the uplink and its replies in the forward chains that drop them (DOCKER-USER first where it exists; ufw route allow under ufw)";
                case nameof(Cause.ReversePathFilter): return $"sysctl -w net.ipv4.conf.{f.Data("Uplink")}.rp_filter=2, and the same in /etc/sysctl.d/{SysctlSettings.OwnFileName}";
                case nameof(Cause.HookRulesMissing): return $"re-apply the missing rules of {f.Interface}'s PostUp";
                case nameof(Cause.TunnelInputBlocked): return $"accept what arrives through {f.Interface} at the top of every input chain that drops it (ufw allow in on {f.Interface} under ufw); only when the remediation policy says {TunnelInputPolicyKey} (Invoke-WgRemediation)";
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
                case nameof(Cause.TunnelInputBlocked): return new[] { AllowTunnelInput(ctx, f) };
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

            /// <summary>True when any command ran or any file was written.</summary>
            public bool Any => Done.Count > 0 || _files > 0;
            private int _files;

            /// <summary>Writes a whole file (sysctl.d) through the transaction, offered to ShouldProcess as <paramref name="display"/>.</summary>
            public void WriteFile(string path, string text, string display)
            {
                if (!_ctx.ShouldProcess(display, _what)) return;
                if (!_checked) { Privilege.Demand(_what); _checked = true; }
                _rec = _rec ?? _ctx.Transaction.Begin(_what, _what, null);
                _ctx.Transaction.WriteFile(_rec, path, text);
                _files++;
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

        /// <summary>
        /// TunnelInputBlocked: an accept for the tunnel interface at the top of every input base chain that drops
        /// what arrives through it (ICMP, TCP 22, UDP 53, as the check walks them), in every backend that drops
        /// (nftables, iptables-nft, iptables-legacy); under an active ufw its own `ufw allow in on IF`.
        /// </summary>
        private static ChangeRecord AllowTunnelInput(RemedyContext ctx, FindingRef f)
        {
            var runner = ctx.Runner;
            var wg = f.Interface;
            const string action = "Accept what arrives through the tunnel";
            var tx = new Tx(ctx, action + " (" + wg + ")");
            var notes = new List<string>();
            var backends = ReadFirewall(runner);
            var ufw = backends.FirstOrDefault(b => b.Ufw != null && b.Active);
            bool ufwDone = false;
            var probes = new[]
            {
                new Probe { Protocol = "icmp", InInterface = wg },
                new Probe { Protocol = "tcp", Port = 22, InInterface = wg },
                new Probe { Protocol = "udp", Port = 53, InInterface = wg },
            };
            foreach (var b in backends.Where(b => b.Nft != null || (b.Iptables != null && !b.Iptables.IsIPv6)))
            {
                var blocking = new List<FwChain>();
                foreach (var p in probes)
                    foreach (var c in ChainWalker.Walk(Chains(b, p), p).BlockingBaseChains)
                        if (!blocking.Contains(c)) blocking.Add(c);
                if (blocking.Count == 0) continue;
                if (b.Iptables != null && ufw != null && b.Iptables.Chain("filter", "ufw-user-input") != null)
                {
                    if (ufwDone) continue;
                    tx.Apply(new NativeCommand("ufw", "allow", "in", "on", wg), new[] { new NativeCommand("ufw", "delete", "allow", "in", "on", wg) });
                    notes.Add($"ufw: allow in on {wg}");
                    ufwDone = true;
                    continue;
                }
                foreach (var c in blocking)
                {
                    if (b.Nft != null) NftInsert(tx, c, "iifname", "\"" + wg + "\"", "accept");
                    else IptablesInsert(tx, b.Tool, c.Table, c.Name, "-i", wg, "-j", "ACCEPT");
                    notes.Add($"{b.Name}: accept iifname {wg} at the top of {c.Describe()}");
                }
            }
            if (tx.Done.Count == 0) return Tx.Unchanged(wg, action, "no input chain drops what arrives through " + wg + " now");
            return tx.ToRecord(wg, action, "input drops what arrives through " + wg, "accepted", notes);
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

        /// <summary>
        /// rp_filter = 2 (loose) for the uplink, now and in the module's own sysctl.d file (the file Enable-WgForwarding
        /// writes, other lines kept), in one transaction. The kernel applies the larger of conf.all and conf.UPLINK,
        /// and 2 is the largest, so the uplink's own key decides whatever conf.all says; conf.all is left alone
        /// (loosening every link is more than the fault needs).
        /// </summary>
        private static ChangeRecord LoosenReversePath(RemedyContext ctx, FindingRef f)
        {
            var uplink = f.Data("Uplink");
            if (uplink == null || !IfName.IsMatch(uplink) || uplink == "all" || uplink == "default") throw Invalid("the uplink");
            var sys = new SysctlSettings();
            // a link name with a dot (a VLAN, eth0.100) needs the slash form: the dots would split the name
            bool dotted = uplink.IndexOf('.') >= 0;
            var key = $"net.ipv4.conf.{uplink}.rp_filter";
            var arg = dotted ? $"net/ipv4/conf/{uplink}/rp_filter" : key;
            string before;
            try { before = System.IO.File.Exists(System.IO.Path.Combine(sys.ProcSys, "net/ipv4/conf", uplink, "rp_filter")) ? System.IO.File.ReadAllText(System.IO.Path.Combine(sys.ProcSys, "net/ipv4/conf", uplink, "rp_filter")).Trim() : null; }
            catch (Exception ex) when (ex is System.IO.IOException || ex is UnauthorizedAccessException) { before = null; }
            if (before == null) throw new WgException(ErrorIds.InterfaceNotFound, ErrorCategory.ObjectNotFound, $"{key} does not exist: {uplink} is not a link here.", uplink);
            var notes = new List<string>();
            var tx = new Tx(ctx, "Loose reverse-path filtering on " + uplink);
            if (before != "2")
                tx.Apply(new NativeCommand("sysctl", "-w", arg + "=2"), new[] { new NativeCommand("sysctl", "-w", arg + "=" + before) });

            // Persistent: the same file and handling as the forwarding repair (atomic write with a backup, undone
            // with the rest of the transaction while the file still holds what was written).
            var path = sys.OwnFile;
            if (dotted)
                notes.Add($"Not made persistent: {uplink} has a dot in its name; add '{arg} = 2' to a file in /etc/sysctl.d by hand.");
            else
            {
                string existing;
                try { existing = System.IO.File.Exists(path) ? System.IO.File.ReadAllText(path) : null; }
                catch (Exception ex) when (ex is System.IO.IOException || ex is UnauthorizedAccessException)
                {
                    throw new WgException(ErrorIds.PermissionDenied, ErrorCategory.PermissionDenied, $"{path} cannot be read: {ex.Message}", path, ex);
                }
                var text = SysctlSettings.WithSettings(existing, new Dictionary<string, string> { [key] = "2" });
                if (text != existing)
                {
                    tx.WriteFile(path, text, (existing == null ? "create " : "rewrite ") + path + ": " + key + " = 2");
                    notes.Add($"{path}: {key} = 2 (applied at boot by sysctl --system / systemd-sysctl).");
                }
                else notes.Add($"{path} already sets {key} = 2.");
                // a file read after ours (sysctl.conf comes last) that sets the key again wins at boot
                var wins = sys.ReadPersistent(key);
                if (wins != null && wins.Value != "2" && !string.Equals(wins.File, path, StringComparison.Ordinal))
                    notes.Add($"{wins} is read after {path} and wins at boot: change it there too.");
            }
            if (!tx.Any) return Tx.Unchanged(uplink, "Loose reverse-path filtering", key + " = 2, now and in " + path);
            return tx.ToRecord(uplink, "Loose reverse-path filtering", key + " = " + before + (tx.Done.Count == 0 ? " (not in " + path + ")" : ""),
                key + " = 2, now and in " + path, notes);
        }

        private static ChangeRecord ReapplyHooks(RemedyContext ctx, FindingRef f)
        {
            var runner = ctx.Runner;
            var path = WgConfigLocation.PathForConfigOrNull(f.Interface);
            if (path == null || !System.IO.File.Exists(path)) throw new WgException(ErrorIds.ConfigNotFound, ErrorCategory.ObjectNotFound, $"No configuration file for {f.Interface}: there are no hooks to re-apply.", f.Interface);
            var config = Lint.LintFile.Read(path).Config;
            var skipped = new List<string>();
            var rules = HookRules.Parse(config.PostUp, f.Interface, skipped);
            var nf = Snapshot.NetfilterState.FromParsed(new FirewallInspector(runner).ReadAll());
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
