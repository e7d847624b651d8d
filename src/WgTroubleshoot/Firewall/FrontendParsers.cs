using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text.RegularExpressions;

namespace WgTroubleshoot.Firewall
{
    /// <summary>`ufw status verbose`, as a chain: the user rules in order, the default incoming policy at the end.</summary>
    public sealed class UfwStatus
    {
        public bool Active { get; set; }
        /// <summary>deny, reject or allow.</summary>
        public string DefaultIncoming { get; set; }
        /// <summary>deny, reject, allow or disabled.</summary>
        public string DefaultRouted { get; set; }
        /// <summary>The rule lines as ufw prints them.</summary>
        public List<string> RuleLines { get; } = new List<string>();
        public FwChain Input { get; set; }
        public FwChain Forward { get; set; }
    }

    /// <summary>One firewalld zone as `firewall-cmd --list-all --zone=Z` prints it.</summary>
    public sealed class FirewalldZone
    {
        public string Name { get; set; }
        public string Target { get; set; }
        public List<string> Interfaces { get; } = new List<string>();
        public List<string> Sources { get; } = new List<string>();
        public List<string> Services { get; } = new List<string>();
        public List<string> Ports { get; } = new List<string>();
        public List<string> RichRules { get; } = new List<string>();
        public bool Forward { get; set; }
        public bool Masquerade { get; set; }

        /// <summary>The zone as a chain: rich rules, then ports and services, then the target.</summary>
        public FwChain ToChain(IDictionary<string, string[]> servicePorts)
        {
            var chain = new FwChain { Name = Name, Table = "firewalld zone", Family = "inet", Hook = "input" };
            // target "default" rejects (after allowing ICMP); %%REJECT%% rejects; DROP drops; ACCEPT accepts.
            switch ((Target ?? "default").ToUpperInvariant())
            {
                case "ACCEPT": chain.Policy = "accept"; break;
                case "DROP": chain.Policy = "drop"; break;
                default: chain.Policy = "reject"; break;
            }
            chain.PolicyText = $"target {Target ?? "default"} of zone {Name}";
            var sourceBound = Sources.Count > 0;
            foreach (var rr in RichRules) chain.Rules.Add(FirewalldParser.RichRule(rr));
            foreach (var port in Ports)
            {
                var r = FirewalldParser.PortRule(port, "port " + port + " in zone " + Name);
                if (r != null) chain.Rules.Add(r);
            }
            foreach (var svc in Services)
            {
                if (servicePorts != null && servicePorts.TryGetValue(svc, out var ports))
                {
                    foreach (var p in ports)
                    {
                        var r = FirewalldParser.PortRule(p, $"service {svc} ({p}) in zone {Name}");
                        if (r != null) chain.Rules.Add(r);
                    }
                }
                else chain.Rules.Add(new FwRule { Text = $"service {svc} in zone {Name} (ports unknown)", Action = RuleAction.Accept, Match = _ => Tri.Maybe });
            }
            if (sourceBound)
            {
                // A zone bound to sources applies only to packets from them.
                foreach (var r in chain.Rules) { var inner = r.Match; r.Match = p => inner(p).And(Tri.Maybe); }
            }
            return chain;
        }
    }

    public static class UfwParser
    {
        private static readonly Regex DefaultRe = new Regex(@"^Default:\s*(\w+)\s*\(incoming\)(?:,\s*(\w+)\s*\(outgoing\))?(?:,\s*(\w+)\s*\(routed\))?", RegexOptions.Compiled);

