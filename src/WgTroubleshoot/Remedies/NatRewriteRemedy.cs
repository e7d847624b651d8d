using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Management.Automation;
using System.Text;
using System.Text.RegularExpressions;
using WgTroubleshoot.Changes;
using WgTroubleshoot.Config;
using WgTroubleshoot.Firewall;
using WgTroubleshoot.Forwarding;
using WgTroubleshoot.Native;
using WgTroubleshoot.State;

namespace WgTroubleshoot.Remedies
{
    /// <summary>
    /// NatMissing when the masquerade names a link that is not the uplink: the wrong rule is rewritten in place for
    /// the uplink (its output interface replaced, nothing else), in the backend that holds it (`nft replace rule ...
    /// handle N`, `iptables -t nat -R POSTROUTING N`), rather than a second masquerade added beside it; and the
    /// config's PostUp/PostDown commands that add and remove it are rewritten too (only that interface name, every
    /// other byte kept, atomically with a backup), so the next `wg-quick up` does not bring the wrong rule back.
    /// All of it is one transaction: the undo puts the old rule text (and the old file) back.
    /// </summary>
    public static class NatRewriteRemedy
    {
        private static readonly Regex Name = new Regex(@"^[A-Za-z0-9_.-]{1,64}$", RegexOptions.Compiled);
        private static readonly Regex Separators = new Regex(@"(;|&&|\|\|)", RegexOptions.Compiled);
        private static readonly Regex IptablesTool = new Regex(@"(^|[\s/])ip6?tables(-nft|-legacy)?\s", RegexOptions.Compiled);
        private static readonly Regex IptablesNat = new Regex(@"(-j|--jump)\s+(MASQUERADE|SNAT)\b", RegexOptions.Compiled);
        private static readonly Regex NftTool = new Regex(@"(^|[\s/])nft\s", RegexOptions.Compiled);
        private static readonly Regex NftNat = new Regex(@"\b(masquerade|snat)\b", RegexOptions.Compiled);

        public const string Action = "Rewrite the masquerade for the uplink";

        public static string Describe(string iface, string wrongOif)
            => $"Repair-WgIssue: rewrite the masquerade of {iface}'s subnet that names {wrongOif} for the uplink (the live rule in place, and the PostUp/PostDown lines of its configuration that add it)";

        public static List<ChangeRecord> Apply(RemedyContext ctx, string iface, string wrongOif)
        {
            InterfaceName.Validate(iface);
            InterfaceName.Validate(wrongOif, "WrongOif");
            var runner = ctx.Runner;
            var uplink = new ForwardingReader(runner).DefaultRouteDevice(false);
            if (uplink == null)
                throw new WgException(ErrorIds.NoRoute, ErrorCategory.ConnectionError, "There is no IPv4 default route: there is no uplink to rewrite the masquerade for.", iface);
            InterfaceName.Validate(uplink, "uplink");
            if (uplink == wrongOif)
                return new List<ChangeRecord> { Transaction.Unchanged(iface, Action, $"the uplink is {uplink} now: the masquerade names it") };
            var subnets = TunnelSubnets(runner, iface);

            var step = new Steps(ctx, Action + " (" + wrongOif + " -> " + uplink + ")");
            var notes = new List<string>();
            int live = 0;

            // nftables (native tables; iptables-nft's own tables are rewritten with its tool below)
            if (runner.IsAvailable("nft"))
            {
                var r = runner.Run("nft", new[] { "-a", "list", "ruleset" });
                if (r.Success)
                    foreach (var m in FindNft(r.StdOut, subnets, wrongOif))
                    {
                        var fixedText = NftRuleWithOif(m.Text, wrongOif, uplink);
                        if (fixedText == m.Text) continue;
                        step.Run(new NativeCommand("nft", "replace", "rule", m.Family, m.Table, m.Chain, "handle", m.Handle, fixedText),
                                 new NativeCommand("nft", "replace", "rule", m.Family, m.Table, m.Chain, "handle", m.Handle, m.Text));
                        notes.Add($"nftables {m.Family} {m.Table} {m.Chain} (handle {m.Handle}): {m.Text} -> {fixedText}");
                        live++;
                    }
            }
            // iptables, both flavours (IPv4: the check judges the IPv4 subnets)
            foreach (var b in new FirewallInspector(runner).ReadAll().Where(b => b.RawText != null && b.Iptables != null && !b.Iptables.IsIPv6))
                foreach (var m in FindIptables(b.Iptables, subnets, wrongOif))
                {
                    var spec = m.Spec.Select(t => t).ToArray();
                    spec[m.OifIndex] = uplink;
                    var index = m.Position.ToString(System.Globalization.CultureInfo.InvariantCulture);
                    step.Run(new NativeCommand(b.Tool, new[] { "-w", "5", "-t", "nat", "-R", "POSTROUTING", index }.Concat(spec).ToArray()),
                             new NativeCommand(b.Tool, new[] { "-w", "5", "-t", "nat", "-R", "POSTROUTING", index }.Concat(m.Spec).ToArray()));
                    notes.Add($"{b.Name} nat POSTROUTING rule {index}: -o {wrongOif} -> -o {uplink}");
                    live++;
                }
            if (live == 0) notes.Add($"No live masquerade names {wrongOif} now.");

            // The configuration's hooks: PostUp adds the rule at every `wg-quick up`, PostDown removes it.
            var path = WgConfigLocation.PathForConfigOrNull(iface);
            if (path != null && File.Exists(path))
            {
                var doc = WgConfigFile.ReadDocument(path);
                var changes = HookLineChanges(doc, wrongOif, uplink);
                if (changes.Count > 0)
                {
                    step.EditConfig(path, d =>
                    {
                        foreach (var kv in HookLineChanges(d, wrongOif, uplink)) d.Lines[kv.Key] = new WgConfigLine(kv.Value, d.Lines[kv.Key].Ending);
                    }, $"rewrite {changes.Count} PostUp/PostDown line{(changes.Count == 1 ? "" : "s")} of {path}: {wrongOif} -> {uplink}");
                    notes.Add($"{path}: {changes.Count} PostUp/PostDown line{(changes.Count == 1 ? "" : "s")} now name{(changes.Count == 1 ? "s" : "")} {uplink} instead of {wrongOif}.");
                }
                else notes.Add($"{path}: no PostUp/PostDown line names {wrongOif} in a masquerade.");
            }
            if (!step.Any)
                return new List<ChangeRecord> { Transaction.Unchanged(iface, Action, $"no masquerade naming {wrongOif} was found to rewrite", notes) };
            var rec = step.Record;
            rec.Target = iface; rec.Action = Action;
            rec.Before = $"masquerade names {wrongOif}"; rec.After = $"masquerade names {uplink}";
            rec.Notes = notes.ToArray();
            return new List<ChangeRecord> { rec };
        }

