using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using WgTroubleshoot.Firewall;
using WgTroubleshoot.Forwarding;
using Xunit;

namespace WgTroubleshoot.Tests.Forwarding
{
    /// <summary>The NAT and forward facts of the one netfilter parse (NftParser, IptablesParser).</summary>
    public class NatForwardFactsTests
    {
        private const string Nft = @"table ip wgtlab_nat {
	chain postrouting {
		type nat hook postrouting priority srcnat; policy accept;
		ip saddr 192.0.2.0/26 oifname ""ens3"" counter packets 3 bytes 252 masquerade
	}
}
table inet filter {
	set allowed { type ipv4_addr; elements = { 192.0.2.5 } }
	chain forward {
		type filter hook forward priority filter; policy drop;
		ct state established,related accept
		iifname ""wg0"" oifname ""ens3"" accept # handle 7
	}
}
";

        internal static List<FwChain> NftChains(string text) => NftParser.Parse(text).AllChains().ToList();
        internal static List<FwChain> IptChains(string text) => IptablesParser.Parse(text).AllChains().ToList();

        [Fact]
        public void Parses_nft_chains_hooks_policies_and_rules()
        {
            var chains = NftChains(Nft);
            Assert.Equal(2, chains.Count);
            var post = chains[0];
            Assert.Equal("postrouting", post.Hook);
            Assert.Equal("accept", post.Policy);
            Assert.Equal("nft ip wgtlab_nat postrouting", post.Label);
            var r = Assert.Single(post.Rules);
            Assert.Equal("masquerade", r.Verdict);
            Assert.Equal("ens3", r.Oif);
            Assert.Equal(new[] { "192.0.2.0/26" }, r.Saddr);
            Assert.False(r.HasOtherMatches);
            Assert.True(r.IsSourceNat);
            Assert.Equal("drop", chains[1].Policy);
            Assert.Equal(2, chains[1].Rules.Count);
            Assert.Equal(new[] { "established", "related" }, chains[1].Rules[0].CtState);
            var fwd = chains[1].Rules[1];
            Assert.Equal(("wg0", "ens3", "accept", "7"), (fwd.Iif, fwd.Oif, fwd.Verdict, fwd.Handle));
            Assert.Equal("iifname \"wg0\" oifname \"ens3\" accept", fwd.Text);
        }

        [Fact]
        public void Nft_facts_carry_negation_sets_nat_verdicts_and_other_matches()
        {
            var chains = NftChains("table inet t {\n chain c {\n  type nat hook postrouting priority srcnat; policy accept;\n"
                + "  ip saddr != { 192.0.2.0/26, 198.51.100.0/24 } oifname != \"wg*\" snat ip to 203.0.113.1\n"
                + "  iifname \"ens3\" tcp dport 80 dnat ip to 192.0.2.2:8080\n"
                + "  meta iifname \"wg0\" meta oifname \"ens3\" jump tunnel\n"
                + "  ct mark set 1 counter\n"
                + "  reject with icmp type port-unreachable\n }\n chain tunnel {\n  return\n }\n}\n");
            var r = chains[0].Rules;
            Assert.Equal(new[] { "192.0.2.0/26", "198.51.100.0/24" }, r[0].Saddr);
            Assert.True(r[0].SaddrNegated);
            Assert.Equal("wg*", r[0].Oif);
            Assert.True(r[0].OifNegated);
            Assert.Equal("snat", r[0].Verdict);
            Assert.False(r[0].HasOtherMatches);
            Assert.False(r[0].SaddrCovers("192.0.2.0/26")); // negated: never "covers"
            Assert.Equal("dnat", r[1].Verdict);
            Assert.True(r[1].HasOtherMatches);
            Assert.Equal(("wg0", "ens3", "jump tunnel"), (r[2].Iif, r[2].Oif, r[2].Verdict));
            Assert.Same(chains[1], r[2].TargetChain);
            Assert.Null(r[3].Verdict);
            Assert.True(r[3].HasOtherMatches);
            Assert.Equal("drop", r[4].Verdict);
            Assert.Equal("return", chains[1].Rules[0].Verdict);
            Assert.Null(chains[1].Hook);
            Assert.Null(chains[1].Policy);
        }

        [Fact]
        public void Finds_masquerade_for_the_subnet_and_uplink_only()
        {
            var chains = NftChains(Nft);
            var found = ForwardingEvaluator.FindMasquerade(chains, new[] { "192.0.2.0/26" }, "ens3");
            Assert.NotNull(found);
            Assert.Equal("nft ip wgtlab_nat postrouting", found.Item1);
            Assert.Null(ForwardingEvaluator.FindMasquerade(chains, new[] { "192.0.2.0/26" }, "eth0"));
            Assert.Null(ForwardingEvaluator.FindMasquerade(chains, new[] { "198.51.100.0/25" }, "ens3"));
        }

