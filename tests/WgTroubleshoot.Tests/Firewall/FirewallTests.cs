using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using WgTroubleshoot.Firewall;
using WgTroubleshoot.Native;
using Xunit;

namespace WgTroubleshoot.Tests.Firewall
{
    public class FirewallTests
    {
        private static readonly string[] Eth0 = { "eth0" };

        private static string Corpus(string name) => File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Corpus", "Firewall", name));

        private static FirewallStatus Nft(string text, int port = 51820, string iface = "wg0", string stderr = null)
        {
            var rs = NftParser.Parse(text, stderr);
            var snap = new BackendSnapshot { Name = "nftables", Tool = "nft", Nft = rs, Active = true };
            return FirewallEvaluator.Evaluate(snap, new FirewallQuery { Port = port, Interface = iface, Underlay = Eth0 });
        }

        private static FirewallStatus Ipt(string text, bool v6 = false, int port = 51820, string name = "iptables-nft")
        {
            var snap = new BackendSnapshot { Name = name, Tool = name, Iptables = IptablesParser.Parse(text, v6), Active = true };
            return FirewallEvaluator.Evaluate(snap, new FirewallQuery { Port = port, Interface = "wg0", Underlay = Eth0 });
        }

        private static FirewallStatus Ufw(string text, int port = 51820)
            => FirewallEvaluator.Evaluate(new BackendSnapshot { Name = "ufw", Ufw = UfwParser.Parse(text), Active = true }, new FirewallQuery { Port = port, Interface = "wg0", Underlay = Eth0 });

        private static FirewallStatus Firewalld(string listAll, int port = 51820)
        {
            var zone = FirewalldParser.ParseZone(listAll);
            var snap = new BackendSnapshot
            {
                Name = "firewalld", Active = true, Zones = new List<FirewalldZone> { zone },
                ServicePorts = FirewalldParser.KnownServices.ToDictionary(k => k.Key, k => k.Value),
            };
            return FirewallEvaluator.Evaluate(snap, new FirewallQuery { Port = port, Interface = "wg0", Underlay = Eth0 });
        }

        private static string Table(string chainBody, string policy = "drop", string family = "inet")
            => $"table {family} filter {{\n\tchain input {{\n\t\ttype filter hook input priority filter; policy {policy};\n{chainBody}\n\t}}\n}}\n";

        // ---- recorded nft list ruleset ------------------------------------------------------------------

        [Fact]
        public void RecordedNftPolicyDropWithUdpAccept()
        {
            var s = Nft(Corpus("nft-policy-drop-accept-udp.txt"));
            Assert.Equal(FirewallVerdict.Allowed, s.Verdict);
            Assert.True(s.InboundAllowed);
            Assert.Equal("udp dport 51820 counter packets 0 bytes 0 accept comment \"wireguard\"", s.DecidingRule);
            Assert.Null(s.TcpOnlyRule);
            Assert.True(s.ForwardAllowed); // iifname wg0 accept; replies: oifname wg0 ct state established accept
        }

        [Fact]
        public void RecordedNftPolicyDropOnOtherPort()
        {
            var s = Nft(Corpus("nft-policy-drop-accept-udp.txt"), 51821);
            Assert.Equal(FirewallVerdict.Blocked, s.Verdict);
            Assert.Equal("policy drop of chain input (inet filter)", s.DecidingRule);
        }

        [Fact]
        public void RecordedNftTcpOnly()
        {
            var s = Nft(Corpus("nft-tcp-only.txt"));
            Assert.Equal(FirewallVerdict.Blocked, s.Verdict);
            Assert.False(s.InboundAllowed);
            Assert.Equal("policy drop of chain input (inet filter)", s.DecidingRule);
            Assert.Equal("tcp dport 51820 accept", s.TcpOnlyRule);
            Assert.True(s.ForwardAllowed); // no forward chain
        }