        private static List<string> TunnelSubnets(INativeRunner runner, string iface)
        {
            var reader = new WgStateReader(runner);
            var devices = reader.Read(new[] { iface }, ex => throw ex);
            if (devices.Count != 1)
                throw new WgException(ErrorIds.InterfaceNotFound, ErrorCategory.ObjectNotFound, $"{iface} is not a live WireGuard interface.", iface);
            reader.AddLinkDetails(devices);
            return devices[0].Interface.Addresses.Select(IpPrefix.NetworkOf).Where(n => n != null && n.IndexOf(':') < 0).Distinct().ToList();
        }

        /// <summary>The steps of the rewrite through the one transaction: each offered to ShouldProcess, the privilege checked before the first.</summary>
        private sealed class Steps
        {
            private readonly RemedyContext _ctx;
            private readonly string _what;
            private bool _checked;
            public ChangeRecord Record;
            public bool Any => Record != null && Record.Changed;

            public Steps(RemedyContext ctx, string what) { _ctx = ctx; _what = what; }

            private bool Ask(string target)
            {
                if (!_ctx.ShouldProcess(target, _what)) return false;
                if (!_checked) { Privilege.Demand(_what); _checked = true; }
                Record = Record ?? _ctx.Transaction.Begin(_what, _what, null);
                return true;
            }

            public void Run(NativeCommand command, NativeCommand undo)
            {
                if (Ask(command.CommandLine)) _ctx.Transaction.Run(Record, _what, command, undo);
            }

            public void EditConfig(string path, Action<WgConfigDocument> edit, string display)
            {
                if (Ask(display)) _ctx.Transaction.EditConfig(Record, path, edit);
            }
        }

        public sealed class NftMatch
        {
            public string Family, Table, Chain, Handle, Text;
        }

        /// <summary>Masquerade/snat rules in nft postrouting base chains (`nft -a list ruleset`) for the subnets, naming <paramref name="wrongOif"/>.</summary>
        public static List<NftMatch> FindNft(string listing, IList<string> subnets, string wrongOif)
        {
            var found = new List<NftMatch>();
            foreach (var t in NftParser.Parse(listing ?? "").Tables)
                foreach (var ch in t.Chains.Where(c => c.Hook == "postrouting" && !IptablesNftTable(t.Family, t.Name, c.Name)))
                    foreach (var r in ch.Rules)
                        if (r.Handle != null && IsWrongMasquerade(r, subnets, wrongOif) && Name.IsMatch(t.Family) && Name.IsMatch(t.Name) && Name.IsMatch(ch.Name))
                            found.Add(new NftMatch { Family = t.Family, Table = t.Name, Chain = ch.Name, Handle = r.Handle, Text = r.Text });
            return found;
        }

