using System.Collections.Generic;
using System.Linq;
using WgTroubleshoot.Firewall;
using WgTroubleshoot.PathFaults;
using Xunit;

namespace WgTroubleshoot.Tests.PathFaults
{
    public class ConntrackParserTests
    {
        // recorded in the lab (conntrack v1.4.7): a WireGuard flow source-NATed to an address that is gone
        private const string Stale = "udp      17 29 src=198.51.100.2 dst=203.0.113.2 sport=51821 dport=51820 src=203.0.113.2 dst=198.51.100.9 sport=51820 dport=51821 mark=0 use=1\n"
                                   + "conntrack v1.4.7 (conntrack-tools): 1 flow entries have been shown.\n";

        [Fact]
        public void Reads_both_tuples_and_sees_the_source_nat()
        {
            var e = ConntrackParser.Parse(Stale).Single();
            Assert.Equal("udp", e.Protocol);
            Assert.Equal(29, e.TimeoutSeconds);
            Assert.Equal("198.51.100.2", e.OrigSrc);
            Assert.Equal("203.0.113.2", e.OrigDst);
            Assert.Equal(51821, e.OrigSport);
            Assert.Equal(51820, e.OrigDport);
            Assert.Equal("203.0.113.2", e.ReplySrc);
            Assert.Equal("198.51.100.9", e.ReplyDst);
            Assert.True(e.SourceNatted);
            Assert.Equal("198.51.100.9", e.TranslatedSource);
        }

        [Fact]
        public void A_flow_without_nat_and_flags_and_the_extended_format()
        {
            var text = "ipv4     2 udp      17 118 src=198.51.100.2 dst=203.0.113.2 sport=40000 dport=51820 src=203.0.113.2 dst=198.51.100.2 sport=51820 dport=40000 [ASSURED] mark=0 use=1\n"
                     + "udp      17 25 src=10.0.0.1 dst=10.0.0.2 sport=1 dport=2 [UNREPLIED] src=10.0.0.2 dst=10.0.0.1 sport=2 dport=1 mark=0 use=1\n"
                     + "garbage line\n";
            var list = ConntrackParser.Parse(text);
            Assert.Equal(2, list.Count);
            Assert.False(list[0].SourceNatted);
            Assert.True(list[0].Assured);
            Assert.Equal(118, list[0].TimeoutSeconds);
            Assert.True(list[1].Unreplied);
            Assert.Equal("10.0.0.1", list[1].ReplyDst);
        }
    }

    public class KernelCounterTests
    {
        [Fact]
        public void Proc_netstat_pairs_of_header_and_value_lines()
        {
            var text = "TcpExt: SyncookiesSent SyncookiesRecv IPReversePathFilter\nTcpExt: 0 0 7\nIpExt: InNoRoutes InTruncatedPkts\nIpExt: 3 0\n";
            var d = KernelCounters.ParseProcNetstat(text);
            Assert.Equal(7, d["TcpExtIPReversePathFilter"]);
            Assert.Equal(3, d["IpExtInNoRoutes"]);
        }

        [Fact]
        public void Proc_snmp_and_the_delta_of_two_samples()
        {
            var a = KernelCounters.ParseProcNetstat("Ip: Forwarding DefaultTTL InReceives InHdrErrors InAddrErrors\nIp: 1 64 100 0 2\n");
            var b = KernelCounters.ParseProcNetstat("Ip: Forwarding DefaultTTL InReceives InHdrErrors InAddrErrors\nIp: 1 64 150 0 9\n");
            Assert.Equal(7, KernelCounters.Delta(a, b, KernelCounters.InAddrErrors));
            Assert.Null(KernelCounters.Delta(a, b, "TcpExtIPReversePathFilter"));
        }

        [Fact]
        public void Nstat_output()
        {
            var d = KernelCounters.ParseNstat("#kernel\nTcpExtIPReversePathFilter       12                 0.0\nIpInReceives 5 0.0\n");
            Assert.Equal(12, d[KernelCounters.ReversePathFilter]);
            Assert.Equal(5, d["IpInReceives"]);
        }
    }