        [Fact]
        public void RecordedNftJumpToUserChainThatDrops()
        {
            var s = Nft(Corpus("nft-jump-drop.txt"));
            Assert.Equal(FirewallVerdict.Blocked, s.Verdict);
            Assert.Equal("udp dport 51820 counter packets 0 bytes 0 drop comment \"blocked on purpose\"", s.DecidingRule);
            Assert.Equal(FirewallVerdict.Allowed, Nft(Corpus("nft-jump-drop.txt"), 51821).Verdict);
        }

        [Fact]
        public void RecordedNftIifnameOfTheTunnelAndEstablishedDoNotApplyToTheUnderlay()
        {
            var s = Nft(Corpus("nft-iifname-wg-established.txt"));
            Assert.Equal(FirewallVerdict.Blocked, s.Verdict);
            Assert.Equal("policy drop of chain input (ip filter4)", s.DecidingRule);
            Assert.Null(s.TcpOnlyRule);
            // An ip table does not see IPv6.
            Assert.Contains(s.Notes, n => n.StartsWith("Over IPv6 the port is allowed"));
        }

        [Fact]
        public void RecordedNftRejectOfARange()
        {
            var s = Nft(Corpus("nft-reject-range.txt"));
            Assert.Equal(FirewallVerdict.Blocked, s.Verdict);
            Assert.Equal("udp dport 51000-51999 reject", s.DecidingRule);
            Assert.Equal(FirewallVerdict.Allowed, Nft(Corpus("nft-reject-range.txt"), 52000).Verdict);
        }

        [Fact]
        public void RecordedNftPortSetAcceptedButASecondBaseChainDrops()
        {
            var s = Nft(Corpus("nft-set-and-second-base-chain.txt"));
            Assert.Equal(FirewallVerdict.Blocked, s.Verdict);
            Assert.Equal("udp dport 51820 drop comment \"second base chain\"", s.DecidingRule);
            var other = Nft(Corpus("nft-set-and-second-base-chain.txt"), 51821);
            Assert.Equal(FirewallVerdict.Allowed, other.Verdict);
            Assert.Equal("udp dport { 51820, 51821 } accept", other.DecidingRule);
        }

        [Fact]
        public void RecordedNftTablesOfIptablesNftBelongToThatBackend()
        {
            var rs = NftParser.Parse(Corpus("nft-with-iptables-nft-tables.txt"), "# Warning: table ip filter is managed by iptables-nft, do not touch!\n");
            Assert.True(rs.Tables.Single().ManagedByIptables);
            Assert.Empty(rs.OwnTables);
            // Even without the warning (nft before 1.0.6), the xtables shape gives it away.
            Assert.True(NftParser.Parse(Corpus("nft-with-iptables-nft-tables.txt")).Tables.Single().ManagedByIptables);
        }

        // ---- recorded iptables-save, both flavours ------------------------------------------------------

        [Theory]
        [InlineData("iptables-legacy-tcp-only.txt")]
        [InlineData("iptables-nft-tcp-only.txt")]
        public void RecordedIptablesPolicyDropWithTcpOnlyMultiport(string file)
        {
            var s = Ipt(Corpus(file));
            Assert.Equal(FirewallVerdict.Blocked, s.Verdict);
            Assert.Equal("policy drop of chain INPUT (filter)", s.DecidingRule);
            Assert.Equal("-A INPUT -p tcp -m multiport --dports 51820,51821 -m comment --comment \"tcp only\" -j ACCEPT", s.TcpOnlyRule);
            Assert.True(s.ForwardAllowed); // -i wg0 accept; -o wg0 RELATED,ESTABLISHED accept
        }

        [Theory]
        [InlineData("ip6tables-legacy-udp-open.txt")]
        [InlineData("ip6tables-nft-udp-open.txt")]
        public void RecordedIp6tablesUdpOpen(string file)
        {
            var s = Ipt(Corpus(file), v6: true);
            Assert.Equal(FirewallVerdict.Allowed, s.Verdict);
            Assert.Equal("-A INPUT -p udp -m udp --dport 51820 -j ACCEPT", s.DecidingRule);
        }

