using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;
using System.Text.RegularExpressions;
using WgTroubleshoot.Firewall;

namespace WgTroubleshoot.PathFaults
{
    /// <summary>One firewall rule a PostUp hook adds: the command that adds it, and how to find it in the live ruleset.</summary>
    public sealed class HookRule
    {
        /// <summary>The hook line it came from (as written, %i not substituted).</summary>
        public string HookLine { get; set; }
        /// <summary>The tool: iptables, ip6tables, iptables-legacy, iptables-nft, ip6tables-legacy, ip6tables-nft or nft.</summary>
        public string Tool { get; set; }
        /// <summary>The arguments with %i substituted: exactly what a re-apply runs (never through a shell).</summary>
        public string[] Arguments { get; set; }
        /// <summary>iptables: the table (filter by default); nft: "family table".</summary>
        public string Table { get; set; }
        public string Chain { get; set; }
        /// <summary>iptables: the rule's matches and target, as option/value pairs; nft: the normalized statement text.</summary>
        public string Spec { get; set; }
        public bool IsNft => Tool == "nft";

        public string CommandLine => Tool + " " + string.Join(" ", Arguments.Select(Quote));

        private static string Quote(string a) => a.Length > 0 && a.All(c => char.IsLetterOrDigit(c) || "-_./:=,+%@!".IndexOf(c) >= 0) ? a : "'" + a.Replace("'", "'\\''") + "'";
    }

    /// <summary>
    /// Reads the firewall rules that PostUp lines add (iptables -A/-I and nft add/insert rule, the forms wg-quick
    /// configs use), and finds them in the live ruleset. Commands with shell expansion, pipes or redirections
    /// are not interpreted (listed as skipped), so a re-apply never runs anything the parser did not understand.
    /// </summary>
    public static class HookRules
    {
        public static readonly string[] IptablesTools = { "iptables", "ip6tables", "iptables-nft", "iptables-legacy", "ip6tables-nft", "ip6tables-legacy" };
        private static readonly Regex IfName = new Regex(@"^[A-Za-z0-9_.=+-]{1,15}$", RegexOptions.Compiled);

        private static readonly Dictionary<string, string> LongToShort = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["--source"] = "-s", ["--src"] = "-s", ["--destination"] = "-d", ["--dst"] = "-d",
            ["--in-interface"] = "-i", ["--out-interface"] = "-o", ["--protocol"] = "-p", ["--jump"] = "-j", ["--goto"] = "-g",
            ["--dport"] = "--dport", ["--destination-port"] = "--dport", ["--sport"] = "--sport", ["--source-port"] = "--sport",
            ["--state"] = "--ctstate",
        };

        /// <summary>The rules of the given hook lines; lines or commands that are not rule additions are reported in <paramref name="skipped"/>.</summary>
        public static List<HookRule> Parse(IEnumerable<string> hookLines, string interfaceName, List<string> skipped)
        {
            var list = new List<HookRule>();
            if (interfaceName == null || !IfName.IsMatch(interfaceName)) throw new ArgumentException("Not a valid interface name.", nameof(interfaceName));
            foreach (var line in hookLines ?? Enumerable.Empty<string>())
            {
                foreach (var command in SplitCommands(line))
                {
                    var words = ShellWords(command);
                    if (words == null) { skipped?.Add(command.Trim() + " (shell expansion, pipe or redirection: not interpreted)"); continue; }
                    if (words.Count == 0) continue;
                    words = words.Select(w => w.Replace("%i", interfaceName)).ToList();
                    var rule = ParseCommand(words);
                    if (rule != null) { rule.HookLine = line; list.Add(rule); }
                }
            }
            return list;
        }

        /// <summary>Splits a hook line at ; &amp;&amp; and || outside quotes.</summary>
        public static List<string> SplitCommands(string line)
        {
            var parts = new List<string>();
            var sb = new StringBuilder();
            char quote = '\0';
            for (int i = 0; i < (line ?? "").Length; i++)
            {
                char c = line[i];
                if (quote != '\0') { if (c == quote) quote = '\0'; sb.Append(c); continue; }
                if (c == '\'' || c == '"') { quote = c; sb.Append(c); continue; }
                if (c == ';' || ((c == '&' || c == '|') && i + 1 < line.Length && line[i + 1] == c))
                {
                    if (c != ';') i++;
                    parts.Add(sb.ToString()); sb.Clear(); continue;
                }
                sb.Append(c);
            }
            parts.Add(sb.ToString());
            return parts.Where(p => p.Trim().Length > 0).ToList();
        }

        /// <summary>Words of a simple command with '...' and "..." quoting; null when it uses expansion, a pipe or a redirection.</summary>
        public static List<string> ShellWords(string command)
        {
            var words = new List<string>();
            var sb = new StringBuilder();
            bool inWord = false;
            char quote = '\0';
            foreach (char c in command)
            {
                if (quote == '\'') { if (c == '\'') quote = '\0'; else sb.Append(c); continue; }
                if (quote == '"')
                {
                    if (c == '"') { quote = '\0'; continue; }
                    if (c == '$' || c == '`' || c == '\\') return null;
                    sb.Append(c); continue;
                }
                if (c == '\'' || c == '"') { quote = c; inWord = true; continue; }
                if (c == ' ' || c == '\t') { if (inWord) { words.Add(sb.ToString()); sb.Clear(); inWord = false; } continue; }
                if ("$`\\|<>&(){}*?~".IndexOf(c) >= 0) return null;
                sb.Append(c); inWord = true;
            }
            if (quote != '\0') return null;
            if (inWord) words.Add(sb.ToString());
            return words;
        }

