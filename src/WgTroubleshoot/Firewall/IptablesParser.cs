using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text;

namespace WgTroubleshoot.Firewall
{
    /// <summary>The tables of one `iptables-save` or `ip6tables-save` output.</summary>
    public sealed class IptablesRuleset
    {
        public bool IsIPv6 { get; set; }
        /// <summary>Table name → its chains by name.</summary>
        public Dictionary<string, Dictionary<string, FwChain>> Tables { get; } = new Dictionary<string, Dictionary<string, FwChain>>(StringComparer.Ordinal);

        /// <summary>True when any table has a rule or a built-in chain whose policy is not ACCEPT.</summary>
        public bool HasRules => Tables.Values.SelectMany(t => t.Values).Any(c => c.Rules.Count > 0 || (c.IsBase && !string.Equals(c.Policy, "ACCEPT", StringComparison.Ordinal)));

        /// <summary>Every chain of every table, in the order printed.</summary>
        public IEnumerable<FwChain> AllChains() => Tables.Values.SelectMany(t => t.Values);

        public FwChain Chain(string table, string name)
            => Tables.TryGetValue(table, out var t) && t.TryGetValue(name, out var c) ? c : null;

        /// <summary>The built-in chains a probe meets, in kernel order (raw, mangle, then filter).</summary>
        public List<FwChain> BaseChainsFor(Probe probe)
        {
            var order = probe.Output
                ? new[] { ("raw", "OUTPUT"), ("mangle", "OUTPUT"), ("filter", "OUTPUT"), ("mangle", "POSTROUTING") }
                : probe.Forwarded
                ? new[] { ("raw", "PREROUTING"), ("mangle", "PREROUTING"), ("mangle", "FORWARD"), ("filter", "FORWARD") }
                : new[] { ("raw", "PREROUTING"), ("mangle", "PREROUTING"), ("mangle", "INPUT"), ("filter", "INPUT") };
            return order.Select(o => Chain(o.Item1, o.Item2)).Where(c => c != null).ToList();
        }
    }

    /// <summary>
    /// Parses `iptables-save` / `ip6tables-save` output (legacy and nf_tables flavours print the same format)
    /// into chains and rules the <see cref="ChainWalker"/> evaluates.
    /// </summary>
    public static class IptablesParser
    {
        private static readonly HashSet<string> BuiltIn = new HashSet<string> { "INPUT", "FORWARD", "OUTPUT", "PREROUTING", "POSTROUTING" };
        private static readonly HashSet<string> NonTerminalTargets = new HashSet<string>
        {
            "LOG", "NFLOG", "ULOG", "MARK", "CONNMARK", "CLASSIFY", "DSCP", "TOS", "TTL", "HL", "TCPMSS", "CT", "NOTRACK",
            "TRACE", "AUDIT", "SECMARK", "CONNSECMARK", "CHECKSUM", "SET", "TEE", "IDLETIMER", "LED", "RATEEST", "TPROXY",
        };

        /// <summary>Options that are facts of the rule (or match nothing); any other option is a match the facts do not model.</summary>
        private static readonly HashSet<string> FactOption = new HashSet<string>
        {
            "-s", "--source", "-i", "--in-interface", "-o", "--out-interface", "-m", "--match", "--state", "--ctstate", "--comment",
            "-c", "-j", "--jump", "-g", "--goto",
        };

        /// <summary>The verdict fact of a -j/-g target: accept, drop (DROP, REJECT), masquerade, snat, dnat, redirect, return, "jump X", "goto X"; null for LOG.</summary>
        private static string VerdictOf(string target, bool isGoto)
        {
            switch (target)
            {
                case "ACCEPT": return "accept";
                case "DROP": case "REJECT": return "drop";
                case "MASQUERADE": return "masquerade";
                case "SNAT": return "snat";
                case "DNAT": return "dnat";
                case "REDIRECT": return "redirect";
                case "RETURN": return "return";
                case "LOG": return null;
                default: return (isGoto ? "goto " : "jump ") + target;
            }
        }

