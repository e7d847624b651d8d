using System;
using System.Linq;
using WgTroubleshoot.Checks;
using WgTroubleshoot.Diagnosis;
using WgTroubleshoot.Firewall;
using WgTroubleshoot.Native;
using WgTroubleshoot.PathFaults;
using WgTroubleshoot.Remedies;
using WgTroubleshoot.Snapshot;
using WgTroubleshoot.Tests.Remedies;
using Xunit;

namespace WgTroubleshoot.Tests.Checks
{
    /// <summary>
    /// The MSS facts the firewall parsers record on each rule (the rewrite, the TCP flags match, the family it sees),
    /// and the clamp rules MssClampRules builds from that one parse.
    /// </summary>
    public class MssFactsTests
    {
        [Fact]
        public void Nft_records_a_clamp_to_the_path_mtu_and_its_flags()
        {
            var r = NftParser.ParseRule("iifname \"wg0\" tcp flags syn / syn,rst counter packets 3 bytes 180 tcp option maxseg size set rt mtu");
            Assert.True(r.SetsMss);
            Assert.True(r.MssToPathMtu);
            Assert.Null(r.MssValue);
            Assert.Equal("syn / syn,rst", r.TcpFlags);
            Assert.Equal("wg0", r.Iif);
            Assert.Null(r.MatchFamily);
            Assert.Equal(RuleAction.None, r.Action);
        }

        [Fact]
        public void Nft_records_a_fixed_mss_and_the_family_of_the_first_header_match()
        {
            var r = NftParser.ParseRule("oifname != \"wg0\" meta nfproto ipv6 tcp flags & (syn|rst) == syn tcp option maxseg size > 1340 tcp option maxseg size set 1340");
            Assert.True(r.SetsMss);
            Assert.False(r.MssToPathMtu);
            Assert.Equal(1340, r.MssValue);
            Assert.Equal("& (syn|rst) == syn", r.TcpFlags);
            Assert.Equal("wg0", r.Oif);
            Assert.True(r.OifNegated);
            Assert.Equal("ipv6", r.MatchFamily);
            Assert.Equal("ipv4", NftParser.ParseRule("ip saddr 192.0.2.0/24 ip6 daddr 2001:db8::1 tcp option maxseg size set rt mtu").MatchFamily);
            // a negated family match does not tie the rule to one family
            Assert.Null(NftParser.ParseRule("meta nfproto != ipv4 tcp option maxseg size set rt mtu").MatchFamily);
        }

        [Fact]
        public void Nft_a_test_of_the_mss_is_no_rewrite()
        {
            var r = NftParser.ParseRule("tcp option maxseg size > 1340 counter drop");
            Assert.False(r.SetsMss);
            Assert.Equal(RuleAction.Drop, r.Action);
            Assert.Equal(Tri.Maybe, r.Match(new Probe { Protocol = "tcp" }));
            Assert.Equal(Tri.False, r.Match(new Probe { Protocol = "udp" }));
        }

        [Fact]
        public void Iptables_records_the_tcpmss_target_options_and_the_flags()
        {
            var r = IptablesParser.ParseRule("-A FORWARD ! -o wg0 -p tcp -m tcp --tcp-flags SYN,RST SYN -m tcpmss --mss 1341:65535 -j TCPMSS --set-mss 1340", null);
            Assert.True(r.SetsMss);
            Assert.False(r.MssToPathMtu);
            Assert.Equal(1340, r.MssValue);
            Assert.Equal("SYN,RST SYN", r.TcpFlags);
            Assert.Equal("wg0", r.Oif);
            Assert.True(r.OifNegated);
            Assert.Equal(RuleAction.None, r.Action);
            var p = IptablesParser.ParseRule("-A FORWARD -i wg0 -p tcp --syn -j TCPMSS --clamp-mss-to-pmtu", null);
            Assert.True(p.SetsMss && p.MssToPathMtu);
            Assert.Equal("SYN,RST,ACK,FIN SYN", p.TcpFlags);
            Assert.False(IptablesParser.ParseRule("-A FORWARD -p tcp --tcp-flags SYN,RST SYN -j ACCEPT", null).SetsMss);
        }