        [Fact]
        public void Forward_policy_drop_with_accepts_for_the_tunnel_is_open()
        {
            var chains = NftChains(Nft);
            Assert.Null(ForwardingEvaluator.FindForwardBlock(chains, "wg0", "ens3", "192.0.2.0/26"));
            Assert.Contains("drops new packets from wg1", ForwardingEvaluator.FindForwardBlock(chains, "wg1", "ens3", "192.0.2.0/26"));
        }

        [Fact]
        public void Parses_iptables_save()
        {
            var text = "*nat\n:PREROUTING ACCEPT [0:0]\n:POSTROUTING ACCEPT [0:0]\n-A POSTROUTING -s 192.0.2.0/26 -o ens3 -j MASQUERADE\nCOMMIT\n*filter\n:FORWARD DROP [0:0]\n-A FORWARD -i wg0 -j ACCEPT\n-A FORWARD -o wg0 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT\nCOMMIT\n";
            var chains = IptChains(text);
            Assert.NotNull(ForwardingEvaluator.FindMasquerade(chains, new[] { "192.0.2.0/26" }, "ens3"));
            Assert.Equal("iptables ip nat POSTROUTING", ForwardingEvaluator.FindMasquerade(chains, new[] { "192.0.2.0/26" }, "ens3").Item1);
            Assert.Null(ForwardingEvaluator.FindForwardBlock(chains, "wg0", "ens3", "192.0.2.0/26"));
            var noReturn = IptChains("*filter\n:FORWARD DROP [0:0]\n-A FORWARD -i wg0 -j ACCEPT\nCOMMIT\n");
            var block = ForwardingEvaluator.FindForwardBlock(noReturn, "wg0", "ens3", "192.0.2.0/26");
            Assert.Contains("replies", block);
            Assert.Contains("(policy drop,", block);
        }

        [Fact]
        public void Iptables_facts_carry_negation_ct_state_targets_and_other_matches()
        {
            var chains = IptChains("*nat\n:POSTROUTING ACCEPT [0:0]\n:MINE - [0:0]\n"
                + "-A POSTROUTING ! -s 192.0.2.0/26,198.51.100.0/24 ! -o wg+ -m comment --comment \"a b\" -j SNAT --to-source 203.0.113.1\n"
                + "-A POSTROUTING -i ens3 -p tcp --dport 80 -j DNAT --to-destination 192.0.2.2\n"
                + "-A POSTROUTING -m conntrack --ctstate NEW -g MINE\n-A MINE -j LOG --log-prefix x\nCOMMIT\n");
            var post = chains[0];
            Assert.Equal(("postrouting", "ACCEPT", "accept"), (post.Hook, post.Policy, post.PolicyName));
            var r = post.Rules;
            Assert.Equal(new[] { "192.0.2.0/26", "198.51.100.0/24" }, r[0].Saddr);
            Assert.True(r[0].SaddrNegated);
            Assert.Equal(("wg+", true, "snat", false), (r[0].Oif, r[0].OifNegated, r[0].Verdict, r[0].HasOtherMatches));
            Assert.Equal(("ens3", "dnat", true), (r[1].Iif, r[1].Verdict, r[1].HasOtherMatches));
            Assert.Equal(new[] { "new" }, r[2].CtState);
            Assert.Equal("goto MINE", r[2].Verdict);
            Assert.Null(chains[1].Hook);
            Assert.Null(chains[1].Rules[0].Verdict);
        }

        [Fact]
        public void The_nat_and_forward_view_is_the_filter_parse_itself()
        {
            var nf = new Snapshot.NetfilterState();
            nf.Backends.Add(new Snapshot.NetfilterBackend { Name = "nftables", Tool = "nft", Text = Nft });
            nf.Backends.Add(new Snapshot.NetfilterBackend { Name = "iptables-legacy", Tool = "iptables-legacy", Text = "*nat\n:POSTROUTING ACCEPT [0:0]\n-A POSTROUTING -o ens3 -j MASQUERADE\nCOMMIT\n" });
            nf.Backends.Add(new Snapshot.NetfilterBackend { Name = "ip6tables-legacy", Tool = "ip6tables-legacy", Text = "*nat\n:POSTROUTING ACCEPT [0:0]\n-A POSTROUTING -o ens3 -j MASQUERADE\nCOMMIT\n" });
            var chains = nf.NatForward();
            Assert.Equal(3, chains.Count); // two nft chains, one IPv4 iptables chain; IPv6 is not the NAT view's
            var filter = nf.Filter();
            Assert.Same(filter[0].Nft.Tables[0].Chains[0], chains[0]);
            Assert.Same(filter[1].Iptables.Chain("nat", "POSTROUTING"), chains[2]);
            Assert.Same(chains, nf.NatForward());
            Assert.Equal(new[] { chains[2] }, nf.Chains("iptables-legacy"));
            Assert.Single(nf.Chains("ip6tables-legacy"));
            Assert.Empty(nf.Chains("iptables-nft"));
        }