        [Theory]
        [InlineData("iptables-legacy-user-chain-reject.txt")]
        [InlineData("iptables-nft-user-chain-reject.txt")]
        public void RecordedIptablesUserChainRejectWithSourceReturn(string file)
        {
            // Sources in 198.51.100.0/24 return before the reject and are accepted by the range rule: it depends on the source.
            var s = Ipt(Corpus(file));
            Assert.Equal(FirewallVerdict.Unknown, s.Verdict);
            Assert.Contains(s.Notes, n => n.Contains("-A WG-CHECKS -s 198.51.100.0/24 -j RETURN"));
            Assert.Equal("-A WG-CHECKS -p udp -m udp --dport 51820 -j REJECT --reject-with icmp-port-unreachable", s.DecidingRule);
            var other = Ipt(Corpus(file), port: 51821);
            Assert.Equal(FirewallVerdict.Allowed, other.Verdict);
            Assert.Equal("-A INPUT -p udp -m udp --dport 51000:52000 -j ACCEPT", other.DecidingRule);
        }

        [Fact]
        public void RecordedUfwIptablesRulesTcpOnly()
        {
            var s = Ipt(Corpus("ufw-iptables-nft-save-tcp-only.txt"));
            Assert.Equal(FirewallVerdict.Blocked, s.Verdict);
            Assert.Equal("policy drop of chain INPUT (filter)", s.DecidingRule);
            Assert.Equal("-A ufw-user-input -p tcp -m tcp --dport 51820 -j ACCEPT", s.TcpOnlyRule);
        }

        // ---- recorded ufw status verbose -----------------------------------------------------------------

        [Fact]
        public void RecordedUfwDefaultDenyWithoutRule()
        {
            var s = Ufw(Corpus("ufw-status-default-deny-no-rule.txt"));
            Assert.Equal(FirewallVerdict.Blocked, s.Verdict);
            Assert.Equal("ufw default deny (incoming)", s.DecidingRule);
        }

        [Fact]
        public void RecordedUfwDefaultDenyWithUdpRule()
        {
            var s = Ufw(Corpus("ufw-status-allow-udp.txt"));
            Assert.Equal(FirewallVerdict.Allowed, s.Verdict);
            Assert.Equal("51820/udp                  ALLOW IN    Anywhere", s.DecidingRule);
            Assert.DoesNotContain(s.Notes, n => n.Contains("IPv6"));
        }

        [Fact]
        public void RecordedUfwTcpOnlyAndTunnelRules()
        {
            var st = UfwParser.Parse(Corpus("ufw-status-tcp-only.txt"));
            Assert.True(st.Active);
            Assert.Equal("deny", st.DefaultIncoming);
            var s = Ufw(Corpus("ufw-status-tcp-only.txt"));
            Assert.Equal(FirewallVerdict.Blocked, s.Verdict);
            Assert.Equal("51820/tcp                  ALLOW IN    Anywhere", s.TcpOnlyRule);
            Assert.True(s.ForwardAllowed == null || s.ForwardAllowed == true);
        }

        // ---- recorded firewall-cmd --list-all ------------------------------------------------------------

        [Fact]
        public void RecordedFirewalldZoneWithoutPort()
        {
            var s = Firewalld(Corpus("firewalld-list-all-public-default.txt"));
            Assert.Equal(FirewallVerdict.Blocked, s.Verdict);
            Assert.Equal("target default of zone public", s.DecidingRule);
        }

        [Fact]
        public void RecordedFirewalldZoneWithPort()
        {
            var s = Firewalld(Corpus("firewalld-list-all-public-port.txt"));
            Assert.Equal(FirewallVerdict.Allowed, s.Verdict);
            Assert.Equal("port 51820/udp in zone public", s.DecidingRule);
        }