        [Fact]
        public void The_family_a_rule_sees_comes_from_its_table_or_its_own_match()
        {
            const string save = "*mangle\n:FORWARD ACCEPT [0:0]\n-A FORWARD -p tcp -j TCPMSS --clamp-mss-to-pmtu\nCOMMIT\n";
            Assert.Equal("ipv6", IptablesParser.Parse(save, ipv6: true).AllChains().Single(c => c.Name == "FORWARD").Rules.Single().PacketFamily);
            Assert.Equal("ipv4", IptablesParser.Parse(save).AllChains().Single(c => c.Name == "FORWARD").Rules.Single().PacketFamily);
            var nft = NftParser.Parse("table inet t {\n chain f {\n  type filter hook forward priority mangle; policy accept;\n  ip6 nexthdr tcp tcp option maxseg size set rt mtu\n  tcp option maxseg size set rt mtu\n }\n}\n"
                                      + "table ip u {\n chain f {\n  type filter hook forward priority mangle; policy accept;\n  ip6 nexthdr tcp tcp option maxseg size set rt mtu\n }\n}\n");
            Assert.Equal(new[] { "ipv6", null, "ipv4" }, nft.AllChains().SelectMany(c => c.Rules).Select(r => r.PacketFamily).ToArray());
        }

        [Fact]
        public void A_rule_of_an_undeclared_built_in_chain_is_kept_and_one_of_an_undeclared_user_chain_is_not()
        {
            var rs = IptablesParser.Parse("*mangle\n-A FORWARD -p tcp -j TCPMSS --clamp-mss-to-pmtu\n-A nosuch -j ACCEPT\nCOMMIT\n");
            var fwd = rs.Chain("mangle", "FORWARD");
            Assert.Equal("forward", fwd.Hook);
            Assert.Single(fwd.Rules);
            Assert.Null(rs.Chain("mangle", "nosuch"));
        }

        [Fact]
        public void Clamp_rules_come_from_forward_postrouting_and_regular_chains_only()
        {
            var nft = MssClampRules.FromNft("nftables", "table inet t {\n chain in {\n  type filter hook input priority mangle; policy accept;\n  tcp option maxseg size set 1200\n }\n"
                + " chain post {\n  type filter hook postrouting priority mangle; policy accept;\n  oifname \"eth0\" tcp option maxseg size set rt mtu # handle 7\n }\n"
                + " chain mine {\n  tcp option maxseg size set 1300\n }\n}\n").ToList();
            Assert.Equal(new[] { "post of inet t", "mine of inet t" }, nft.Select(r => r.Chain).ToArray());
            Assert.Equal("oifname \"eth0\" tcp option maxseg size set rt mtu # handle 7", nft[0].Text);
            Assert.Equal("eth0", nft[0].Out);
            Assert.Equal(1300, nft[1].SetMss);
            var ipt = MssClampRules.FromIptablesSave("iptables-legacy", "*mangle\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:POSTROUTING ACCEPT [0:0]\n:clamp - [0:0]\n"
                + "-A INPUT -p tcp -j TCPMSS --set-mss 1200\n-A FORWARD ! -i wg0 -p tcp -j TCPMSS --set-mss 1300\n-A POSTROUTING -p tcp -j TCPMSS --clamp-mss-to-pmtu\n-A clamp -p tcp -j TCPMSS --set-mss 1100\nCOMMIT\n").ToList();
            Assert.Equal(new[] { "FORWARD", "POSTROUTING", "clamp" }, ipt.Select(r => r.Chain).ToArray());
            Assert.Equal("!wg0", ipt[0].In);
            Assert.True(ipt[1].ToPathMtu);
        }

