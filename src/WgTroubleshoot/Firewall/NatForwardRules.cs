using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Net;
using System.Text;

namespace WgTroubleshoot.Firewall
{
    /// <summary>One rule reduced to what the NAT and forward checks need.</summary>
    public sealed class NfRule
    {
        public string Text { get; set; }
        public string Iif { get; set; }
        public bool IifNegated { get; set; }
        public string Oif { get; set; }
        public bool OifNegated { get; set; }
        /// <summary>Source prefixes (several for an nft set); null when the rule has no source match.</summary>
        public string[] Saddr { get; set; }
        public bool SaddrNegated { get; set; }
        /// <summary>ct state values (established, related, new...); null when none.</summary>
        public string[] CtState { get; set; }
        /// <summary>accept, drop, reject, masquerade, snat, jump, goto, return; null when the rule only counts or logs.</summary>
        public string Verdict { get; set; }
        /// <summary>True when the rule matches on something this reader does not model (ports, protocols, destinations...).</summary>
        public bool HasOtherMatches { get; set; }
    }

    /// <summary>One base chain (or iptables built-in chain).</summary>
    public sealed class NfChain
    {
        /// <summary>"nft" or "iptables".</summary>
        public string Source { get; set; }
        /// <summary>ip, ip6, inet... (nft); ip for iptables.</summary>
        public string Family { get; set; }
        public string Table { get; set; }
        public string Name { get; set; }
        /// <summary>postrouting, forward, input... (nft hook; iptables built-in chain name in lower case); null for regular chains.</summary>
        public string Hook { get; set; }
        /// <summary>accept or drop; null for regular chains.</summary>
        public string Policy { get; set; }
        public List<NfRule> Rules { get; } = new List<NfRule>();

        public override string ToString() => $"{Source} {Family} {Table} {Name}";
    }

    /// <summary>
    /// Reads `nft list ruleset` and `iptables-save` text into chains and rules, as far as NAT and the forward
    /// path need. Written to be folded into the firewall reader of the Firewall area.
    /// </summary>
    public static class NatForwardRules
    {
        public static List<NfChain> ParseNft(string text)
        {
            var chains = new List<NfChain>();
            string family = null, table = null;
            NfChain chain = null;
            int depth = 0; // 1 = in table, 2 = in chain, deeper = inside a set/map/other block
            int skipDepth = -1;
            foreach (var raw in (text ?? "").Split('\n'))
            {
                var line = StripComment(raw).Trim();
                if (line.Length == 0) continue;
                if (skipDepth >= 0)
                {
                    depth += Count(line, '{') - Count(line, '}');
                    if (depth <= skipDepth) skipDepth = -1;
                    continue;
                }
                if (depth == 0 && line.StartsWith("table ", StringComparison.Ordinal))
                {
                    var p = line.Split(new[] { ' ' }, StringSplitOptions.RemoveEmptyEntries);
                    if (p.Length >= 3) { family = p[1]; table = p[2]; }
                    else { family = "ip"; table = p[1]; }
                    depth = 1;
                    continue;
                }
                if (depth == 1 && line.StartsWith("chain ", StringComparison.Ordinal))
                {
                    var name = line.Substring(6).TrimEnd('{').Trim();
                    chain = new NfChain { Source = "nft", Family = family, Table = table, Name = name };
                    chains.Add(chain);
                    depth = 2;
                    continue;
                }
                if (line == "}")
                {
                    depth--;
                    if (depth < 2) chain = null;
                    continue;
                }
                if (depth == 1 && line.EndsWith("{", StringComparison.Ordinal))
                {
                    // set, map, flowtable, counter...: not needed here
                    skipDepth = depth;
                    depth++;
                    continue;
                }
                if (depth == 2 && chain != null)
                {
                    if (line.StartsWith("type ", StringComparison.Ordinal))
                    {
                        foreach (var part in line.Split(';'))
                        {
                            var t = part.Trim().Split(new[] { ' ' }, StringSplitOptions.RemoveEmptyEntries);
                            for (int i = 0; i + 1 < t.Length; i++)
                                if (t[i] == "hook") chain.Hook = t[i + 1];
                            if (t.Length >= 2 && t[0] == "policy") chain.Policy = t[1];
                        }
                        if (chain.Hook != null && chain.Policy == null) chain.Policy = "accept";
                        continue;
                    }
                    if (line.StartsWith("policy ", StringComparison.Ordinal)) { chain.Policy = line.Substring(7).TrimEnd(';').Trim(); continue; }
                    if (line.StartsWith("comment ", StringComparison.Ordinal) || line.StartsWith("devices ", StringComparison.Ordinal)) continue;
                    chain.Rules.Add(ParseNftRule(line));
                }
            }
            return chains;
        }

        private static int Count(string s, char c) { int n = 0; foreach (var x in s) if (x == c) n++; return n; }

        private static string StripComment(string line)
        {
            // `nft -a` handles: "... accept # handle 4"
            bool q = false;
            for (int i = 0; i < line.Length; i++)
            {
                if (line[i] == '"') q = !q;
                else if (line[i] == '#' && !q) return line.Substring(0, i);
            }
            return line;
        }