        public static UfwStatus Parse(string text)
        {
            var st = new UfwStatus();
            bool inTable = false;
            var input = new FwChain { Name = "ufw", Table = "ufw", Family = "inet", Hook = "input" };
            var forward = new FwChain { Name = "ufw-route", Table = "ufw", Family = "inet", Hook = "forward" };
            foreach (var raw in (text ?? "").Replace("\r", "").Split('\n'))
            {
                var line = raw.TrimEnd();
                if (line.StartsWith("Status:", StringComparison.Ordinal)) { st.Active = line.IndexOf("inactive", StringComparison.Ordinal) < 0 && line.IndexOf("active", StringComparison.Ordinal) >= 0; continue; }
                var dm = DefaultRe.Match(line);
                if (dm.Success)
                {
                    st.DefaultIncoming = dm.Groups[1].Value;
                    st.DefaultRouted = dm.Groups[3].Success ? dm.Groups[3].Value : null;
                    continue;
                }
                if (line.StartsWith("--", StringComparison.Ordinal)) { inTable = true; continue; }
                if (!inTable || line.Trim().Length == 0) continue;
                var cols = Regex.Split(line.Trim(), @"\s{2,}");
                if (cols.Length < 3) continue;
                // A comment ("# text") may follow the From column.
                var to = cols[0];
                var action = cols[1];
                var from = cols[2];
                st.RuleLines.Add(line.Trim());
                var rule = BuildRule(to, action, from, line.Trim(), out bool isForward);
                if (rule == null) continue;
                (isForward ? forward : input).Rules.Add(rule);
            }
            input.Policy = PolicyOf(st.DefaultIncoming);
            input.PolicyText = $"ufw default {st.DefaultIncoming ?? "deny"} (incoming)";
            forward.Policy = st.DefaultRouted == "disabled" || st.DefaultRouted == null ? "accept" : PolicyOf(st.DefaultRouted);
            forward.PolicyText = st.DefaultRouted == "disabled" || st.DefaultRouted == null
                ? "ufw routing disabled (forwarding is left to the FORWARD chain policy)"
                : $"ufw default {st.DefaultRouted} (routed)";
            st.Input = input;
            st.Forward = forward;
            return st;
        }

        private static string PolicyOf(string ufwPolicy)
        {
            switch (ufwPolicy)
            {
                case "allow": return "accept";
                case "reject": return "reject";
                default: return "drop";
            }
        }

        private static FwRule BuildRule(string to, string action, string from, string text, out bool isForward)
        {
            isForward = false;
            var actParts = action.Split(' ');
            var verb = actParts[0];
            var dir = actParts.Length > 1 ? actParts[1] : "IN";
            if (dir == "OUT") return null;
            isForward = dir == "FWD";
            bool v6 = to.Contains("(v6)") || from.Contains("(v6)");
            var conds = new List<Func<Probe, Tri>> { p => TriExtensions.From(p.IsIPv6 == v6) };

            var toClean = to.Replace("(v6)", "").Trim();
            var fromClean = from.Replace("(v6)", "").Trim();
            // "X on IFACE": the interface is on the To side for IN rules, on either side for FWD rules.
            string inIface = null, outIface = null;
            var onTo = Regex.Match(toClean, @"^(.*?)\s*on\s+(\S+)$");
            if (onTo.Success) { toClean = onTo.Groups[1].Value.Trim(); if (isForward) outIface = onTo.Groups[2].Value; else inIface = onTo.Groups[2].Value; }
            var onFrom = Regex.Match(fromClean, @"^(.*?)\s*on\s+(\S+)$");
            if (onFrom.Success) { fromClean = onFrom.Groups[1].Value.Trim(); inIface = onFrom.Groups[2].Value; }
            if (inIface != null) { var n = inIface; conds.Add(p => p.MatchInterface(new[] { n }, false)); }
            if (outIface != null) { var n = outIface; conds.Add(p => p.MatchInterface(new[] { n }, true)); }
            if (fromClean.Length > 0 && fromClean != "Anywhere") conds.Add(_ => Tri.Maybe);

            bool testsPort = false;
            // To: "Anywhere", "51820/udp", "51820", "51000:52000/udp", "22,51820/udp", "198.51.100.1 51820/udp", "OpenSSH".
            var toTokens = toClean.Split(new[] { ' ' }, StringSplitOptions.RemoveEmptyEntries).ToList();
            if (toTokens.Count > 0 && toTokens[0] != "Anywhere" && (toTokens.Count > 1 || Regex.IsMatch(toTokens[0], @"^[0-9a-fA-F:.]+(/\d+)?$") && toTokens[0].Contains(".")))
            {
                conds.Add(_ => Tri.Maybe); // a destination address
                toTokens.RemoveAt(0);
            }
            else if (toTokens.Count > 0 && toTokens[0] == "Anywhere") toTokens.RemoveAt(0);
            if (toTokens.Count > 0)
            {
                var spec = toTokens[0];
                var m = Regex.Match(spec, @"^([0-9:,]+)(?:/(\w+))?$");
                if (m.Success)
                {
                    testsPort = true;
                    var ports = IptablesParser.ParsePorts(m.Groups[1].Value);
                    var proto = m.Groups[2].Success ? m.Groups[2].Value : null;
                    if (proto != null) conds.Add(p => p.MatchProtocol(new[] { proto }));
                    else conds.Add(p => p.MatchProtocol(new[] { "tcp", "udp" }));
                    if (ports == null) conds.Add(_ => Tri.Maybe); else conds.Add(p => p.MatchPort(ports));
                }
                else conds.Add(_ => Tri.Maybe); // an application profile
            }

            RuleAction act;
            switch (verb)
            {
                case "ALLOW": act = RuleAction.Accept; break;
                case "LIMIT": act = RuleAction.Accept; conds.Add(_ => Tri.Maybe); break;
                case "DENY": act = RuleAction.Drop; break;
                case "REJECT": act = RuleAction.Reject; break;
                default: act = RuleAction.Unknown; break;
            }
            var all = conds.ToArray();
            return new FwRule
            {
                Text = text, Action = act, TestsPort = testsPort,
                Match = p => all.Aggregate(Tri.True, (acc, c) => acc == Tri.False ? acc : acc.And(c(p))),
            };
        }
    }