    public class RouteAndRpFilterTests
    {
        [Fact]
        public void A_route_answer_and_a_failed_one()
        {
            var ok = RouteAnswer.Parse("198.51.100.2", 0, "198.51.100.2 dev wgf1a2b3c src 203.0.113.2 uid 0 \n    cache \n", "");
            Assert.True(ok.Found);
            Assert.Equal("wgf1a2b3c", ok.Device);
            Assert.Equal("203.0.113.2", ok.Source);
            var via = RouteAnswer.Parse("192.0.2.130", 0, "192.0.2.130 via 203.0.113.1 dev ens3 src 203.0.113.2 uid 0\n", "");
            Assert.Equal("203.0.113.1", via.Via);
            var bad = RouteAnswer.Parse("203.0.113.2", 2, "", "RTNETLINK answers: Invalid cross-device link\n");
            Assert.False(bad.Found);
            Assert.Contains("cross-device", bad.Error);
            var unreachable = RouteAnswer.Parse("10.9.9.9", 0, "unreachable 10.9.9.9 uid 0\n", "");
            Assert.False(unreachable.Found);
        }

        [Fact]
        public void The_kernel_applies_the_larger_of_all_and_the_device()
        {
            Assert.True(new RpFilterSetting { Interface = "ens3", All = 1, Device = 0 }.Strict);
            Assert.False(new RpFilterSetting { Interface = "ens3", All = 1, Device = 2 }.Strict);
            Assert.Equal(2, new RpFilterSetting { All = 1, Device = 2 }.Effective);
            Assert.Null(new RpFilterSetting().Effective);
            Assert.Null(RpFilterSetting.ParseValue("x"));
            Assert.Equal(1, RpFilterSetting.ParseValue("1\n"));
        }
    }

    public class HookRuleTests
    {
        private const string Save = "*nat\n:PREROUTING ACCEPT [0:0]\n:POSTROUTING ACCEPT [0:0]\n-A POSTROUTING -s 192.0.2.0/26 -o ens3 -j MASQUERADE\nCOMMIT\n*filter\n:FORWARD DROP [0:0]\n-A FORWARD -i wg0 -j ACCEPT\nCOMMIT\n";

        [Fact]
        public void Reads_iptables_and_nft_additions_with_the_interface_substituted()
        {
            var skipped = new List<string>();
            var rules = HookRules.Parse(new[]
            {
                "iptables -A FORWARD -i %i -j ACCEPT; iptables -t nat -A POSTROUTING -o ens3 -s 192.0.2.0/26 -j MASQUERADE",
                "nft add rule inet filter forward iifname \"%i\" accept",
                "sysctl -w net.ipv4.ip_forward=1",
                "iptables -D FORWARD -i %i -j ACCEPT",
                "iptables -A INPUT -s $(cat /etc/allowed) -j ACCEPT",
            }, "wg0", skipped);
            Assert.Equal(3, rules.Count);
            Assert.Equal("FORWARD", rules[0].Chain);
            Assert.Equal(new[] { "-A", "FORWARD", "-i", "wg0", "-j", "ACCEPT" }, rules[0].Arguments);
            Assert.Equal("nat", rules[1].Table);
            Assert.True(rules[2].IsNft);
            Assert.Equal("inet filter", rules[2].Table);
            Assert.Equal("iifname wg0 accept", rules[2].Spec);
            Assert.Single(skipped);
        }

        [Fact]
        public void Finds_a_rule_in_iptables_save_whatever_the_option_order()
        {
            var rules = HookRules.Parse(new[] { "iptables -t nat -A POSTROUTING -o ens3 -s 192.0.2.0/26 -j MASQUERADE", "iptables -A FORWARD -i %i -o ens3 -j ACCEPT" }, "wg0", null);
            var chains = IptablesParser.Parse(Save).AllChains().ToList();
            Assert.True(HookRules.IsPresent(rules[0], chains));
            Assert.False(HookRules.IsPresent(rules[1], chains));
        }

        [Fact]
        public void Finds_an_nft_rule_as_nft_prints_it()
        {
            var ruleset = "table ip wgtlab_nat {\n\tchain postrouting {\n\t\ttype nat hook postrouting priority srcnat; policy accept;\n\t\tip saddr 192.0.2.0/26 oifname \"ens3\" counter packets 5 bytes 300 masquerade # handle 3\n\t}\n}\n";
            var present = HookRules.Parse(new[] { "nft add rule ip wgtlab_nat postrouting ip saddr 192.0.2.0/26 oifname ens3 masquerade" }, "wg0", null).Single();
            var absent = HookRules.Parse(new[] { "nft add rule ip wgtlab_nat postrouting ip saddr 192.0.2.0/26 oifname eth0 masquerade" }, "wg0", null).Single();
            var chains = NftParser.Parse(ruleset).AllChains().ToList();
            Assert.True(HookRules.IsPresent(present, chains));
            Assert.False(HookRules.IsPresent(absent, chains));
            Assert.False(HookRules.IsPresent(present, IptablesParser.Parse("*nat\n:POSTROUTING ACCEPT [0:0]\nCOMMIT\n").AllChains()));
        }

