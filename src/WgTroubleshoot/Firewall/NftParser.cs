using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text;
using System.Text.RegularExpressions;

namespace WgTroubleshoot.Firewall
{
    /// <summary>One nftables table of `nft list ruleset`.</summary>
    public sealed class NftTable
    {
        public string Family { get; set; }
        public string Name { get; set; }
        public bool Dormant { get; set; }
        /// <summary>True for the tables iptables-nft owns (they belong to the iptables-nft backend).</summary>
        public bool ManagedByIptables { get; set; }
        public List<FwChain> Chains { get; } = new List<FwChain>();
        public override string ToString() => Family + " " + Name;
    }

    public sealed class NftRuleset
    {
        public List<NftTable> Tables { get; } = new List<NftTable>();

        /// <summary>Tables this backend answers for: not dormant, not iptables-nft's.</summary>
        public IEnumerable<NftTable> OwnTables => Tables.Where(t => !t.Dormant && !t.ManagedByIptables);

        /// <summary>Every chain of every table (dormant and iptables-nft's included), in the order printed.</summary>
        public IEnumerable<FwChain> AllChains() => Tables.SelectMany(t => t.Chains);

        /// <summary>Base chains of the own tables a probe meets, in the order the kernel runs them.</summary>
        public List<FwChain> BaseChainsFor(Probe probe)
        {
            var hooks = probe.Output ? new[] { "output", "postrouting" }
                : probe.Forwarded ? new[] { "ingress", "prerouting", "forward" } : new[] { "ingress", "prerouting", "input" };
            var fam = probe.IsIPv6 ? "ip6" : "ip";
            return OwnTables
                .Where(t => t.Family == fam || t.Family == "inet" || (t.Family == "netdev" && !probe.Output))
                .SelectMany(t => t.Chains)
                // an output chain of type route drops like a filter chain
                .Where(c => c.IsBase && (c.Type == "filter" || (probe.Output && c.Type == "route" && c.Hook == "output")) && Array.IndexOf(hooks, c.Hook) >= 0)
                .Select((c, i) => new { c, i })
                .OrderBy(x => Array.IndexOf(hooks, x.c.Hook)).ThenBy(x => x.c.Priority).ThenBy(x => x.i)
                .Select(x => x.c)
                .ToList();
        }
    }

    /// <summary>
    /// Parses the text form of `nft list ruleset` (as nftables 0.9 to 1.1 print it) into tables, chains and
    /// rules with matches the <see cref="ChainWalker"/> can evaluate. Counters, comments and log statements are
    /// ignored; anything the parser does not understand makes the rule's match "Maybe", never a silent "True".
    /// </summary>
    public static class NftParser
    {
        private static readonly Regex TableRe = new Regex(@"^table\s+(\w+)\s+(""[^""]+""|\S+)\s*\{", RegexOptions.Compiled);
        private static readonly Regex ChainRe = new Regex(@"^chain\s+(""[^""]+""|\S+)\s*\{", RegexOptions.Compiled);
        private static readonly Regex BlockRe = new Regex(@"^(set|map|flowtable|counter|quota|limit|secmark|synproxy|ct\s+\w+)\s+\S+.*\{", RegexOptions.Compiled);
        private static readonly Regex TypeRe = new Regex(@"^type\s+(\w+)\s+hook\s+(\w+)(?:\s+devices?\s*=?\s*(""[^""]*""|\{[^}]*\}|\S+))?\s+priority\s+([^;]+);", RegexOptions.Compiled);
        private static readonly Regex PolicyRe = new Regex(@"policy\s+(\w+)\s*;", RegexOptions.Compiled);
        private static readonly Regex HandleRe = new Regex(@"\s+#\s*handle\s+(\d+)\s*$", RegexOptions.Compiled);
        private static readonly Regex ManagedRe = new Regex(@"table\s+(\w+)\s+(\S+)\s+is managed by iptables-nft", RegexOptions.Compiled);
        private static readonly string[] XtablesTables = { "filter", "nat", "mangle", "raw", "security" };
        private static readonly string[] XtablesChains = { "INPUT", "FORWARD", "OUTPUT", "PREROUTING", "POSTROUTING" };

