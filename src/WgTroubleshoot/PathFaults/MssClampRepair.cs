using System;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using System.Text.RegularExpressions;
using WgTroubleshoot.Changes;
using WgTroubleshoot.Checks;
using WgTroubleshoot.Config;
using WgTroubleshoot.Diagnosis;
using WgTroubleshoot.Firewall;
using WgTroubleshoot.Remedies;

namespace WgTroubleshoot.PathFaults
{
    /// <summary>
    /// The MssClampMissing repair: TCPMSS --clamp-mss-to-pmtu for SYNs in and out of the tunnel, in the forward
    /// path of the backend that forwards for it (iptables mangle FORWARD, or an nftables forward chain at mangle
    /// priority in a table of the module's own: rewriting the MSS works from any base chain). With IPv6=true (the
    /// tunnel carries IPv6 that the host forwards) IPv6 is clamped too: the inet table's rules see both families,
    /// iptables backends get the same rules through ip6tables of the same flavour. The live ruleset is read again
    /// first: a family whose clamp already covers the tunnel is left alone, and with both covered nothing changes.
    /// Every command runs through the repair's one <see cref="Transaction"/>, with its undo (delete that rule, the
    /// table when it was made here): a failing step rolls back every earlier one of either family.
    /// </summary>
    public static class MssClampRepair
    {
        public const string NftTable = "wgtroubleshoot_mss";
        public static readonly string[] Backends = { "nftables", "iptables-nft", "iptables-legacy" };
        private static readonly Regex Handle = new Regex(@"#\s*handle\s+(\d+)", RegexOptions.Compiled);
        private static readonly Regex IfName = new Regex(@"^[A-Za-z0-9_.=+-]{1,15}$", RegexOptions.Compiled);

        public static string Describe(FindingRef f)
            => $"TCPMSS --clamp-mss-to-pmtu for TCP {(IPv6(f) ? "IPv4 and IPv6 " : "")}SYNs in and out of {f.Interface} in the forward path ({f.Data("Backend") ?? "nftables"}{(IPv6(f) && f.Data("Backend") != null && f.Data("Backend") != "nftables" ? " and " + Ip6Backend(f.Data("Backend")) : "")})"
               + (Mss(f).HasValue ? $", and --set-mss {Mss(f)} for IPv4 SYNs in through {f.Interface} above it" : "")
               + (Mss(f, "Mss6").HasValue && IPv6(f) ? $", and --set-mss {Mss(f, "Mss6")} for IPv6 SYNs in through {f.Interface} above it" : "");

        private static int? Mss(FindingRef f, string key = "Mss")
            => int.TryParse(f.Data(key), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var m) && m >= 536 && m <= 65495 ? m : (int?)null;

        private static bool IPv6(FindingRef f) => f.Data("IPv6") == "true";

        /// <summary>The ip6tables backend of the same flavour as an iptables one (iptables-nft: ip6tables-nft).</summary>
        public static string Ip6Backend(string backend) => backend.StartsWith("iptables", StringComparison.Ordinal) ? "ip6" + backend.Substring(2) : null;

        /// <summary>
        /// True when a clamp to the path MTU already covers SYNs of the family (<paramref name="v6"/>) forwarded from
        /// and to <paramref name="wg"/> (and, with <paramref name="mss"/>, a fixed MSS of at most that for SYNs in through it).
        /// </summary>
        public static bool Clamped(IEnumerable<MssClampRule> rules, string wg, int? mss = null, bool v6 = false)
        {
            var all = rules.Where(r => r.Sees(v6)).ToList();
            var list = all.Where(r => r.ToPathMtu).ToList();
            bool Names(string pattern) => !pattern.StartsWith("!", StringComparison.Ordinal) && MssClampRule.NameIn(pattern, wg);
            bool In(MssClampRule r) => r.Out == null && (r.In == null || Names(r.In));
            bool Out(MssClampRule r) => r.In == null && (r.Out == null || Names(r.Out));
            bool fixedOk = !mss.HasValue || all.Any(r => !r.ToPathMtu && r.SetMss.HasValue && r.SetMss.Value <= mss.Value && In(r));
            return list.Any(In) && list.Any(Out) && fixedOk;
        }