        public static IptablesRuleset Parse(string text, bool ipv6 = false)
        {
            var rs = new IptablesRuleset { IsIPv6 = ipv6 };
            Dictionary<string, FwChain> table = null;
            string tableName = null;
            var rules = new List<(Dictionary<string, FwChain> table, string tableName, string chain, string text)>();
            foreach (var raw in (text ?? "").Replace("\r", "").Split('\n'))
            {
                var line = raw.Trim();
                if (line.Length == 0 || line[0] == '#') continue;
                if (line[0] == '*')
                {
                    tableName = line.Substring(1);
                    if (!rs.Tables.TryGetValue(tableName, out table))
                        rs.Tables[tableName] = table = new Dictionary<string, FwChain>(StringComparer.Ordinal);
                    continue;
                }
                if (table == null) continue;
                if (line == "COMMIT") { table = null; continue; }
                if (line[0] == ':')
                {
                    var parts = line.Substring(1).Split(' ');
                    var name = parts[0];
                    var policy = parts.Length > 1 && parts[1] != "-" ? parts[1] : null;
                    table[name] = new FwChain
                    {
                        Name = name, Table = tableName, Family = ipv6 ? "ip6" : "ip", Source = "iptables",
                        Hook = BuiltIn.Contains(name) && policy != null ? name.ToLowerInvariant() : null,
                        Policy = policy,
                    };
                    continue;
                }
                if (line.StartsWith("-A ", StringComparison.Ordinal))
                {
                    var tokens = Tokenize(line);
                    if (tokens.Count >= 2) rules.Add((table, tableName, tokens[1], line));
                }
            }
            foreach (var (tbl, tblName, chainName, line) in rules)
            {
                // A built-in chain exists in its table even when the text does not declare it (iptables-restore input).
                if (!tbl.TryGetValue(chainName, out var chain) && BuiltIn.Contains(chainName))
                    tbl[chainName] = chain = new FwChain
                    {
                        Name = chainName, Table = tblName, Family = ipv6 ? "ip6" : "ip", Source = "iptables",
                        Hook = chainName.ToLowerInvariant(),
                    };
                if (chain == null) continue;
                var rule = ParseRule(line, tbl);
                rule.Chain = chain;
                chain.Rules.Add(rule);
            }
            return rs;
        }

        public static List<string> Tokenize(string line)
        {
            var tokens = new List<string>();
            var sb = new StringBuilder();
            bool quoted = false, any = false;
            for (int i = 0; i < line.Length; i++)
            {
                var ch = line[i];
                if (ch == '\\' && quoted && i + 1 < line.Length) { sb.Append(line[++i]); continue; }
                if (ch == '"') { quoted = !quoted; any = true; continue; }
                if (!quoted && char.IsWhiteSpace(ch))
                {
                    if (any) { tokens.Add(sb.ToString()); sb.Clear(); any = false; }
                    continue;
                }
                sb.Append(ch);
                any = true;
            }
            if (any) tokens.Add(sb.ToString());
            return tokens;
        }