        [Fact]
        public void RecordedFirewalldDropZoneWithWireguardService()
        {
            var s = Firewalld(Corpus("firewalld-list-all-drop-service.txt"));
            Assert.Equal(FirewallVerdict.Allowed, s.Verdict);
            Assert.Equal("service wireguard (51820/udp) in zone drop", s.DecidingRule);
            Assert.Equal("target DROP of zone drop", Firewalld(Corpus("firewalld-list-all-drop-service.txt"), 51821).DecidingRule);
        }

        [Fact]
        public void RecordedFirewalldTcpPortAndRichRule()
        {
            var s = Firewalld(Corpus("firewalld-list-all-public-tcp-rich.txt"));
            Assert.Equal(FirewallVerdict.Blocked, s.Verdict);
            Assert.Equal("port 51820/tcp in zone public", s.TcpOnlyRule);
            var rich = Firewalld(Corpus("firewalld-list-all-public-tcp-rich.txt"), 51821);
            Assert.Equal(FirewallVerdict.Unknown, rich.Verdict); // only from 198.51.100.0/24
            Assert.Null(rich.InboundAllowed);
            Assert.Contains(rich.Notes, n => n.Contains("source address=\"198.51.100.0/24\""));
        }

        // ---- unit cases ------------------------------------------------------------------------------------

        [Fact]
        public void EstablishedOnlyIsBlocked()
        {
            var s = Nft(Table("\t\tct state established,related accept"));
            Assert.Equal(FirewallVerdict.Blocked, s.Verdict);
            Assert.Equal("policy drop of chain input (inet filter)", s.DecidingRule);
        }

        [Fact]
        public void ThDportWithL4protoAndMultilineSet()
        {
            Assert.Equal(FirewallVerdict.Allowed, Nft(Table("\t\tmeta l4proto udp th dport 51820 accept")).Verdict);
            Assert.Equal(FirewallVerdict.Blocked, Nft(Table("\t\tmeta l4proto tcp th dport 51820 accept")).Verdict);
            Assert.Equal(FirewallVerdict.Allowed, Nft(Table("\t\tudp dport { 22,\n\t\t\t51820 } accept")).Verdict);
            Assert.Equal(FirewallVerdict.Allowed, Nft(Table("\t\tmeta l4proto { tcp, udp } th dport 51000-52000 accept")).Verdict);
        }

        [Fact]
        public void IifnameOfTheUnderlayMatches()
        {
            var s = Nft(Table("\t\tiifname \"eth0\" udp dport 51820 accept"));
            Assert.Equal(FirewallVerdict.Allowed, s.Verdict);
            var other = Nft(Table("\t\tiifname \"eth1\" udp dport 51820 accept"));
            Assert.Equal(FirewallVerdict.Blocked, other.Verdict);
        }

        [Fact]
        public void SourceRestrictedAcceptIsUnknown()
        {
            var s = Nft(Table("\t\tip saddr 198.51.100.0/24 udp dport 51820 accept"));
            Assert.Equal(FirewallVerdict.Unknown, s.Verdict);
            Assert.Null(s.InboundAllowed);
            Assert.Contains(s.Notes, n => n.Contains("ip saddr 198.51.100.0/24"));
        }

        [Fact]
        public void NegatedPortAndGotoReturn()
        {
            Assert.Equal(FirewallVerdict.Blocked, Nft(Table("\t\tudp dport != 51820 accept")).Verdict);
            var text = "table inet f {\n chain sub {\n  udp dport 51820 return\n  drop\n }\n chain input {\n  type filter hook input priority 0; policy drop;\n  goto sub\n  udp dport 51820 accept\n }\n}\n";
            // goto: a return in the target leaves the base chain too, so the accept after the goto is never reached.
            var s = Nft(text);
            Assert.Equal(FirewallVerdict.Blocked, s.Verdict);
            Assert.Equal("policy drop of chain input (inet f)", s.DecidingRule);
        }