        /// <summary>Splits an nft rule into tokens; quoted strings and { sets } stay whole (quotes removed).</summary>
        public static List<string> TokenizeNft(string line)
        {
            var tokens = new List<string>();
            var sb = new StringBuilder();
            int i = 0;
            while (i < line.Length)
            {
                char c = line[i];
                if (char.IsWhiteSpace(c)) { i++; continue; }
                if (c == '"')
                {
                    int end = line.IndexOf('"', i + 1);
                    if (end < 0) end = line.Length;
                    tokens.Add(line.Substring(i + 1, end - i - 1));
                    i = end + 1;
                    continue;
                }
                if (c == '{')
                {
                    int end = line.IndexOf('}', i + 1);
                    if (end < 0) end = line.Length - 1;
                    tokens.Add(line.Substring(i, end - i + 1));
                    i = end + 1;
                    continue;
                }
                int s = i;
                while (i < line.Length && !char.IsWhiteSpace(line[i])) i++;
                tokens.Add(line.Substring(s, i - s));
            }
            return tokens;
        }

        private static string[] SetValues(string token)
        {
            if (token.StartsWith("{", StringComparison.Ordinal))
                return token.Trim('{', '}').Split(',').Select(x => x.Trim().Trim('"')).Where(x => x.Length > 0).ToArray();
            return token.Split(',').Select(x => x.Trim()).ToArray();
        }

        public static NfRule ParseNftRule(string line)
        {
            var r = new NfRule { Text = line };
            var t = TokenizeNft(line);
            for (int i = 0; i < t.Count; i++)
            {
                string tok = t[i];
                string Next(ref int k) => ++k < t.Count ? t[k] : null;
                bool Neg(ref int k) { if (k + 1 < t.Count && t[k + 1] == "!=") { k++; return true; } if (k + 1 < t.Count && t[k + 1] == "==") k++; return false; }
                switch (tok)
                {
                    case "iifname":
                    case "iif":
                        r.IifNegated = Neg(ref i); r.Iif = Next(ref i); break;
                    case "oifname":
                    case "oif":
                        r.OifNegated = Neg(ref i); r.Oif = Next(ref i); break;
                    case "ip":
                    case "ip6":
                        {
                            var what = Next(ref i);
                            if (what == "saddr") { r.SaddrNegated = Neg(ref i); var v = Next(ref i); r.Saddr = v == null ? null : SetValues(v); }
                            else { r.HasOtherMatches = true; if (i + 1 < t.Count && (t[i + 1] == "!=" || t[i + 1] == "==")) i++; Next(ref i); }
                            break;
                        }
                    case "ct":
                        {
                            var what = Next(ref i);
                            if (what == "state") { Neg(ref i); var v = Next(ref i); r.CtState = v == null ? null : SetValues(v); }
                            else { r.HasOtherMatches = true; Next(ref i); }
                            break;
                        }
                    case "meta":
                        {
                            var what = Next(ref i);
                            if (what == "nfproto") Next(ref i);
                            else if (what == "iifname" || what == "iif") { r.IifNegated = Neg(ref i); r.Iif = Next(ref i); }
                            else if (what == "oifname" || what == "oif") { r.OifNegated = Neg(ref i); r.Oif = Next(ref i); }
                            else { r.HasOtherMatches = true; Next(ref i); }
                            break;
                        }
                    case "counter":
                        if (i + 4 < t.Count && t[i + 1] == "packets" && t[i + 3] == "bytes") i += 4;
                        break;
                    case "comment":
                        Next(ref i); break;
                    case "log":
                        while (i + 2 < t.Count && (t[i + 1] == "prefix" || t[i + 1] == "level" || t[i + 1] == "flags" || t[i + 1] == "group")) i += 2;
                        break;
                    case "accept":
                    case "drop":
                    case "masquerade":
                    case "return":
                        r.Verdict = tok;
                        i = t.Count; // options after the verdict (random, to :port...) do not matter here
                        break;
                    case "reject":
                        r.Verdict = "drop"; i = t.Count; break;
                    case "snat":
                        r.Verdict = "snat"; i = t.Count; break;
                    case "jump":
                    case "goto":
                        r.Verdict = tok + " " + (i + 1 < t.Count ? t[i + 1] : ""); i = t.Count; break;
                    default:
                        r.HasOtherMatches = true; break;
                }
            }
            return r;
        }