        /// <param name="text">stdout of `nft list ruleset`.</param>
        /// <param name="warnings">stderr of the same call: nft 1.0.6+ names the tables iptables-nft manages there.</param>
        public static NftRuleset Parse(string text, string warnings = null)
        {
            var rs = new NftRuleset();
            var managed = new HashSet<string>();
            foreach (Match m in ManagedRe.Matches((warnings ?? "") + "\n" + (text ?? "")))
                managed.Add(m.Groups[1].Value + " " + m.Groups[2].Value);

            var lines = (text ?? "").Replace("\r", "").Split('\n');
            NftTable table = null;
            FwChain chain = null;
            int skipDepth = 0;
            var pending = new StringBuilder();
            string handle = null;
            foreach (var raw in lines)
            {
                var trimmed = raw.Trim();
                var hm = HandleRe.Match(trimmed);
                var line = hm.Success ? trimmed.Substring(0, hm.Index) : trimmed;
                if (line.Length == 0 || line.StartsWith("#", StringComparison.Ordinal)) continue;
                if (skipDepth > 0)
                {
                    skipDepth += BraceBalance(line);
                    continue;
                }
                if (table == null)
                {
                    var tm = TableRe.Match(line);
                    if (tm.Success)
                    {
                        table = new NftTable { Family = tm.Groups[1].Value, Name = Unquote(tm.Groups[2].Value) };
                        rs.Tables.Add(table);
                    }
                    continue;
                }
                if (chain == null)
                {
                    if (line == "}") { table = null; continue; }
                    if (line.StartsWith("flags", StringComparison.Ordinal) && line.Contains("dormant")) { table.Dormant = true; continue; }
                    var cm = ChainRe.Match(line);
                    if (cm.Success)
                    {
                        chain = new FwChain { Name = Unquote(cm.Groups[1].Value), Table = table.Family + " " + table.Name, Family = table.Family, Source = "nft" };
                        table.Chains.Add(chain);
                        continue;
                    }
                    if (BlockRe.IsMatch(line) || line.EndsWith("{", StringComparison.Ordinal))
                    {
                        skipDepth = BraceBalance(line);
                    }
                    continue;
                }
                // Inside a chain.
                if (pending.Length == 0 && line == "}") { chain = null; continue; }
                if (pending.Length > 0) pending.Append(' ');
                pending.Append(line);
                if (hm.Success) handle = hm.Groups[1].Value;
                var full = pending.ToString();
                if (BraceBalance(full) > 0) continue; // an anonymous set wrapped over several lines
                pending.Clear();
                var ruleHandle = handle;
                handle = null;
                if (full.StartsWith("type ", StringComparison.Ordinal))
                {
                    var t = TypeRe.Match(full);
                    if (t.Success)
                    {
                        chain.Type = t.Groups[1].Value;
                        chain.Hook = t.Groups[2].Value;
                        if (t.Groups[3].Success) chain.Device = string.Join(",", SplitValues(t.Groups[3].Value));
                        chain.Priority = ParsePriority(t.Groups[4].Value.Trim(), chain.Hook);
                    }
                    var pm = PolicyRe.Match(full);
                    chain.Policy = pm.Success ? pm.Groups[1].Value : (chain.Hook != null ? "accept" : null);
                    continue;
                }
                if (full.StartsWith("policy ", StringComparison.Ordinal))
                {
                    var pm = PolicyRe.Match(full);
                    if (pm.Success) chain.Policy = pm.Groups[1].Value;
                    continue;
                }
                if (full.StartsWith("comment ", StringComparison.Ordinal) || full.StartsWith("devices ", StringComparison.Ordinal)) continue;
                var rule = ParseRule(full);
                rule.Handle = ruleHandle;
                rule.Chain = chain;
                chain.Rules.Add(rule);
            }

            foreach (var t in rs.Tables)
            {
                bool looksLikeXtables = (t.Family == "ip" || t.Family == "ip6") && XtablesTables.Contains(t.Name)
                    && t.Chains.Where(c => c.IsBase).All(c => XtablesChains.Contains(c.Name)) && t.Chains.Any(c => c.IsBase);
                t.ManagedByIptables = managed.Contains(t.Family + " " + t.Name) || looksLikeXtables;
                // Resolve jump and goto targets inside the table.
                var byName = t.Chains.GroupBy(c => c.Name).ToDictionary(g => g.Key, g => g.First());
                foreach (var c in t.Chains)
                    foreach (var r in c.Rules)
                        if ((r.Action == RuleAction.Jump || r.Action == RuleAction.Goto) && r.Target != null && byName.TryGetValue(r.Target, out var target))
                            r.TargetChain = target;
            }
            return rs;
        }