        private static HookRule ParseCommand(List<string> w)
        {
            var tool = w[0];
            if (IptablesTools.Contains(tool)) return ParseIptables(tool, w.Skip(1).ToList());
            if (tool == "nft") return ParseNft(w.Skip(1).ToList());
            return null;
        }

        private static HookRule ParseIptables(string tool, List<string> a)
        {
            string table = "filter", chain = null;
            var spec = new List<string>();
            for (int i = 0; i < a.Count; i++)
            {
                var t = a[i];
                if (t == "-w" || t == "--wait") { if (i + 1 < a.Count && a[i + 1].All(char.IsDigit)) i++; continue; }
                if (t == "-t" || t == "--table") { table = i + 1 < a.Count ? a[++i] : table; continue; }
                if (t == "-A" || t == "--append") { chain = i + 1 < a.Count ? a[++i] : null; continue; }
                if (t == "-I" || t == "--insert")
                {
                    chain = i + 1 < a.Count ? a[++i] : null;
                    if (i + 1 < a.Count && a[i + 1].All(char.IsDigit)) i++;
                    continue;
                }
                if (t.StartsWith("-", StringComparison.Ordinal) && (t == "-D" || t == "--delete" || t == "-N" || t == "-P" || t == "-F" || t == "-X" || t == "-C" || t == "-R" || t == "-Z"))
                    return null;
                spec.Add(t);
            }
            if (chain == null) return null;
            return new HookRule
            {
                Tool = tool, Arguments = a.ToArray(), Table = table, Chain = chain,
                Spec = string.Join(" ", NormalizeIptablesSpec(spec)),
            };
        }

        /// <summary>Option/value pairs of an iptables rule, canonical (short options, /32 added, -m modules dropped), sorted.</summary>
        public static List<string> NormalizeIptablesSpec(IList<string> tokens)
        {
            var pairs = new List<string>();
            bool neg = false;
            for (int i = 0; i < tokens.Count; i++)
            {
                var t = tokens[i];
                if (t == "!") { neg = true; continue; }
                if (!t.StartsWith("-", StringComparison.Ordinal)) continue;
                if (t == "-m" || t == "--match") { i++; neg = false; continue; }
                var opt = LongToShort.TryGetValue(t, out var s) ? s : t;
                var values = new List<string>();
                while (i + 1 < tokens.Count && !tokens[i + 1].StartsWith("-", StringComparison.Ordinal) && tokens[i + 1] != "!") values.Add(tokens[++i]);
                var v = string.Join(" ", values);
                if ((opt == "-s" || opt == "-d") && v.IndexOf('/') < 0 && v.Length > 0) v += v.IndexOf(':') >= 0 ? "/128" : "/32";
                if (opt == "-p") v = v.ToLowerInvariant();
                pairs.Add((neg ? "! " : "") + opt + (v.Length > 0 ? " " + v : ""));
                neg = false;
            }
            pairs.Sort(StringComparer.Ordinal);
            return pairs;
        }

        private static HookRule ParseNft(List<string> a)
        {
            // nft add|insert rule [family] table chain statement...
            if (a.Count < 4 || (a[0] != "add" && a[0] != "insert") || a[1] != "rule") return null;
            string[] families = { "ip", "ip6", "inet", "arp", "bridge", "netdev" };
            int i = 2;
            string family = "ip";
            if (families.Contains(a[i])) family = a[i++];
            if (a.Count < i + 3) return null;
            var table = a[i++]; var chain = a[i++];
            if (i < a.Count && (a[i] == "position" || a[i] == "handle" || a[i] == "index") && i + 1 < a.Count) i += 2;
            return new HookRule
            {
                Tool = "nft", Arguments = a.ToArray(), Table = family + " " + table, Chain = chain,
                Spec = NormalizeNft(string.Join(" ", a.Skip(i))),
            };
        }

        /// <summary>An nft statement without quotes, counters, comments and handles, single-spaced: comparable with `nft list ruleset` lines.</summary>
        public static string NormalizeNft(string text)
        {
            var s = Regex.Replace(text ?? "", @"\s+#\s*handle\s+\d+\s*$", "");
            s = Regex.Replace(s, @"\bcounter(\s+packets\s+\d+\s+bytes\s+\d+)?", "");
            s = Regex.Replace(s, @"\bcomment\s+(""[^""]*""|\S+)", "");
            s = s.Replace("\"", "");
            return Regex.Replace(s, @"\s+", " ").Trim();
        }

        /// <summary>
        /// True when the live ruleset has the rule: <paramref name="chains"/> are the parsed chains of the backend the
        /// rule's tool writes to (`nft list ruleset`, or iptables-save of the tool's family and flavour).
        /// </summary>
        public static bool IsPresent(HookRule rule, IEnumerable<FwChain> chains)
        {
            var chain = (chains ?? Enumerable.Empty<FwChain>()).FirstOrDefault(c => c.Table == rule.Table && c.Name == rule.Chain);
            if (chain == null) return false;
            if (rule.IsNft) return chain.Rules.Select(r => NormalizeNft(r.Text)).Any(r => r == rule.Spec || r.Contains(rule.Spec));
            var wantPairs = NormalizeIptablesSpec(rule.Spec.Split(new[] { ' ' }, StringSplitOptions.RemoveEmptyEntries));
            return chain.Rules.Any(r => wantPairs.All(NormalizeIptablesSpec(r.Text.Split(new[] { ' ' }, StringSplitOptions.RemoveEmptyEntries).Skip(2).ToList()).Contains));
        }
    }
}