        /// <summary>iptables-nft keeps its chains in nft tables named as its own (ip nat, chain POSTROUTING): they are changed with its tool.</summary>
        private static bool IptablesNftTable(string family, string table, string chain)
            => (family == "ip" || family == "ip6") && table == "nat" && chain == "POSTROUTING";

        private static bool IsWrongMasquerade(FwRule r, IList<string> subnets, string wrongOif)
            => r.IsSourceNat && r.Oif == wrongOif && !r.OifNegated && (r.Saddr == null || subnets.Any(r.SaddrCovers));

        /// <summary>The rule text with its output interface <paramref name="wrongOif"/> replaced by <paramref name="uplink"/> (quoted), nothing else changed.</summary>
        public static string NftRuleWithOif(string text, string wrongOif, string uplink)
            => Regex.Replace(text, @"(\boifname\s+(?:==\s+)?)(""?)" + Regex.Escape(wrongOif) + @"\2(?=\s|$)", m => m.Groups[1].Value + "\"" + uplink + "\"");

        public sealed class IptablesMatch
        {
            /// <summary>1-based position in nat POSTROUTING.</summary>
            public int Position;
            public string[] Spec;
            public int OifIndex;
        }

        /// <summary>Masquerade/SNAT rules of nat POSTROUTING (iptables-save text) for the subnets whose -o is <paramref name="wrongOif"/>.</summary>
        public static List<IptablesMatch> FindIptables(string save, IList<string> subnets, string wrongOif)
            => FindIptables(IptablesParser.Parse(save ?? ""), subnets, wrongOif);

        public static List<IptablesMatch> FindIptables(IptablesRuleset ruleset, IList<string> subnets, string wrongOif)
        {
            var found = new List<IptablesMatch>();
            var post = ruleset.Chain("nat", "POSTROUTING");
            for (int k = 0; post != null && k < post.Rules.Count; k++)
            {
                var r = post.Rules[k];
                if (!IsWrongMasquerade(r, subnets, wrongOif)) continue;
                // The words after "-A POSTROUTING", as `iptables -R` takes them; the -o value is the last -o's.
                var spec = IptablesParser.Tokenize(r.Text).Skip(2).ToArray();
                int oif = Array.FindLastIndex(spec, x => x == "-o" || x == "--out-interface") + 1;
                found.Add(new IptablesMatch { Position = k + 1, Spec = spec, OifIndex = oif });
            }
            return found;
        }

        /// <summary>The [Interface] PostUp/PostDown lines (by index) whose masquerade commands name <paramref name="wrongOif"/>, with their new content.</summary>
        internal static Dictionary<int, string> HookLineChanges(WgConfigDocument d, string wrongOif, string uplink)
        {
            var changes = new Dictionary<int, string>();
            bool inInterface = false;
            for (int i = 0; i < d.Lines.Count; i++)
            {
                var l = d.Lines[i];
                if (l.IsSectionHeader) { inInterface = l.IsSection("Interface"); continue; }
                if (!inInterface || l.HasNul || !(l.HasKey("PostUp") || l.HasKey("PostDown"))) continue;
                int eq = l.Content.IndexOf('=');
                if (eq < 0) continue;
                var value = l.Content.Substring(eq + 1);
                var rewritten = RewriteHookValue(value, wrongOif, uplink);
                if (rewritten != value) changes[i] = l.Content.Substring(0, eq + 1) + rewritten;
            }
            return changes;
        }

        /// <summary>
        /// A hook value with the output interface of its masquerade/SNAT commands (iptables `-o NAME`, nft
        /// `oifname NAME` in any quoting) changed from <paramref name="wrongOif"/> to <paramref name="uplink"/>;
        /// every other command, and every other character, is kept.
        /// </summary>
        public static string RewriteHookValue(string value, string wrongOif, string uplink)
        {
            var parts = Separators.Split(value ?? "");
            var w = Regex.Escape(wrongOif);
            for (int i = 0; i < parts.Length; i += 2)
            {
                var seg = parts[i];
                if (IptablesTool.IsMatch(seg + " ") && IptablesNat.IsMatch(seg))
                    seg = Regex.Replace(seg, @"((?:^|\s)(?:-o|--out-interface)\s+)(['""]?)" + w + @"\2(?=\s|$)", m => m.Groups[1].Value + m.Groups[2].Value + uplink + m.Groups[2].Value);
                else if (NftTool.IsMatch(seg + " ") && NftNat.IsMatch(seg))
                    seg = Regex.Replace(seg, @"(\boifname\s+(?:==\s+)?)(\\?""|')?" + w + @"(\\?""|')?(?=\s|$)", m => m.Groups[1].Value + m.Groups[2].Value + uplink + m.Groups[3].Value);
                parts[i] = seg;
            }
            return string.Concat(parts);
        }
    }
}