    public static class FirewalldParser
    {
        /// <summary>Ports of the services firewalld ships that matter here; others are asked with --info-service.</summary>
        public static readonly IReadOnlyDictionary<string, string[]> KnownServices = new Dictionary<string, string[]>
        {
            ["wireguard"] = new[] { "51820/udp" },
            ["ssh"] = new[] { "22/tcp" },
            ["dhcpv6-client"] = new[] { "546/udp" },
            ["cockpit"] = new[] { "9090/tcp" },
            ["mdns"] = new[] { "5353/udp" },
            ["samba-client"] = new[] { "137/udp", "138/udp" },
            ["http"] = new[] { "80/tcp" },
            ["https"] = new[] { "443/tcp" },
        };

        /// <summary>`firewall-cmd --get-active-zones`: zone → interfaces.</summary>
        public static Dictionary<string, List<string>> ParseActiveZones(string text)
        {
            var result = new Dictionary<string, List<string>>(StringComparer.Ordinal);
            List<string> current = null;
            foreach (var raw in (text ?? "").Replace("\r", "").Split('\n'))
            {
                if (raw.Trim().Length == 0) continue;
                if (!char.IsWhiteSpace(raw[0]))
                {
                    result[raw.Trim()] = current = new List<string>();
                    continue;
                }
                var line = raw.Trim();
                if (current != null && line.StartsWith("interfaces:", StringComparison.Ordinal))
                    current.AddRange(line.Substring("interfaces:".Length).Split(new[] { ' ' }, StringSplitOptions.RemoveEmptyEntries));
            }
            return result;
        }

        /// <summary>`firewall-cmd --list-all [--zone=Z]`.</summary>
        public static FirewalldZone ParseZone(string text)
        {
            var zone = new FirewalldZone();
            bool inRich = false;
            foreach (var raw in (text ?? "").Replace("\r", "").Split('\n'))
            {
                if (raw.Trim().Length == 0) continue;
                if (!char.IsWhiteSpace(raw[0]))
                {
                    zone.Name = raw.Trim().Split(' ')[0];
                    continue;
                }
                var line = raw.Trim();
                if (inRich && raw.StartsWith("\t", StringComparison.Ordinal) || inRich && line.StartsWith("rule ", StringComparison.Ordinal))
                {
                    zone.RichRules.Add(line);
                    continue;
                }
                int colon = line.IndexOf(':');
                if (colon < 0) continue;
                var key = line.Substring(0, colon);
                var value = line.Substring(colon + 1).Trim();
                var items = value.Split(new[] { ' ' }, StringSplitOptions.RemoveEmptyEntries);
                inRich = false;
                switch (key)
                {
                    case "target": zone.Target = value; break;
                    case "interfaces": zone.Interfaces.AddRange(items); break;
                    case "sources": zone.Sources.AddRange(items); break;
                    case "services": zone.Services.AddRange(items); break;
                    case "ports": zone.Ports.AddRange(items); break;
                    case "forward": zone.Forward = value == "yes"; break;
                    case "masquerade": zone.Masquerade = value == "yes"; break;
                    case "rich rules":
                        inRich = true;
                        if (value.Length > 0) zone.RichRules.Add(value);
                        break;
                }
            }
            return zone;
        }