        [Fact]
        public void An_interface_set_covers_its_members_only()
        {
            var rules = MssClampRules.FromNft("nftables", "table inet t {\n chain forward {\n  type filter hook forward priority mangle; policy accept;\n"
                + "  iifname { \"wg0\", \"wg1\" } tcp flags syn / syn,rst tcp option maxseg size set rt mtu\n  oifname { \"wg0\", \"wg1\" } tcp flags syn / syn,rst tcp option maxseg size set rt mtu\n }\n}\n").ToList();
            Assert.True(rules[0].Covers("wg1", "eth0", 1360, 1400, false));
            Assert.False(rules[0].Covers("wg2", "eth0", 1360, 1400, false));
            Assert.True(MssClampRepair.Clamped(rules, "wg1"));
            Assert.False(MssClampRepair.Clamped(rules, "wg2"));
        }

        [Fact]
        public void Find_reads_the_one_parse_of_the_state()
        {
            var nf = NetfilterState.FromParsed(new[]
            {
                new NetfilterBackend { Name = "ip6tables-nft", Tool = "ip6tables-nft", Text = "*mangle\n:FORWARD ACCEPT [0:0]\n-A FORWARD -o wg0 -p tcp -j TCPMSS --clamp-mss-to-pmtu\nCOMMIT\n" }.ToBackendSnapshot(),
                new NetfilterBackend { Name = "ufw", Tool = "ufw", Text = "Status: inactive\n" }.ToBackendSnapshot(),
            });
            var r = MssClampRules.Find(nf).Single();
            Assert.Equal("ip6tables-nft", r.Backend);
            Assert.Equal("ipv6", r.Family);
            Assert.Same(nf.Chains("ip6tables-nft").Single(c => c.Name == "FORWARD").Rules.Single().Text, r.Text);
        }

        [Theory]
        [InlineData("table inet wgtroubleshoot_mss {\n\tchain forward {\n\t\ttype filter hook forward priority mangle; policy accept;\n\t}\n}\n", false)]
        [InlineData("table inet wgtroubleshoot_mss2 {\n\tchain forward {\n\t\ttype filter hook forward priority mangle; policy accept;\n\t}\n}\n", true)]
        [InlineData("table ip wgtroubleshoot_mss {\n\tchain forward {\n\t\ttype filter hook forward priority mangle; policy accept;\n\t}\n}\n", true)]
        public void The_repair_makes_its_own_table_only_when_the_parse_has_none(string ruleset, bool creates)
        {
            var r = new RecordingRunner
            {
                Answer = l => l == "nft list ruleset" ? new NativeResult(l, 0, ruleset, "", TimeSpan.Zero)
                    : l.StartsWith("nft --echo --handle add rule", StringComparison.Ordinal) ? new NativeResult(l, 0, "add rule inet wgtroubleshoot_mss forward # handle 9\n", "", TimeSpan.Zero)
                    : null,
            };
            var f = new FindingRef { Cause = nameof(Cause.MssClampMissing), Interface = "wg0", CanRepair = true, Severity = "Warning", RepairData = new[] { "Interface=wg0", "Backend=nftables" } };
            var rec = MssClampRepair.Apply(new RemedyContext(r, null, null), f).Single();
            Assert.Equal(creates, r.Commands.Contains("nft add table inet wgtroubleshoot_mss"));
            Assert.Equal(2, r.Commands.Count(c => c.StartsWith("nft --echo --handle add rule inet wgtroubleshoot_mss forward")));
            // in a table that was there, each added rule is undone by its handle; a table made here is deleted whole
            Assert.Equal(creates ? new[] { "nft delete table inet wgtroubleshoot_mss" } : new[] { "nft delete rule inet wgtroubleshoot_mss forward handle 9", "nft delete rule inet wgtroubleshoot_mss forward handle 9" },
                rec.UndoCommands.ToArray());
        }
    }
}