        [Fact]
        public void A_state_of_backends_read_live_reuses_their_parse()
        {
            var live = new Snapshot.NetfilterBackend { Name = "nftables", Tool = "nft", Text = Nft }.ToBackendSnapshot();
            var nf = Snapshot.NetfilterState.FromParsed(new[] { live });
            Assert.Same(live, Assert.Single(nf.Filter()));
            Assert.Same(live.Nft.Tables[0].Chains[0], nf.NatForward()[0]);
            Assert.Equal(Nft, nf.Backend("nftables").Text);
        }

        [Theory]
        [InlineData("ens*", "ens3", true)]
        [InlineData("ens+", "ens3", true)]
        [InlineData("eth0", "ens3", false)]
        [InlineData(null, "ens3", false)]
        public void Interface_wildcards(string pattern, string name, bool expected)
            => Assert.Equal(expected, Probe.NameMatches(pattern, name));

        [Theory]
        [InlineData("192.0.2.0/24", "192.0.2.0/26", true)]
        [InlineData("192.0.2.0/26", "192.0.2.0/24", false)]
        [InlineData("0.0.0.0/0", "192.0.2.0/26", true)]
        [InlineData("2001:db8::/32", "192.0.2.0/26", false)]
        [InlineData("192.0.2.7", "192.0.2.7/32", true)]
        [InlineData("@tunnel_nets", "192.0.2.0/26", false)]
        public void Prefix_cover(string prefix, string subnet, bool expected)
            => Assert.Equal(expected, WgTroubleshoot.Config.IpPrefix.Covers(prefix, subnet));

        [Fact]
        public void Network_of_an_address()
        {
            Assert.Equal("192.0.2.0/26", WgTroubleshoot.Config.IpPrefix.NetworkOf("192.0.2.1/26"));
            Assert.Equal("2001:db8::/64", WgTroubleshoot.Config.IpPrefix.NetworkOf("2001:db8::1/64"));
            Assert.Null(WgTroubleshoot.Config.IpPrefix.NetworkOf("not-an-address"));
        }