        public static IList<ChangeRecord> Apply(RemedyContext ctx, FindingRef f)
        {
            var wg = f.Interface;
            if (!WgConfigLocation.IsValidInterfaceName(wg) || !IfName.IsMatch(wg))
                throw new WgException(ErrorIds.InvalidArgument, ErrorCategory.InvalidArgument, $"The repair data is not valid: the interface name {wg}.", wg);
            var backendName = f.Data("Backend") ?? "nftables";
            if (Array.IndexOf(Backends, backendName) < 0)
                throw new WgException(ErrorIds.InvalidArgument, ErrorCategory.InvalidArgument, $"The repair data is not valid: the backend {backendName}.", backendName);
            var live = new FirewallInspector(ctx.Runner).ReadAll();
            var nf = Snapshot.NetfilterState.FromParsed(live);
            const string action = "Clamp the TCP MSS to the path MTU";
            var mss = Mss(f);
            var mss6 = Mss(f, "Mss6");
            if (f.Data("Mss") != null && !mss.HasValue || f.Data("Mss6") != null && !mss6.HasValue)
                throw new WgException(ErrorIds.InvalidArgument, ErrorCategory.InvalidArgument, "The repair data is not valid: the MSS.", wg);
            var found = MssClampRules.Find(nf);
            bool ipv6 = IPv6(f);
            bool need4 = !Clamped(found, wg, mss), need6 = ipv6 && !Clamped(found, wg, mss6, v6: true);
            if (!need4 && !need6)
                return new[] { Transaction.Unchanged(wg, action, "a TCPMSS clamp to the path MTU already covers " + wg + (ipv6 ? " (IPv4 and IPv6)" : "")) };
            var backend = live.FirstOrDefault(b => b.Name == backendName);
            if (backend == null)
                throw new WgException(ErrorIds.ToolNotInstalled, ErrorCategory.NotInstalled, $"{backendName} is not available here: the MSS clamp was not added.", backendName);
            // ip6tables is looked for before the first change: without it nothing is changed.
            var backend6 = need6 && backendName != "nftables" ? live.FirstOrDefault(b => b.Name == Ip6Backend(backendName)) : null;
            if (need6 && backendName != "nftables" && backend6 == null)
                throw new WgException(ErrorIds.ToolNotInstalled, ErrorCategory.NotInstalled, $"{Ip6Backend(backendName)} is not available here: {wg} carries IPv6 and its MSS clamp could not be added; nothing was changed.", Ip6Backend(backendName));

            var rec = (ChangeRecord)null;
            var commands = new List<NativeCommand>();
            void Run(NativeCommand command, Func<Native.NativeResult, IEnumerable<NativeCommand>> undo)
            {
                if (!ctx.ShouldProcess(command.CommandLine, action)) return;
                if (rec == null) { Privilege.Demand(action); rec = ctx.Transaction.Begin(wg, action, "no MSS clamp for " + wg); }
                ctx.Transaction.Run(rec, action, command, undo);
                commands.Add(command);
            }

            var notes = new List<string>();
            if (backendName == "nftables")
            {
                bool exists = backend.Nft != null && backend.Nft.Tables.Any(t => t.Family == "inet" && t.Name == NftTable);
                if (!exists)
                {
                    Run(new NativeCommand("nft", "add", "table", "inet", NftTable), _ => new[] { new NativeCommand("nft", "delete", "table", "inet", NftTable) });
                    Run(new NativeCommand("nft", "add", "chain", "inet", NftTable, "forward", "{", "type", "filter", "hook", "forward", "priority", "mangle", ";", "policy", "accept", ";", "}"), _ => new NativeCommand[0]);
                }
                Func<Native.NativeResult, IEnumerable<NativeCommand>> undoByHandle = r =>
                {
                    var h = Handle.Match(r.StdOut ?? "");
                    return exists && h.Success ? new[] { new NativeCommand("nft", "delete", "rule", "inet", NftTable, "forward", "handle", h.Groups[1].Value) } : new NativeCommand[0];
                };
                // One rule per direction sees both families; a family already clamped is left out (meta nfproto).
                var only = need4 && (need6 || !ipv6) ? new string[0] : new[] { "meta", "nfproto", need4 ? "ipv4" : "ipv6" };
                foreach (var dir in new[] { "iifname", "oifname" })
                    Run(new NativeCommand("nft", new[] { "--echo", "--handle", "add", "rule", "inet", NftTable, "forward", dir, "\"" + wg + "\"" }.Concat(only)
                            .Concat(new[] { "tcp", "flags", "syn", "/", "syn,rst", "tcp", "option", "maxseg", "size", "set", "rt", "mtu" }).ToArray()), undoByHandle);
                foreach (var fixedMss in new[] { Tuple.Create("ipv4", need4 ? mss : null), Tuple.Create("ipv6", need6 ? mss6 : null) })
                {
                    if (!fixedMss.Item2.HasValue) continue;
                    var m = fixedMss.Item2.Value.ToString(System.Globalization.CultureInfo.InvariantCulture);
                    Run(new NativeCommand("nft", "--echo", "--handle", "add", "rule", "inet", NftTable, "forward", "iifname", "\"" + wg + "\"", "meta", "nfproto", fixedMss.Item1,
                            "tcp", "flags", "syn", "/", "syn,rst", "tcp", "option", "maxseg", "size", ">", m, "tcp", "option", "maxseg", "size", "set", m), undoByHandle);
                    notes.Add($"nftables: {(fixedMss.Item1 == "ipv4" ? "IPv4" : "IPv6")} SYNs in through {wg} with an MSS above {m} are set to {m} ({wg}'s own MTU is the limit)");
                }
                notes.Add($"nftables: table inet {NftTable}, chain forward (hook forward, priority mangle): tcp option maxseg size set rt mtu for {(only.Length == 0 ? (ipv6 ? "IPv4 and IPv6 " : "") : only[2] + " ")}SYNs with iifname/oifname {wg}");
            }
            else
            {
                // the same rules for each family that needs them: iptables for IPv4, ip6tables of the same flavour for IPv6
                foreach (var fam in new[] { Tuple.Create(need4 ? backend : null, mss), Tuple.Create(need6 ? backend6 : null, mss6) })
                {
                    var b = fam.Item1;
                    if (b == null) continue;
                    foreach (var dir in new[] { "-i", "-o" })
                    {
                        var add = new List<string> { "-w", "5", "-t", "mangle", "-I", "FORWARD", "1", dir, wg, "-p", "tcp", "--tcp-flags", "SYN,RST", "SYN", "-j", "TCPMSS", "--clamp-mss-to-pmtu" };
                        var del = new List<string> { "-w", "5", "-t", "mangle", "-D", "FORWARD", dir, wg, "-p", "tcp", "--tcp-flags", "SYN,RST", "SYN", "-j", "TCPMSS", "--clamp-mss-to-pmtu" };
                        Run(new NativeCommand(b.Tool, add.ToArray()), _ => new[] { new NativeCommand(b.Tool, del.ToArray()) });
                    }
                    if (fam.Item2.HasValue)
                    {
                        var m = fam.Item2.Value.ToString(System.Globalization.CultureInfo.InvariantCulture);
                        var range = (fam.Item2.Value + 1).ToString(System.Globalization.CultureInfo.InvariantCulture) + ":65535";
                        var add = new[] { "-w", "5", "-t", "mangle", "-A", "FORWARD", "-i", wg, "-p", "tcp", "--tcp-flags", "SYN,RST", "SYN", "-m", "tcpmss", "--mss", range, "-j", "TCPMSS", "--set-mss", m };
                        var del = new[] { "-w", "5", "-t", "mangle", "-D", "FORWARD", "-i", wg, "-p", "tcp", "--tcp-flags", "SYN,RST", "SYN", "-m", "tcpmss", "--mss", range, "-j", "TCPMSS", "--set-mss", m };
                        Run(new NativeCommand(b.Tool, add), _ => new[] { new NativeCommand(b.Tool, del) });
                        notes.Add($"{b.Name}: mangle FORWARD -i {wg}: SYNs with an MSS above {m} are set to {m} ({wg}'s own MTU is the limit)");
                    }
                    notes.Add($"{b.Name}: mangle FORWARD -i/-o {wg} -p tcp --tcp-flags SYN,RST SYN -j TCPMSS --clamp-mss-to-pmtu");
                }
            }
            notes.Add("Runtime only: add the same rule to the PostUp of " + wg + " to keep it after a restart.");
            if (rec == null) return new ChangeRecord[0];
            rec.After = "MSS of forwarded SYNs clamped to the path MTU";
            rec.Notes = notes.ToArray();
            return new[] { rec };
        }
    }
}