        [Fact]
        public void Refuses_an_interface_name_that_could_end_a_token()
        {
            Assert.Throws<System.ArgumentException>(() => HookRules.Parse(new[] { "iptables -A FORWARD -i %i -j ACCEPT" }, "wg0;rm", null));
        }
    }

    public class OutputWalkTests
    {
        private static Probe Reply(int port, string oif = "ens3") => new Probe { Output = true, Protocol = "udp", SourcePort = port, OutInterface = oif, CtState = "established" };

        [Fact]
        public void An_nft_output_drop_of_the_listen_port_decides()
        {
            var rs = NftParser.Parse("table inet wgf_out {\n chain output {\n  type filter hook output priority 0; policy accept;\n  udp sport 51820 counter packets 4 bytes 480 drop\n }\n}\n");
            var r = ChainWalker.Walk(rs.BaseChainsFor(Reply(51820)), Reply(51820));
            Assert.True(r.Blocked);
            Assert.True(r.Certain);
            Assert.Contains("udp sport 51820", r.DecidingRule);
            Assert.Equal("output", r.DecidingBaseChain.Name);
            Assert.True(ChainWalker.Walk(rs.BaseChainsFor(Reply(51821)), Reply(51821)).Allowed);
        }

        [Fact]
        public void An_output_policy_drop_with_an_accept_for_established_lets_replies_out()
        {
            var rs = NftParser.Parse("table inet f {\n chain output {\n  type filter hook output priority 0; policy drop;\n  ct state established,related accept\n  oifname \"lo\" accept\n }\n}\n");
            Assert.True(ChainWalker.Walk(rs.BaseChainsFor(Reply(51820)), Reply(51820)).Allowed);
            var fresh = Reply(51820); fresh.CtState = "new";
            var r = ChainWalker.Walk(rs.BaseChainsFor(fresh), fresh);
            Assert.True(r.Blocked);
            Assert.Contains("policy drop", r.DecidingRule);
        }

        [Fact]
        public void Iptables_OUTPUT_with_sport_and_the_input_chain_is_not_walked()
        {
            var rs = IptablesParser.Parse("*filter\n:INPUT DROP [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n-A OUTPUT -o ens3 -p udp -m udp --sport 51820 -j DROP\nCOMMIT\n");
            var r = ChainWalker.Walk(rs.BaseChainsFor(Reply(51820)), Reply(51820));
            Assert.True(r.Blocked);
            Assert.Equal("OUTPUT", r.DecidingBaseChain.Name);
            Assert.True(ChainWalker.Walk(rs.BaseChainsFor(Reply(51820, "eth1")), Reply(51820, "eth1")).Allowed);
        }

        [Fact]
        public void An_input_interface_test_never_matches_a_packet_this_host_sends()
        {
            var rs = NftParser.Parse("table inet f {\n chain output {\n  type filter hook output priority 0; policy accept;\n  iifname \"ens3\" drop\n  iifname != \"ens3\" udp sport 51820 drop\n }\n}\n");
            var r = ChainWalker.Walk(rs.BaseChainsFor(Reply(51820)), Reply(51820));
            Assert.True(r.Blocked);
            Assert.Contains("!=", r.DecidingRule);
        }

        [Fact]
        public void The_forward_walk_follows_the_jump_into_DOCKER_USER()
        {
            var save = "*filter\n:INPUT ACCEPT [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT ACCEPT [0:0]\n:DOCKER-USER - [0:0]\n-A FORWARD -j DOCKER-USER\n-A FORWARD -o docker0 -j ACCEPT\n-A DOCKER-USER -i wg0 -o ens3 -j ACCEPT\n-A DOCKER-USER -j RETURN\nCOMMIT\n";
            var rs = IptablesParser.Parse(save);
            var p = new Probe { Forwarded = true, Protocol = "tcp", InInterface = "wg0", OutInterface = "ens3" };
            Assert.True(ChainWalker.Walk(rs.BaseChainsFor(p), p).Allowed);
            var back = new Probe { Forwarded = true, Protocol = "tcp", InInterface = "ens3", OutInterface = "wg0", CtState = "established" };
            var r = ChainWalker.Walk(rs.BaseChainsFor(back), back);
            Assert.True(r.Blocked);
            Assert.Contains("policy drop", r.DecidingRule, System.StringComparison.OrdinalIgnoreCase);
        }
    }
}