        [Fact]
        public void PrioritiesOrderBaseChainsAndDormantTablesAreSkipped()
        {
            var text = "table inet a {\n chain input {\n  type filter hook input priority filter + 10; policy accept;\n  udp dport 51820 drop comment \"late\"\n }\n}\n"
                     + "table inet b {\n chain input {\n  type filter hook input priority raw; policy accept;\n  udp dport 51820 reject comment \"early\"\n }\n}\n"
                     + "table inet c {\n flags dormant\n chain input {\n  type filter hook input priority -400; policy drop;\n }\n}\n";
            var s = Nft(text);
            Assert.Equal("udp dport 51820 reject comment \"early\"", s.DecidingRule);
            Assert.Equal(-300, NftParser.ParsePriority("raw", "input"));
            Assert.Equal(-145, NftParser.ParsePriority("mangle + 5", "input"));
        }

        [Fact]
        public void NamedSetsAndUnknownExpressionsAreNeverAssumedToMatch()
        {
            var s = Nft(Table("\t\tudp dport @wgports accept"));
            Assert.Equal(FirewallVerdict.Unknown, s.Verdict);
            var t = Nft(Table("\t\tsocket transparent 1 drop", "accept"));
            Assert.Equal(FirewallVerdict.Unknown, t.Verdict);
        }

        [Fact]
        public void NftSetsAndMapsBlocksAreSkipped()
        {
            var text = "table inet filter {\n\tset allowed {\n\t\ttype ipv4_addr\n\t\telements = { 192.0.2.1,\n\t\t\t     192.0.2.2 }\n\t}\n\tchain input {\n\t\ttype filter hook input priority filter; policy drop;\n\t\tudp dport 51820 accept\n\t}\n}\n";
            var rs = NftParser.Parse(text);
            Assert.Single(rs.Tables.Single().Chains);
            Assert.Equal(FirewallVerdict.Allowed, Nft(text).Verdict);
        }

        [Fact]
        public void IptablesUnitCases()
        {
            const string head = "*filter\n:INPUT DROP [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n";
            Assert.Equal(FirewallVerdict.Allowed, Ipt(head + "-A INPUT -p udp -m udp --dport 51820 -j ACCEPT\nCOMMIT\n").Verdict);
            Assert.Equal(FirewallVerdict.Allowed, Ipt(head + "-A INPUT -p udp -m multiport --dports 53,51000:52000 -j ACCEPT\nCOMMIT\n").Verdict);
            Assert.Equal(FirewallVerdict.Blocked, Ipt(head + "-A INPUT -i wg0 -j ACCEPT\n-A INPUT -i lo -j ACCEPT\nCOMMIT\n").Verdict);
            Assert.Equal(FirewallVerdict.Allowed, Ipt(head + "-A INPUT -i eth+ -p udp --dport 51820 -j ACCEPT\nCOMMIT\n").Verdict);
            Assert.Equal(FirewallVerdict.Blocked, Ipt(head + "-A INPUT ! -p udp -j ACCEPT\nCOMMIT\n").Verdict);
            var log = Ipt(head.Replace(":INPUT DROP", ":INPUT ACCEPT") + "-A INPUT -p udp --dport 51820 -j LOG --log-prefix \"wg \"\n-A INPUT -p udp --dport 51820 -j DROP\nCOMMIT\n");
            Assert.Equal("-A INPUT -p udp --dport 51820 -j DROP", log.DecidingRule);
            var fwd = Ipt("*filter\n:INPUT ACCEPT [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT ACCEPT [0:0]\nCOMMIT\n");
            Assert.Equal(FirewallVerdict.Allowed, fwd.Verdict);
            Assert.Equal("policy accept of chain INPUT (filter)", fwd.DecidingRule);
            Assert.False(fwd.ForwardAllowed);
            Assert.Contains(fwd.Notes, n => n.Contains("policy drop of chain FORWARD"));
        }