        [Fact]
        public void Default_route_device()
            => Assert.Equal("ens3", ForwardingReader.ParseDefaultRouteDevice("default via 203.0.113.1 dev ens3 proto static \n"));
    }

    public class SysctlTests : IDisposable
    {
        private readonly string _root = Path.Combine(Path.GetTempPath(), "wgt-sysctl-" + Guid.NewGuid().ToString("N"));

        public SysctlTests()
        {
            Directory.CreateDirectory(Path.Combine(_root, "etc/sysctl.d"));
            Directory.CreateDirectory(Path.Combine(_root, "usr/lib/sysctl.d"));
        }

        public void Dispose() => Directory.Delete(_root, true);

        private void Write(string rel, string text) => File.WriteAllText(Path.Combine(_root, rel), text);

        [Fact]
        public void The_last_file_in_sysctl_order_wins_and_sysctl_conf_comes_last()
        {
            Write("usr/lib/sysctl.d/50-default.conf", "net.ipv4.ip_forward = 1\n");
            Write("etc/sysctl.d/30-a.conf", "net/ipv4/ip_forward=0\n");
            var s = new SysctlSettings(_root);
            Assert.Equal("1", s.ReadPersistent("net.ipv4.ip_forward").Value);
            Write("etc/sysctl.conf", "# comment\n-net.ipv4.ip_forward = 0\n");
            var p = s.ReadPersistent("net.ipv4.ip_forward");
            Assert.Equal("0", p.Value);
            Assert.EndsWith("etc/sysctl.conf", p.File);
            Assert.Equal(2, p.Line);
        }

        [Fact]
        public void A_file_in_etc_shadows_the_same_name_in_usr_lib()
        {
            Write("usr/lib/sysctl.d/60-x.conf", "net.ipv4.ip_forward = 1\n");
            Write("etc/sysctl.d/60-x.conf", "# emptied by the admin\n");
            Assert.Null(new SysctlSettings(_root).ReadPersistent("net.ipv4.ip_forward"));
        }

        [Fact]
        public void Own_file_text_is_idempotent()
        {
            var once = SysctlSettings.WithSettings(null, new Dictionary<string, string> { ["net.ipv4.ip_forward"] = "1" });
            var twice = SysctlSettings.WithSettings(once, new Dictionary<string, string> { ["net.ipv4.ip_forward"] = "1" });
            Assert.Equal(once, twice);
            Assert.Contains("net.ipv4.ip_forward = 1\n", once);
            var off = SysctlSettings.WithSettings(once, new Dictionary<string, string> { ["net.ipv4.ip_forward"] = "0" });
            Assert.Single(off.Split('\n').Where(l => l.StartsWith("net.ipv4.ip_forward", StringComparison.Ordinal)));
        }
    }

    public class EvaluatorTests
    {
        [Fact]
        public void Forwarding_off_and_nat_missing()
        {
            var s = ForwardingEvaluator.Evaluate(new ForwardingFacts
            {
                Interface = "wg0", TunnelSubnets = { "192.0.2.0/26" }, IpForward = "0", Uplink = "ens3",
            });
            Assert.Equal("ForwardingDisabled", s.Verdict);
            Assert.Contains(s.Problems, p => p.StartsWith("NatMissing:", StringComparison.Ordinal));
            Assert.False(s.Masquerade);
        }

        [Fact]
        public void All_good()
        {
            var s = ForwardingEvaluator.Evaluate(new ForwardingFacts
            {
                Interface = "wg0", TunnelSubnets = { "192.0.2.0/26" }, IpForward = "1", Uplink = "ens3",
                IpForwardPersistent = new SysctlSetting { Key = "net.ipv4.ip_forward", Value = "1", File = "/etc/sysctl.d/99-wgtroubleshoot.conf", Line = 2 },
                Chains = NatForwardFactsTests.NftChains("table ip nat {\n chain post {\n  type nat hook postrouting priority 100; policy accept;\n  oifname \"ens3\" masquerade\n }\n}\n"),
            });
            Assert.Equal("Ok", s.Verdict);
            Assert.True(s.Masquerade);
        }

        [Fact]
        public void Ufw_drop_policy_blocks_forwarding_when_enabled()
        {
            var s = ForwardingEvaluator.Evaluate(new ForwardingFacts
            {
                Interface = "wg0", TunnelSubnets = { "192.0.2.0/26" }, IpForward = "1", Uplink = "ens3", UfwEnabled = true, UfwForwardPolicy = "DROP",
                IpForwardPersistent = new SysctlSetting { Key = "net.ipv4.ip_forward", Value = "1", File = "f", Line = 1 },
                Chains = NatForwardFactsTests.NftChains("table ip nat {\n chain post {\n  type nat hook postrouting priority 100; policy accept;\n  masquerade\n }\n}\n"),
            });
            Assert.Equal("ForwardBlocked", s.Verdict);
        }

        [Fact]
        public void Nat_rules_for_nftables_use_the_uplink_and_a_table_per_interface()
        {
            var r = NatRules.ForNftables("wg-0", new[] { "192.0.2.0/26" }, "ens3");
            Assert.Equal("inet wgtroubleshoot_wg_0", r.Table);
            Assert.Contains("ip saddr 192.0.2.0/26 oifname \"ens3\" masquerade", r.PostUp);
            Assert.Equal("nft 'delete table inet wgtroubleshoot_wg_0'", r.PostDown);
            Assert.DoesNotContain("#", r.PostUp);
        }

        [Fact]
        public void Nat_rules_for_iptables()
        {
            var r = NatRules.ForIptables("wg0", new[] { "192.0.2.0/26" }, "ens3");
            Assert.StartsWith("iptables -t nat -A POSTROUTING -s 192.0.2.0/26 -o ens3 -j MASQUERADE", r.PostUp);
            Assert.Contains("iptables -t nat -D POSTROUTING", r.PostDown);
            Assert.Equal("-C", r.Check[0][3]);
        }
    }

    public class MtuValidationTests
    {
        [Theory]
        [InlineData(1279, new[] { "192.0.2.2/26", "2001:db8::2/64" }, false)]
        [InlineData(1280, new[] { "192.0.2.2/26", "2001:db8::2/64" }, true)]
        [InlineData(576, new[] { "192.0.2.2/26" }, true)]
        [InlineData(575, new[] { "192.0.2.2/26" }, false)]
        [InlineData(65536, new[] { "192.0.2.2/26" }, false)]
        public void Ranges(int mtu, string[] addresses, bool ok)
        {
            var ex = Record.Exception(() => WgTroubleshoot.Mtu.MtuRepair.Validate("wg0", mtu, addresses));
            if (ok) Assert.Null(ex);
            else Assert.Equal(ErrorIds.InvalidMtu, Assert.IsType<WgException>(ex).ErrorId);
        }
    }
}