        private static int BraceBalance(string s)
        {
            int depth = 0;
            bool quoted = false;
            foreach (var ch in s)
            {
                if (ch == '"') quoted = !quoted;
                else if (!quoted && ch == '{') depth++;
                else if (!quoted && ch == '}') depth--;
            }
            return depth;
        }

        public static int ParsePriority(string text, string hook)
        {
            // "filter", "filter + 10", "mangle - 5", "-150", "dstnat".
            var m = Regex.Match(text, @"^(-?\w+)\s*(?:([+-])\s*(\d+))?$");
            if (!m.Success) return 0;
            int baseValue;
            var name = m.Groups[1].Value;
            if (!int.TryParse(name, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out baseValue))
            {
                switch (name)
                {
                    case "raw": baseValue = -300; break;
                    case "mangle": baseValue = -150; break;
                    case "dstnat": baseValue = -100; break;
                    case "filter": baseValue = 0; break;
                    case "security": baseValue = 50; break;
                    case "srcnat": baseValue = 100; break;
                    default: baseValue = 0; break;
                }
            }
            if (m.Groups[2].Success)
            {
                int off = int.Parse(m.Groups[3].Value, CultureInfo.InvariantCulture);
                baseValue += m.Groups[2].Value == "-" ? -off : off;
            }
            return baseValue;
        }

        private static string Unquote(string s) => s.Length >= 2 && s[0] == '"' && s[s.Length - 1] == '"' ? s.Substring(1, s.Length - 2) : s;

        /// <summary>Splits a rule into tokens: quoted strings and { ... } sets stay whole.</summary>
        public static List<string> Tokenize(string rule)
        {
            var tokens = new List<string>();
            int i = 0;
            while (i < rule.Length)
            {
                if (char.IsWhiteSpace(rule[i])) { i++; continue; }
                int start = i;
                if (rule[i] == '"')
                {
                    i++;
                    while (i < rule.Length && rule[i] != '"') i++;
                    i = Math.Min(i + 1, rule.Length);
                }
                else if (rule[i] == '{')
                {
                    int depth = 0;
                    bool quoted = false;
                    for (; i < rule.Length; i++)
                    {
                        var ch = rule[i];
                        if (ch == '"') quoted = !quoted;
                        else if (!quoted && ch == '{') depth++;
                        else if (!quoted && ch == '}') { depth--; if (depth == 0) { i++; break; } }
                    }
                }
                else
                {
                    bool quoted = false;
                    while (i < rule.Length && (quoted || !char.IsWhiteSpace(rule[i])))
                    {
                        if (rule[i] == '"') quoted = !quoted;
                        i++;
                    }
                }
                tokens.Add(rule.Substring(start, i - start));
            }
            return tokens;
        }

        /// <summary>"{ 51820, 51821 }", "established,related", "\"wg0\"" → the single values, unquoted.</summary>
        public static List<string> SplitValues(string token)
        {
            var t = token.Trim();
            if (t.StartsWith("{", StringComparison.Ordinal)) t = t.Substring(1, t.Length - 2);
            return t.Split(',').Select(v => Unquote(v.Trim())).Where(v => v.Length > 0).ToList();
        }