        [Fact]
        public void UfwUnitCases()
        {
            const string head = "Status: active\nLogging: on (low)\nDefault: deny (incoming), allow (outgoing), deny (routed)\nNew profiles: skip\n\nTo                         Action      From\n--                         ------      ----\n";
            Assert.Equal(FirewallVerdict.Allowed, Ufw(head + "51820                      ALLOW IN    Anywhere\n").Verdict);
            Assert.Equal(FirewallVerdict.Allowed, Ufw(head + "51000:52000/udp            ALLOW IN    Anywhere\n").Verdict);
            Assert.Equal(FirewallVerdict.Blocked, Ufw(head + "51820/udp                  DENY IN     Anywhere\n51820/udp                  ALLOW IN    Anywhere\n").Verdict);
            Assert.Equal(FirewallVerdict.Unknown, Ufw(head + "51820/udp                  ALLOW IN    198.51.100.0/24\n").Verdict);
            var s = Ufw(head + "Anywhere on wg0            ALLOW IN    Anywhere\n");
            Assert.Equal(FirewallVerdict.Blocked, s.Verdict);
            Assert.False(s.ForwardAllowed);
            Assert.Equal(FirewallVerdict.Allowed, Ufw(head.Replace("deny (incoming)", "allow (incoming)")).Verdict);
        }

        [Fact]
        public void ActiveZonesAreParsed()
        {
            var z = FirewalldParser.ParseActiveZones("public\n  interfaces: eth0 eth1\ntrusted\n  interfaces: wg0\n");
            Assert.Equal(new[] { "eth0", "eth1" }, z["public"]);
            Assert.Equal(new[] { "wg0" }, z["trusted"]);
            Assert.Equal(new[] { "51820/udp" }, FirewalldParser.ParseServicePorts("wireguard\n  ports: 51820/udp\n  protocols: \n"));
        }

        // ---- the whole picture and the plan ------------------------------------------------------------

        [Fact]
        public void WhenNothingBlocksTheUpstreamIsNamed()
        {
            var snaps = new[] { new BackendSnapshot { Name = "nftables", Nft = NftParser.Parse(Corpus("nft-policy-drop-accept-udp.txt")), Active = true } };
            var r = FirewallStatusBuilder.Build(snaps, new FirewallQuery { Port = 51820 });
            Assert.Contains(FirewallEvaluator.UpstreamNote, r.Single().Notes);
            var none = FirewallStatusBuilder.Build(new BackendSnapshot[0], new FirewallQuery { Port = 51820 }).Single();
            Assert.Equal("none", none.Backend);
            Assert.Equal(FirewallVerdict.Allowed, none.Verdict);
            Assert.Contains(FirewallEvaluator.UpstreamNote, none.Notes);
        }

        [Fact]
        public void PlanForNftInsertsIntoEveryBlockingBaseChain()
        {
            var rs = NftParser.Parse(Corpus("nft-set-and-second-base-chain.txt"));
            var snap = new BackendSnapshot { Name = "nftables", Tool = "nft", Nft = rs, Active = true };
            var q = new FirewallQuery { Port = 51820, Underlay = Eth0 };
            var plans = FirewallRulePlanner.Plan(new[] { snap }, new[] { FirewallEvaluator.Evaluate(snap, q) }, 51820, null);
            var step = plans.Single().Steps.Single();
            Assert.Equal("nft --echo --handle insert rule inet late input udp dport 51820 accept comment '\"wgtroubleshoot\"'", step.Command.CommandLine);
            var undo = step.Undo(new NativeResult("", 0, "insert rule inet late input udp dport 51820 accept comment \"wgtroubleshoot\" # handle 7\n", "", TimeSpan.Zero)).Single();
            Assert.Equal("nft delete rule inet late input handle 7", undo.CommandLine);
        }