        /// <summary>`firewall-cmd --info-service=S`: its ports line.</summary>
        public static string[] ParseServicePorts(string text)
        {
            foreach (var raw in (text ?? "").Split('\n'))
            {
                var line = raw.Trim();
                if (line.StartsWith("ports:", StringComparison.Ordinal))
                    return line.Substring(6).Split(new[] { ' ' }, StringSplitOptions.RemoveEmptyEntries);
            }
            return new string[0];
        }

        /// <summary>"51820/udp" or "60000-61000/udp" as an accept rule.</summary>
        public static FwRule PortRule(string spec, string text)
        {
            var m = Regex.Match(spec, @"^(\d+)(?:-(\d+))?/(\w+)$");
            if (!m.Success) return null;
            int a = int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
            int b = m.Groups[2].Success ? int.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture) : a;
            var proto = m.Groups[3].Value;
            var range = new[] { new PortRange(a, b) };
            return new FwRule
            {
                Text = text, Action = RuleAction.Accept, TestsPort = true,
                Match = p => p.MatchProtocol(new[] { proto }).And(p.MatchPort(range)),
            };
        }

        /// <summary>A rich rule: family, source, port/service, and accept/drop/reject.</summary>
        public static FwRule RichRule(string text)
        {
            var conds = new List<Func<Probe, Tri>>();
            string Attr(string element, string name)
            {
                var m = Regex.Match(text, element + @"\s+(?:[^=\s]+=""[^""]*""\s+)*?" + name + @"=""([^""]*)""");
                return m.Success ? m.Groups[1].Value : null;
            }
            var family = Regex.Match(text, @"^rule\s+family=""(ipv4|ipv6)""");
            if (family.Success) { var v6 = family.Groups[1].Value == "ipv6"; conds.Add(p => TriExtensions.From(p.IsIPv6 == v6)); }
            if (Regex.IsMatch(text, @"\bsource\s")) conds.Add(_ => Tri.Maybe);
            if (Regex.IsMatch(text, @"\bdestination\s")) conds.Add(_ => Tri.Maybe);
            bool testsPort = false;
            var port = Attr("port", "port");
            var proto = Attr("port", "protocol");
            if (port != null && proto != null)
            {
                testsPort = true;
                var r = PortRule(port.Replace('-', '-') + "/" + proto, text);
                if (r != null) conds.Add(r.Match); else conds.Add(_ => Tri.Maybe);
            }
            var service = Attr("service", "name");
            if (service != null)
            {
                if (KnownServices.TryGetValue(service, out var sp)) { testsPort = true; var rules = sp.Select(s => PortRule(s, text)).ToList(); conds.Add(p => rules.Select(x => x.Match(p)).Max()); }
                else conds.Add(_ => Tri.Maybe);
            }
            if (port == null && service == null && Regex.IsMatch(text, @"\b(protocol|icmp-block|icmp-type|forward-port|source-port)\b")) conds.Add(_ => Tri.Maybe);
            RuleAction act = Regex.IsMatch(text, @"\baccept\b") ? RuleAction.Accept
                : Regex.IsMatch(text, @"\breject\b") ? RuleAction.Reject
                : Regex.IsMatch(text, @"\bdrop\b") ? RuleAction.Drop : RuleAction.None;
            var all = conds.ToArray();
            return new FwRule
            {
                Text = "rich rule: " + text, Action = act, TestsPort = testsPort,
                Match = p => all.Aggregate(Tri.True, (acc, c) => acc == Tri.False ? acc : acc.And(c(p))),
            };
        }
    }
}
