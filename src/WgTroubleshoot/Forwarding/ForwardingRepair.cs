using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using WgTroubleshoot.Changes;
using WgTroubleshoot.Config;
using WgTroubleshoot.Firewall;
using WgTroubleshoot.Native;

namespace WgTroubleshoot.Forwarding
{
    /// <summary>
    /// One step of a repair: what it changes (as a ChangeRecord) and how to apply it through the transaction,
    /// which records its undo.
    /// </summary>
    public sealed class RepairStep
    {
        public ChangeRecord Record { get; set; }
        /// <summary>False when the target is already as wanted.</summary>
        public bool Needed { get; set; }
        /// <summary>Applies the step as part of the transaction (commands and file writes go through it).</summary>
        public Action<Transaction> Apply { get; set; }
    }

    /// <summary>NAT rules for one interface, for the firewall backend in use, as commands and as wg-quick hook lines.</summary>
    public sealed class NatRules
    {
        public string Backend { get; set; }
        public string Table { get; set; }
        /// <summary>Each command as tool + arguments.</summary>
        public List<string[]> Up { get; } = new List<string[]>();
        public List<string[]> Down { get; } = new List<string[]>();
        /// <summary>iptables: a check per Up command (`-C`) telling whether the rule is already there.</summary>
        public List<string[]> Check { get; } = new List<string[]>();
        public string PostUp => string.Join("; ", Up.Select(c => NativeRunner.FormatCommandLine(c[0], c.Skip(1))));
        public string PostDown => string.Join("; ", Down.Select(c => NativeRunner.FormatCommandLine(c[0], c.Skip(1))));

        /// <summary>nft table names allow letters, digits and underscores: other characters of the interface name become '_'.</summary>
        public static string TableName(string iface)
        {
            var sb = new StringBuilder("wgtroubleshoot_");
            foreach (var ch in iface) sb.Append(char.IsLetterOrDigit(ch) && ch < 128 ? ch : '_');
            return sb.ToString();
        }

        public static NatRules ForNftables(string iface, IList<string> subnets, string uplink)
        {
            // every value validated and quoted by NftText: no value can end a token of the script
            var t = NftText.Identifier(TableName(iface));
            var qIface = NftText.InterfaceString(iface);
            var qUplink = NftText.InterfaceString(uplink);
            var sb = new StringBuilder();
            sb.Append("add table inet ").Append(t);
            sb.Append("; add chain inet ").Append(t).Append(" postrouting { type nat hook postrouting priority srcnat; policy accept; }");
            foreach (var s in subnets)
                sb.Append("; add rule inet ").Append(t).Append(" postrouting ").Append(s.IndexOf(':') >= 0 ? "ip6" : "ip")
                  .Append(" saddr ").Append(NftText.Prefix(s)).Append(" oifname ").Append(qUplink).Append(" masquerade");
            sb.Append("; add chain inet ").Append(t).Append(" forward { type filter hook forward priority filter; policy accept; }");
            sb.Append("; add rule inet ").Append(t).Append(" forward iifname ").Append(qIface).Append(" accept");
            sb.Append("; add rule inet ").Append(t).Append(" forward oifname ").Append(qIface).Append(" ct state established,related accept");
            var r = new NatRules { Backend = "nftables", Table = "inet " + t };
            r.Up.Add(new[] { "nft", sb.ToString() });
            r.Down.Add(new[] { "nft", "delete table inet " + t });
            return r;
        }

        public static NatRules ForIptables(string iface, IList<string> subnets, string uplink)
        {
            InterfaceName.Validate(iface);
            InterfaceName.Validate(uplink, "uplink");
            var r = new NatRules { Backend = "iptables", Table = "nat POSTROUTING, filter FORWARD" };
            void Rule(string tool, string[] spec)
            {
                r.Up.Add(new[] { tool }.Concat(spec).ToArray().Replace("-X", "-A"));
                r.Check.Add(new[] { tool }.Concat(spec).ToArray().Replace("-X", "-C"));
                r.Down.Add(new[] { tool }.Concat(spec).ToArray().Replace("-X", "-D"));
            }
            foreach (var s in subnets)
            {
                var tool = s.IndexOf(':') >= 0 ? "ip6tables" : "iptables";
                Rule(tool, new[] { "-t", "nat", "-X", "POSTROUTING", "-s", NftText.Prefix(s), "-o", uplink, "-j", "MASQUERADE" });
            }
            Rule("iptables", new[] { "-X", "FORWARD", "-i", iface, "-j", "ACCEPT" });
            Rule("iptables", new[] { "-X", "FORWARD", "-o", iface, "-m", "conntrack", "--ctstate", "RELATED,ESTABLISHED", "-j", "ACCEPT" });
            return r;
        }
    }