        [Fact]
        public void PlanForIptablesWithAndWithoutPersistence()
        {
            var snap = new BackendSnapshot { Name = "iptables-legacy", Tool = "iptables-legacy", Iptables = IptablesParser.Parse(Corpus("iptables-legacy-tcp-only.txt")), Active = true };
            var st = FirewallEvaluator.Evaluate(snap, new FirewallQuery { Port = 51820, Underlay = Eth0 });
            var plan = FirewallRulePlanner.Plan(new[] { snap }, new[] { st }, 51820, null, _ => false, _ => false).Single();
            Assert.Equal("iptables-legacy -I INPUT -p udp --dport 51820 -m comment --comment wgtroubleshoot -j ACCEPT", plan.Steps.Single().Command.CommandLine);
            Assert.Equal("iptables-legacy -D INPUT -p udp --dport 51820 -m comment --comment wgtroubleshoot -j ACCEPT", plan.Steps.Single().Undo(null).Single().CommandLine);
            var persisted = FirewallRulePlanner.Plan(new[] { snap }, new[] { st }, 51820, null, f => f == "/etc/iptables/rules.v4", t => t == "netfilter-persistent").Single();
            Assert.Equal(new[] { "iptables-legacy -I INPUT -p udp --dport 51820 -m comment --comment wgtroubleshoot -j ACCEPT", "netfilter-persistent save" },
                persisted.Steps.Select(s => s.Command.CommandLine));
            Assert.Equal(new[] { "iptables-legacy -D INPUT -p udp --dport 51820 -m comment --comment wgtroubleshoot -j ACCEPT", "netfilter-persistent save" },
                persisted.Steps[0].Undo(null).Select(c => c.CommandLine));
        }

        [Fact]
        public void PlanPrefersUfwAndFirewalldAndSkipsWhatIsAllowed()
        {
            var ufw = new BackendSnapshot { Name = "ufw", Tool = "ufw", Ufw = UfwParser.Parse(Corpus("ufw-status-default-deny-no-rule.txt")), Active = true };
            var ipt = new BackendSnapshot { Name = "iptables-nft", Tool = "iptables-nft", Iptables = IptablesParser.Parse(Corpus("ufw-iptables-nft-save-tcp-only.txt")), Active = true };
            var q = new FirewallQuery { Port = 51820, Underlay = Eth0 };
            var plans = FirewallRulePlanner.Plan(new[] { ufw, ipt }, new[] { FirewallEvaluator.Evaluate(ufw, q), FirewallEvaluator.Evaluate(ipt, q) }, 51820, null);
            Assert.Equal("ufw allow 51820/udp", plans.Single().Steps.Single().Command.CommandLine);
            Assert.Equal("ufw delete allow 51820/udp", plans.Single().Steps.Single().Undo(null).Single().CommandLine);

            var fw = new BackendSnapshot { Name = "firewalld", Tool = "firewall-cmd", Active = true, Zones = new List<FirewalldZone> { FirewalldParser.ParseZone(Corpus("firewalld-list-all-public-default.txt")) }, ServicePorts = new Dictionary<string, string[]>() };
            var fplan = FirewallRulePlanner.Plan(new[] { ufw, fw }, new[] { FirewallEvaluator.Evaluate(fw, q) }, 51820, null).Single();
            Assert.Equal(new[] { "firewall-cmd --zone=public --add-port=51820/udp", "firewall-cmd --permanent --zone=public --add-port=51820/udp" }, fplan.Steps.Select(s => s.Command.CommandLine));

            var open = new BackendSnapshot { Name = "nftables", Tool = "nft", Nft = NftParser.Parse(Corpus("nft-policy-drop-accept-udp.txt")), Active = true };
            var none = FirewallRulePlanner.Plan(new[] { open }, new[] { FirewallEvaluator.Evaluate(open, q) }, 51820, null).Single();
            Assert.True(none.NothingToDo);
            Assert.Throws<WgException>(() => FirewallRulePlanner.Plan(new[] { open }, new FirewallStatus[0], 51820, "firewalld"));
        }
    }
}