        /// <summary>Port values: 51820, 51000-52000, sets of both. Null when a value is not a number (named set, service name).</summary>
        public static List<PortRange> ParsePorts(string token)
        {
            var result = new List<PortRange>();
            foreach (var v in SplitValues(token))
            {
                var parts = v.Split('-');
                if (parts.Length == 1 && int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var p)) result.Add(new PortRange(p, p));
                else if (parts.Length == 2 && int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var a)
                         && int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var b)) result.Add(new PortRange(a, b));
                else return null;
            }
            return result;
        }

        private static readonly HashSet<string> Relations = new HashSet<string> { "==", "!=", "<", ">", "<=", ">=", "eq", "ne", "lt", "gt", "le", "ge" };
        private static readonly HashSet<string> LogOptions = new HashSet<string> { "prefix", "level", "flags", "group", "snaplen", "queue-threshold" };
        /// <summary>The ip/ip6 header fields that tie an inet rule to one family.</summary>
        private static readonly string[] FamilyFields = { "saddr", "daddr", "version", "nexthdr", "protocol" };
        private static readonly HashSet<string> L4Keywords = new HashSet<string> { "udp", "tcp", "th", "sctp", "udplite", "dccp" };

        public static FwRule ParseRule(string text)
        {
            var rule = new FwRule { Text = text, Action = RuleAction.None };
            var conds = new List<Func<Probe, Tri>>();
            var t = Tokenize(text);
            int i = 0;
            string Peek(int k) => i + k < t.Count ? t[i + k] : null;

            // Reads "[relation] value" at position i; returns the value and whether it is negated; a range relation becomes a port range.
            string ReadValue(out string relation)
            {
                relation = "==";
                if (i < t.Count && Relations.Contains(t[i])) relation = t[i++];
                return i < t.Count ? t[i++] : "";
            }
            Tri Apply(string relation, Tri eq) => Negated(relation) ? eq.Not() : eq;
            // The structured facts stop at the verdict: what follows it (NAT options, a comment) matches nothing.
            bool final = false;
            void Other() { if (!final) rule.HasOtherMatches = true; }
            void Verdict(string v) { if (!final) { rule.Verdict = v; final = true; } }

            while (i < t.Count)
            {
                var tok = t[i];
                switch (tok)
                {
                    case "counter":
                        i++;
                        if (Peek(0) == "packets") i += 4;
                        else if (Peek(0) == "name") i += 2;
                        continue;
                    case "comment":
                        i += 2;
                        continue;
                    case "log":
                        i++;
                        while (i < t.Count && LogOptions.Contains(t[i])) i += t[i] == "flags" && Peek(1) == "tcp" ? 3 : 2;
                        continue;
                    case "limit":
                        conds.Add(_ => Tri.Maybe);
                        Other();
                        i++;
                        while (i < t.Count && (t[i] == "rate" || t[i] == "over")) i++;
                        i++; // the rate
                        if (Peek(0) == "burst") i += 3;
                        continue;
                    case "accept": rule.Action = RuleAction.Accept; Verdict(tok); i++; continue;
                    case "drop": rule.Action = RuleAction.Drop; Verdict(tok); i++; continue;
                    case "reject":
                        rule.Action = RuleAction.Reject;
                        Verdict("drop");
                        i++;
                        if (Peek(0) == "with") { while (i < t.Count && t[i] != "comment") i++; }
                        continue;
                    case "return": rule.Action = RuleAction.Return; Verdict(tok); i++; continue;
                    case "continue": Other(); i++; continue;
                    case "jump":
                    case "goto":
                        rule.Action = tok == "jump" ? RuleAction.Jump : RuleAction.Goto;
                        rule.Target = Peek(1) != null ? Unquote(Peek(1)) : null;
                        Verdict(tok + " " + rule.Target);
                        i += 2;
                        continue;
                    case "queue":
                        rule.Action = RuleAction.Unknown;
                        Other();
                        while (i < t.Count && t[i] != "comment") i++;
                        continue;
                    case "ct":
                    {
                        var field = Peek(1);
                        if (Peek(2) == "set") { Other(); i += 4; continue; }
                        i += 2;
                        var v = ReadValue(out var rel);
                        if (field == "state")
                        {
                            var states = SplitValues(v);
                            conds.Add(p => Apply(rel, TriExtensions.From(states.Contains(p.CtState))));
                            if (!final) rule.CtState = states.ToArray();
                        }
                        else { conds.Add(_ => Tri.Maybe); Other(); }
                        continue;
                    }
                    case "meta":
                    {
                        var field = Peek(1);
                        if (Peek(2) == "set") { Other(); i += 4; continue; }
                        i += 2;
                        var v = ReadValue(out var rel);
                        AddMetaCondition(field, conds, v, rel, Apply);
                        if (field == "nfproto" && !Negated(rel) && (v == "ipv4" || v == "ipv6")) rule.MatchFamily = rule.MatchFamily ?? v;
                        if (field != "nfproto" && !final && !InterfaceFact(rule, field, v, rel)) Other();
                        continue;
                    }
                    case "iifname":
                    case "oifname":
                    case "iif":
                    case "oif":
                    {
                        i++;
                        var v = ReadValue(out var rel);
                        AddMetaCondition(tok, conds, v, rel, Apply);
                        if (!final) InterfaceFact(rule, tok, v, rel);
                        continue;
                    }
                    case "ip":
                    case "ip6":
                    {
                        bool v6 = tok == "ip6";
                        conds.Add(p => TriExtensions.From(p.IsIPv6 == v6));
                        var field = Peek(1);
                        if (Array.IndexOf(FamilyFields, field) >= 0) rule.MatchFamily = rule.MatchFamily ?? (v6 ? "ipv6" : "ipv4");
                        i += 2;
                        var v = ReadValue(out var rel);
                        if (field == "protocol" || field == "nexthdr")
                        {
                            var protos = SplitValues(v);
                            conds.Add(p => Apply(rel, p.MatchProtocol(protos)));
                        }
                        else if ((field == "saddr" || field == "daddr") && (v == "0.0.0.0/0" || v == "::/0")) conds.Add(_ => Apply(rel, Tri.True));
                        else conds.Add(_ => Tri.Maybe);
                        if (field != "saddr") Other();
                        else if (!final) { rule.Saddr = SplitValues(v).ToArray(); rule.SaddrNegated = Negated(rel); }
                        continue;
                    }
                    case "icmp":
                    case "icmpv6":
                    {
                        var proto = tok == "icmp" ? "icmp" : "icmpv6";
                        conds.Add(p => p.MatchProtocol(new[] { proto }));
                        Other();
                        i += 2;
                        ReadValue(out _);
                        continue;
                    }
                    case "fib":
                    {
                        i++;
                        while (i < t.Count && t[i] != "oif" && t[i] != "oifname" && t[i] != "type") i++;
                        var result = Peek(0);
                        i++;
                        var v = ReadValue(out var rel);
                        var values = SplitValues(v);
                        Tri eq;
                        if ((result == "oif" || result == "oifname") && values.SequenceEqual(new[] { "missing" })) eq = Tri.False; // reverse path is fine
                        else if (result == "type" && values.Contains("local")) eq = Tri.True;
                        else if (result == "type" && values.All(x => x == "broadcast" || x == "multicast" || x == "anycast")) eq = Tri.False;
                        else eq = Tri.Maybe;
                        conds.Add(_ => Apply(rel, eq));
                        Other();
                        continue;
                    }
                    default:
                        if (tok == "tcp" && Peek(1) == "option" && Peek(2) == "maxseg" && Peek(3) == "size")
                        {
                            // `tcp option maxseg size set rt mtu|N` rewrites the MSS (a statement); any other relation tests it.
                            Other();
                            conds.Add(p => p.MatchProtocol(new[] { "tcp" }));
                            i += 4;
                            if (Peek(0) == "set")
                            {
                                if (Peek(1) == "rt" && Peek(2) == "mtu") { rule.SetsMss = rule.MssToPathMtu = true; i += 3; }
                                else if (int.TryParse(Peek(1), NumberStyles.None, CultureInfo.InvariantCulture, out var mss)) { rule.SetsMss = true; rule.MssValue = mss; i += 2; }
                                else i++;
                                continue;
                            }
                            ReadValue(out _);
                            conds.Add(_ => Tri.Maybe);
                            continue;
                        }
                        if (L4Keywords.Contains(tok))
                        {
                            Other();
                            var field = Peek(1);
                            i += 2;
                            if (tok == "tcp" && field == "flags")
                            {
                                // "syn", "syn / syn,rst", "& (syn|rst) == syn", "{ syn, syn|ack }": kept as written.
                                int start = i;
                                if (Peek(0) == "&") i += 2;
                                ReadValue(out _);
                                if (Peek(0) == "/") i += 2;
                                if (!final) rule.TcpFlags = string.Join(" ", t.Skip(start).Take(Math.Min(i, t.Count) - start));
                                conds.Add(p => p.MatchProtocol(new[] { "tcp" }));
                                conds.Add(_ => Tri.Maybe);
                                continue;
                            }
                            var v = ReadValue(out var rel);
                            if (tok != "th") conds.Add(p => p.MatchProtocol(new[] { tok }));
                            else conds.Add(p => p.Protocol == null ? Tri.Maybe : TriExtensions.From(p.Protocol == "udp" || p.Protocol == "tcp"));
                            if (field == "dport")
                            {
                                rule.TestsPort = true;
                                var ports = ParsePorts(v);
                                var range = RelationRange(rel, ports);
                                if (range != null) conds.Add(p => p.MatchPort(range));
                                else if (ports == null) conds.Add(_ => Tri.Maybe);
                                else conds.Add(p => Apply(rel, p.MatchPort(ports)));
                            }
                            else if (field == "sport")
                            {
                                var ports = ParsePorts(v);
                                var range = RelationRange(rel, ports);
                                if (range != null) conds.Add(p => p.MatchSourcePort(range));
                                else if (ports == null) conds.Add(_ => Tri.Maybe);
                                else conds.Add(p => Apply(rel, p.MatchSourcePort(ports)));
                            }
                            else conds.Add(_ => Tri.Maybe);
                            continue;
                        }
                        if (tok == "masquerade" || tok == "notrack" || tok == "snat" || tok == "dnat" || tok == "redirect")
                        {
                            // Statements of other chain types; nothing to match here.
                            if (tok == "notrack") Other(); else Verdict(tok);
                            while (i < t.Count && t[i] != "comment") i++;
                            continue;
                        }
                        // Not understood (named sets, socket, rt, xt compat ...): never assume it matches.
                        conds.Add(_ => Tri.Maybe);
                        Other();
                        i++;
                        continue;
                }
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

        private static bool Negated(string rel) => rel == "!=" || rel == "ne";

        /// <summary>Records an iifname/oifname (iif/oif) match in the rule's facts; false for any other field.</summary>
        private static bool InterfaceFact(FwRule rule, string field, string value, string rel)
        {
            var name = Unquote(value);
            switch (field)
            {
                case "iifname": case "iif": rule.Iif = name; rule.IifNegated = Negated(rel); return true;
                case "oifname": case "oif": rule.Oif = name; rule.OifNegated = Negated(rel); return true;
                default: return false;
            }
        }

        /// <summary>"&lt; 1024" and friends as a port range; null for equality and inequality.</summary>
        private static List<PortRange> RelationRange(string rel, List<PortRange> ports)
        {
            if (ports == null || ports.Count != 1) return null;
            var p = ports[0];
            switch (rel)
            {
                case "<": case "lt": return new List<PortRange> { new PortRange(0, p.From - 1) };
                case "<=": case "le": return new List<PortRange> { new PortRange(0, p.To) };
                case ">": case "gt": return new List<PortRange> { new PortRange(p.To + 1, 65535) };
                case ">=": case "ge": return new List<PortRange> { new PortRange(p.From, 65535) };
                default: return null;
            }
        }

        private static void AddMetaCondition(string field, List<Func<Probe, Tri>> conds, string value, string rel, Func<string, Tri, Tri> apply)
        {
            var values = SplitValues(value);
            switch (field)
            {
                case "iifname":
                case "iif":
                    if (values.Any(v => v.StartsWith("@", StringComparison.Ordinal))) { conds.Add(_ => Tri.Maybe); return; }
                    conds.Add(p => apply(rel, p.MatchInterface(values, false)));
                    return;
                case "oifname":
                case "oif":
                    if (values.Any(v => v.StartsWith("@", StringComparison.Ordinal))) { conds.Add(_ => Tri.Maybe); return; }
                    conds.Add(p => apply(rel, p.HasOutInterface ? p.MatchInterface(values, true) : Tri.False));
                    return;
                case "l4proto":
                case "protocol" when values.All(v => v != "ip" && v != "ip6"):
                    conds.Add(p => apply(rel, p.MatchProtocol(values)));
                    return;
                case "nfproto":
                    conds.Add(p => apply(rel, TriExtensions.From(values.Contains(p.IsIPv6 ? "ipv6" : "ipv4"))));
                    return;
                case "pkttype":
                    conds.Add(_ => apply(rel, TriExtensions.From(values.Contains("host"))));
                    return;
                default:
                    conds.Add(_ => Tri.Maybe);
                    return;
            }
        }
    }
}