    internal static class ArrayExt
    {
        public static string[] Replace(this string[] a, string from, string to) => a.Select(x => x == from ? to : x).ToArray();
    }

    /// <summary>
    /// Plans Enable-/Disable-WgForwarding: runtime sysctls, the persistent sysctl.d file, NAT rules applied now
    /// and as PostUp/PostDown lines of the interface's configuration (through the lossless config writer).
    /// Every step knows whether it is needed, so a second run plans nothing.
    /// </summary>
    public sealed class ForwardingRepair
    {
        private readonly INativeRunner _runner;
        private readonly SysctlSettings _sysctl;

        public ForwardingRepair(INativeRunner runner, SysctlSettings sysctl)
        {
            _runner = runner;
            _sysctl = sysctl;
        }

        public static readonly string IPv4Key = "net.ipv4.ip_forward";
        public static readonly string IPv6Key = "net.ipv6.conf.all.forwarding";

        public List<RepairStep> PlanSysctl(bool enable, bool ipv6)
        {
            var steps = new List<RepairStep>();
            var want = enable ? "1" : "0";
            var keys = new List<string> { IPv4Key };
            if (ipv6) keys.Add(IPv6Key);
            foreach (var key in keys)
            {
                var now = _sysctl.ReadRuntime(key);
                var k = key;
                var cmd = new[] { "-w", key + "=" + want };
                var undo = new[] { "-w", key + "=" + (now ?? "0") };
                var step = new RepairStep
                {
                    Needed = now != want,
                    Record = new ChangeRecord
                    {
                        Target = key,
                        Action = NativeRunner.FormatCommandLine("sysctl", cmd),
                        Before = now,
                        After = want,
                    },
                };
                step.Apply = tx => tx.Run(step.Record, "Setting " + k, new NativeCommand("sysctl", cmd), new NativeCommand("sysctl", undo));
                steps.Add(step);
            }

            var path = _sysctl.OwnFile;
            var existing = File.Exists(path) ? File.ReadAllText(path) : null;
            var text = SysctlSettings.WithSettings(existing, keys.ToDictionary(k => k, k => want));
            var fileStep = new RepairStep
            {
                Needed = text != existing,
                Record = new ChangeRecord
                {
                    Target = path,
                    Action = (existing == null ? "create " : "rewrite ") + path + ": " + string.Join(", ", keys.Select(k => k + " = " + want)),
                    Before = existing,
                    After = text,
                },
            };
            fileStep.Apply = tx => tx.WriteFile(fileStep.Record, path, text);
            steps.Add(fileStep);
            return steps;
        }

        /// <summary>The firewall backend in use: nftables when nft is installed (iptables-nft writes there too), else iptables.</summary>
        public NatRules Rules(string iface, IList<string> subnets, string uplink)
            => _runner.IsAvailable("nft") ? NatRules.ForNftables(iface, subnets, uplink) : NatRules.ForIptables(iface, subnets, uplink);

        /// <summary>True when the rules are in place now.</summary>
        public bool RulesPresent(NatRules rules, IList<string> subnets, string uplink)
        {
            if (rules.Backend == "nftables")
            {
                var r = _runner.Run("nft", new[] { "list", "table", rules.Table.Split(' ')[0], rules.Table.Split(' ')[1] });
                if (!r.Success) return false;
                var chains = NftParser.Parse(r.StdOut).AllChains();
                return ForwardingEvaluator.FindMasquerade(chains, subnets, uplink) != null;
            }
            return rules.Check.All(c => _runner.Run(c[0], c.Skip(1)).Success);
        }