        /// <summary>"51820", "51000:52000", "51820,51821:51830" → port ranges; null when not numeric.</summary>
        public static List<PortRange> ParsePorts(string value)
        {
            var result = new List<PortRange>();
            foreach (var v in value.Split(','))
            {
                var parts = v.Split(':');
                int a, b;
                if (parts.Length == 1 && int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out a)) result.Add(new PortRange(a, a));
                else if (parts.Length == 2)
                {
                    a = parts[0].Length == 0 ? 0 : int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var x) ? x : -1;
                    b = parts[1].Length == 0 ? 65535 : int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var y) ? y : -1;
                    if (a < 0 || b < 0) return null;
                    result.Add(new PortRange(a, b));
                }
                else return null;
            }
            return result;
        }

        /// <summary>Parses one "-A CHAIN ..." line. The chain table resolves -j/-g targets that are user chains.</summary>
        public static FwRule ParseRule(string line, IDictionary<string, FwChain> table)
        {
            var t = Tokenize(line);
            var rule = new FwRule { Text = line, Action = RuleAction.None };
            var conds = new List<Func<Probe, Tri>>();
            bool negate = false;
            string protocol = null;
            int i = 2;
            Tri Neg(Tri x) => negate ? x.Not() : x;
            string Next() => i + 1 < t.Count ? t[++i] : "";
            for (; i < t.Count; i++)
            {
                var tok = t[i];
                if (tok == "!") { negate = true; continue; }
                if (!FactOption.Contains(tok)) rule.HasOtherMatches = true;
                switch (tok)
                {
                    case "-p":
                    case "--protocol":
                    {
                        protocol = Next();
                        var proto = protocol;
                        bool n = negate;
                        conds.Add(p => { var r = p.MatchProtocol(new[] { proto }); return n ? r.Not() : r; });
                        break;
                    }
                    case "-s": case "--source":
                    case "-d": case "--destination":
                    {
                        var v = Next();
                        if (tok == "-s" || tok == "--source") { rule.Saddr = v.Split(','); rule.SaddrNegated = negate; }
                        var r = v == "0.0.0.0/0" || v == "::/0" ? Tri.True : Tri.Maybe;
                        var rr = Neg(r);
                        conds.Add(_ => rr);
                        break;
                    }
                    case "-i": case "--in-interface":
                    {
                        var v = Next();
                        bool n = negate;
                        rule.Iif = v; rule.IifNegated = n;
                        conds.Add(p => { var r = p.MatchInterface(new[] { v }, false); return n ? r.Not() : r; });
                        break;
                    }
                    case "-o": case "--out-interface":
                    {
                        var v = Next();
                        bool n = negate;
                        rule.Oif = v; rule.OifNegated = n;
                        conds.Add(p => { var r = p.HasOutInterface ? p.MatchInterface(new[] { v }, true) : Tri.False; return n ? r.Not() : r; });
                        break;
                    }
                    case "-m": case "--match":
                        Next();
                        break;
                    case "--dport": case "--destination-port":
                    case "--dports": case "--destination-ports":
                    case "--ports":
                    {
                        var ports = ParsePorts(Next());
                        bool n = negate;
                        rule.TestsPort = true;
                        if (ports == null) conds.Add(_ => Tri.Maybe);
                        else conds.Add(p => { var r = p.MatchPort(ports); return n ? r.Not() : r; });
                        break;
                    }
                    case "--sport": case "--source-port":
                    case "--sports": case "--source-ports":
                    {
                        var ports = ParsePorts(Next());
                        bool n = negate;
                        if (ports == null) conds.Add(_ => Tri.Maybe);
                        else conds.Add(p => { var r = p.MatchSourcePort(ports); return n ? r.Not() : r; });
                        break;
                    }
                    case "--ctstate":
                    case "--state":
                    {
                        var states = Next().Split(',');
                        bool n = negate;
                        rule.CtState = states.Select(x => x.ToLowerInvariant()).ToArray();
                        conds.Add(p => { var r = TriExtensions.From(states.Contains(p.CtState.ToUpperInvariant())); return n ? r.Not() : r; });
                        break;
                    }
                    case "--dst-type":
                    {
                        var types = Next().Split(',');
                        var r = types.Contains("LOCAL") ? Tri.True
                            : types.All(x => x == "BROADCAST" || x == "MULTICAST" || x == "ANYCAST") ? Tri.False : Tri.Maybe;
                        var rr = Neg(r);
                        conds.Add(p => p.Forwarded ? Tri.Maybe : rr);
                        break;
                    }
                    case "--comment":
                    case "--log-prefix":
                    case "--log-level":
                    case "--reject-with":
                    case "--limit":
                    case "--limit-burst":
                        if (tok == "--limit") conds.Add(_ => Tri.Maybe);
                        Next();
                        break;
                    case "--match-set":
                        Next(); Next();
                        conds.Add(_ => Tri.Maybe);
                        break;
                    case "--icmp-type":
                    case "--icmpv6-type":
                        Next();
                        break;
                    case "--tcp-flags":
                    case "--syn":
                    {
                        // "--tcp-flags SYN,RST SYN" (mask, then the flags that must be set); --syn is SYN,RST,ACK,FIN SYN.
                        var flags = tok == "--syn" ? "SYN,RST,ACK,FIN SYN" : Next() + " " + Next();
                        rule.TcpFlags = (negate ? "! " : "") + flags;
                        conds.Add(_ => Tri.Maybe);
                        break;
                    }
                    case "-j": case "--jump":
                    case "-g": case "--goto":
                    {
                        var target = Next();
                        rule.Target = target;
                        rule.Verdict = VerdictOf(target, tok == "-g" || tok == "--goto");
                        switch (target)
                        {
                            case "ACCEPT": rule.Action = RuleAction.Accept; break;
                            case "DROP": rule.Action = RuleAction.Drop; break;
                            case "REJECT": rule.Action = RuleAction.Reject; break;
                            case "RETURN": rule.Action = RuleAction.Return; break;
                            case "NFQUEUE": case "QUEUE": rule.Action = RuleAction.Unknown; break;
                            default:
                                if (table != null && table.TryGetValue(target, out var chain))
                                {
                                    rule.Action = tok == "-g" || tok == "--goto" ? RuleAction.Goto : RuleAction.Jump;
                                    rule.TargetChain = chain;
                                }
                                else rule.Action = NonTerminalTargets.Contains(target) ? RuleAction.None : RuleAction.Unknown;
                                break;
                        }
                        // Target options follow; none of them match anything. TCPMSS's say what MSS it writes.
                        if (target == "TCPMSS")
                        {
                            rule.SetsMss = true;
                            for (int k = i + 1; k < t.Count; k++)
                            {
                                if (t[k] == "--clamp-mss-to-pmtu") rule.MssToPathMtu = true;
                                else if (t[k] == "--set-mss" && k + 1 < t.Count && int.TryParse(t[k + 1], NumberStyles.None, CultureInfo.InvariantCulture, out var mss)) rule.MssValue = mss;
                            }
                        }
                        i = t.Count;
                        break;
                    }
                    default:
                        if (tok.StartsWith("-", StringComparison.Ordinal))
                        {
                            // An option the walk does not model (--sport, --tcp-flags, --mark, ...): it may or may not match.
                            conds.Add(_ => Tri.Maybe);
                            while (i + 1 < t.Count && !t[i + 1].StartsWith("-", StringComparison.Ordinal) && t[i + 1] != "!") i++;
                        }
                        break;
                }
                negate = false;
            }
            var all = conds.ToArray();
            rule.Match = p =>
            {
                var r = Tri.True;
                foreach (var c in all)
                {
                    r = r.And(c(p));
                    if (r == Tri.False) break;
                }
                return r;
            };
            return rule;
        }
    }
}