        /// <summary>Parses `iptables-save` (any tables); built-in chains get Hook = their lower-case name.</summary>
        public static List<NfChain> ParseIptablesSave(string text, string family = "ip")
        {
            var chains = new Dictionary<string, NfChain>(StringComparer.Ordinal);
            var ordered = new List<NfChain>();
            string table = null;
            foreach (var raw in (text ?? "").Split('\n'))
            {
                var line = raw.Trim();
                if (line.Length == 0 || line[0] == '#') continue;
                if (line[0] == '*') { table = line.Substring(1); continue; }
                if (line == "COMMIT") continue;
                if (line[0] == ':')
                {
                    var p = line.Substring(1).Split(' ');
                    var c = new NfChain { Source = "iptables", Family = family, Table = table, Name = p[0] };
                    if (p.Length > 1 && p[1] != "-") { c.Policy = p[1].ToLowerInvariant(); c.Hook = p[0].ToLowerInvariant(); }
                    chains[table + "/" + p[0]] = c;
                    ordered.Add(c);
                    continue;
                }
                if (line.StartsWith("-A ", StringComparison.Ordinal))
                {
                    var tok = TokenizeNft(line);
                    if (tok.Count < 2) continue;
                    if (!chains.TryGetValue(table + "/" + tok[1], out var chain))
                    {
                        chain = new NfChain { Source = "iptables", Family = family, Table = table, Name = tok[1] };
                        chains[table + "/" + tok[1]] = chain;
                        ordered.Add(chain);
                    }
                    chain.Rules.Add(ParseIptablesRule(line, tok));
                }
            }
            return ordered;
        }

        private static NfRule ParseIptablesRule(string line, List<string> t)
        {
            var r = new NfRule { Text = line };
            bool neg = false;
            for (int i = 2; i < t.Count; i++)
            {
                var tok = t[i];
                string Next() => ++i < t.Count ? t[i] : null;
                switch (tok)
                {
                    case "!": neg = true; continue;
                    case "-s": case "--source": r.SaddrNegated = neg; r.Saddr = Next()?.Split(','); break;
                    case "-i": case "--in-interface": r.IifNegated = neg; r.Iif = Next(); break;
                    case "-o": case "--out-interface": r.OifNegated = neg; r.Oif = Next(); break;
                    case "-m": case "--match": Next(); break;
                    case "--state": case "--ctstate": r.CtState = Next()?.ToLowerInvariant().Split(','); break;
                    case "--comment": Next(); break;
                    case "-c": i += 2; break;
                    case "-j": case "-g":
                        {
                            var target = Next() ?? "";
                            switch (target)
                            {
                                case "ACCEPT": r.Verdict = "accept"; break;
                                case "DROP": case "REJECT": r.Verdict = "drop"; break;
                                case "MASQUERADE": r.Verdict = "masquerade"; break;
                                case "SNAT": r.Verdict = "snat"; break;
                                case "RETURN": r.Verdict = "return"; break;
                                case "LOG": break;
                                default: r.Verdict = (tok == "-g" ? "goto " : "jump ") + target; break;
                            }
                            i = t.Count;
                            break;
                        }
                    default:
                        r.HasOtherMatches = true;
                        // skip the option's value
                        if (tok.StartsWith("-", StringComparison.Ordinal) && i + 1 < t.Count && !t[i + 1].StartsWith("-", StringComparison.Ordinal)) i++;
                        break;
                }
                neg = false;
            }
            return r;
        }

        /// <summary>nft "ens*" and iptables "ens+" wildcards; exact names otherwise.</summary>
        public static bool InterfaceMatches(string pattern, string name)
        {
            if (pattern == null || name == null) return false;
            if (pattern.EndsWith("*", StringComparison.Ordinal) || pattern.EndsWith("+", StringComparison.Ordinal))
                return name.StartsWith(pattern.Substring(0, pattern.Length - 1), StringComparison.Ordinal);
            return pattern == name;
        }

        /// <summary>True when <paramref name="prefix"/> (a/len or a bare address) contains the whole <paramref name="subnet"/>.</summary>
        public static bool PrefixCovers(string prefix, string subnet)
        {
            if (!TryParsePrefix(prefix, out var pa, out var pl) || !TryParsePrefix(subnet, out var sa, out var sl)) return false;
            if (pa.AddressFamily != sa.AddressFamily || pl > sl) return false;
            var pb = pa.GetAddressBytes();
            var sb = sa.GetAddressBytes();
            for (int bit = 0; bit < pl; bit++)
            {
                int mask = 0x80 >> (bit % 8);
                if ((pb[bit / 8] & mask) != (sb[bit / 8] & mask)) return false;
            }
            return true;
        }

        public static bool TryParsePrefix(string text, out IPAddress address, out int length)
        {
            address = null; length = 0;
            if (string.IsNullOrEmpty(text)) return false;
            var parts = text.Trim().Split('/');
            if (!IPAddress.TryParse(parts[0], out address)) return false;
            int max = address.GetAddressBytes().Length * 8;
            length = max;
            if (parts.Length > 1 && (!int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out length) || length > max)) return false;
            return true;
        }

        /// <summary>"192.0.2.1/26" → "192.0.2.0/26".</summary>
        public static string NetworkOf(string cidr)
        {
            if (!TryParsePrefix(cidr, out var a, out var len)) return null;
            var b = a.GetAddressBytes();
            for (int bit = len; bit < b.Length * 8; bit++) b[bit / 8] &= (byte)~(0x80 >> (bit % 8));
            return new IPAddress(b) + "/" + len.ToString(CultureInfo.InvariantCulture);
        }
    }
}