        public RepairStep PlanNatLive(string iface, IList<string> subnets, string uplink, bool enable)
        {
            var rules = Rules(iface, subnets, uplink);
            bool present = RulesPresent(rules, subnets, uplink);
            var up = rules.Up; var down = rules.Down;
            var doCmds = enable ? up : down;
            var undoCmds = enable ? down : up;
            var step = new RepairStep
            {
                Needed = enable ? !present : present,
                Record = new ChangeRecord
                {
                    Target = rules.Backend + " " + rules.Table,
                    Action = string.Join("; ", doCmds.Select(c => NativeRunner.FormatCommandLine(c[0], c.Skip(1)))),
                    Before = present ? "present" : "absent",
                    After = enable ? "present" : "absent",
                },
            };
            // Up[i] and Down[i] are built as pairs: each command's undo is its counterpart.
            step.Apply = tx =>
            {
                for (int i = 0; i < doCmds.Count; i++)
                {
                    var c = doCmds[i];
                    var u = i < undoCmds.Count ? new[] { new NativeCommand(undoCmds[i][0], undoCmds[i].Skip(1).ToArray()) } : new NativeCommand[0];
                    tx.Run(step.Record, enable ? "Applying NAT rules" : "Removing NAT rules", new NativeCommand(c[0], c.Skip(1).ToArray()), u);
                }
            };
            return step;
        }

        /// <summary>PostUp/PostDown lines in [Interface] (added when enabling, removed when disabling), through the lossless writer.</summary>
        public RepairStep PlanNatConfig(string configPath, NatRules rules, bool enable)
        {
            var doc = WgConfigFile.ReadDocument(configPath);
            var before = doc.ToBytes();
            bool hasUp = HasLine(doc, "PostUp", rules.PostUp);
            bool hasDown = HasLine(doc, "PostDown", rules.PostDown);
            var edit = enable
                ? (Action<WgConfigDocument>)(d =>
                {
                    if (!HasLine(d, "PostUp", rules.PostUp)) d.AddValue(WgConfigSectionRef.Interface, "PostUp", rules.PostUp);
                    if (!HasLine(d, "PostDown", rules.PostDown)) d.AddValue(WgConfigSectionRef.Interface, "PostDown", rules.PostDown);
                })
                : (d => { RemoveLine(d, "PostUp", rules.PostUp); RemoveLine(d, "PostDown", rules.PostDown); });
            var preview = WgConfigDocument.Parse(before, configPath);
            edit(preview);
            var after = preview.ToBytes();
            var desc = enable
                ? $"add to [Interface] of {configPath}: PostUp = {rules.PostUp} / PostDown = {rules.PostDown}"
                : $"remove from [Interface] of {configPath}: PostUp = {rules.PostUp} / PostDown = {rules.PostDown}";
            var step = new RepairStep
            {
                Needed = !WgConfigDocument.BytesEqual(before, after),
                Record = new ChangeRecord
                {
                    Target = configPath,
                    Action = desc,
                    Before = (hasUp ? "PostUp present" : "PostUp absent") + ", " + (hasDown ? "PostDown present" : "PostDown absent"),
                    After = enable ? "PostUp present, PostDown present" : "PostUp absent, PostDown absent",
                },
            };
            step.Apply = tx => tx.EditConfig(step.Record, configPath, edit);
            return step;
        }

        internal static bool HasLine(WgConfigDocument d, string key, string value)
            => InterfaceLines(d).Any(i => d.Lines[i].HasKey(key) && string.Equals(d.Lines[i].QuickValue, value, StringComparison.Ordinal));

        private static void RemoveLine(WgConfigDocument d, string key, string value)
        {
            foreach (var i in InterfaceLines(d).Reverse().ToList())
                if (d.Lines[i].HasKey(key) && string.Equals(d.Lines[i].QuickValue, value, StringComparison.Ordinal))
                {
                    bool lastNoNewline = i == d.Lines.Count - 1 && d.Lines[i].Ending.Length == 0;
                    d.Lines.RemoveAt(i);
                    if (lastNoNewline && d.Lines.Count > 0) d.Lines[d.Lines.Count - 1].Ending = string.Empty;
                }
        }

        private static IEnumerable<int> InterfaceLines(WgConfigDocument d)
        {
            bool inInterface = false;
            for (int i = 0; i < d.Lines.Count; i++)
            {
                if (d.Lines[i].IsSectionHeader) { inInterface = d.Lines[i].IsSection("Interface"); continue; }
                if (inInterface) yield return i;
            }
        }
    }
}
