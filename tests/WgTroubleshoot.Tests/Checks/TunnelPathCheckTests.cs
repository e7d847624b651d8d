using System;
using System.IO;
using System.Linq;
using WgTroubleshoot.Checks;
using WgTroubleshoot.Diagnosis;
using WgTroubleshoot.Remedies;
using WgTroubleshoot.Snapshot;
using WgTroubleshoot.Snapshot.Sources;
using Xunit;

namespace WgTroubleshoot.Tests.Checks
{
    /// <summary>
    /// MssClampMissing and LocalSubnetConflict, replayed from the snapshots the lab recorded (Record-Snapshots.ps1:
    /// MssClampMissing-server.json, LocalSubnetConflict-client.json), and the same snapshots changed one fact at a
    /// time: the verdict follows the measured SYN, MTU, clamp rule and route, not the lab's names.
    /// </summary>
    public class TunnelPathCheckTests
    {
        private static string Fixture(string name) => Path.Combine(AppContext.BaseDirectory, "Corpus", "snapshots", name);
        private static HostSnapshot Read(string name) => SnapshotJson.ReadFile(Fixture(name));
        private static System.Collections.Generic.List<Finding> Diagnose(HostSnapshot s) => new Diagnoser().Diagnose(s);

        [Fact]
        public void Mss_replays_to_the_cause_with_the_syn_the_route_and_the_missing_clamp_in_the_evidence()
        {
            var findings = HostDiagnosis.Replay(Fixture("MssClampMissing-server.json"));
            var top = findings[0];
            Assert.Equal("MssClampMissing", top.Cause);
            Assert.Equal("Warning", top.Severity);
            var ev = string.Join("\n", top.Evidence);
            Assert.Contains("with MSS 1380", ev);
            Assert.Contains("MTU 1400 (link)", ev);
            Assert.Contains("an MSS up to 1360 fits", ev);
            Assert.Contains("ip route get 192.0.2.130 from 192.0.2.2 iif ", ev);
            Assert.Contains("No MSS clamp rule", ev);
            Assert.True(top.CanRepair);
            Assert.Contains("Backend=nftables", top.RepairData);
            var plan = RemedyCatalog.Plan(FindingRef.From(top), out var refusal);
            Assert.True(plan != null, refusal);
            Assert.Contains("clamp-mss-to-pmtu", plan.Display);
        }

        [Fact]
        public void Mss_is_not_found_when_the_link_out_fits_the_syn()
        {
            var s = Read("MssClampMissing-server.json");
            var i = s.Interfaces[0];
            s.Link(i.ForwardRoutes[0].Device).Mtu = 1500;
            Assert.DoesNotContain(Diagnose(s), f => f.Cause == "MssClampMissing");
        }

        [Fact]
        public void Mss_is_not_found_when_the_syns_already_carry_a_small_enough_mss()
        {
            var s = Read("MssClampMissing-server.json");
            foreach (var x in s.Interfaces[0].Syns.Syns) x.Mss = 1360;
            Assert.DoesNotContain(Diagnose(s), f => f.Cause == "MssClampMissing");
        }

        [Fact]
        public void Mss_a_route_mtu_lower_than_the_link_decides()
        {
            var s = Read("MssClampMissing-server.json");
            var i = s.Interfaces[0];
            s.Link(i.ForwardRoutes[0].Device).Mtu = 1500;
            i.ForwardRoutes[0].Mtu = 1380;
            var top = Diagnose(s).First(f => f.Cause == "MssClampMissing");
            Assert.Contains("MTU 1380 (route)", string.Join("\n", top.Evidence));
        }

        [Theory]
        [InlineData("nftables", "table inet mine {\n\tchain fwd {\n\t\ttype filter hook forward priority mangle; policy accept;\n\t\ttcp flags syn / syn,rst tcp option maxseg size set rt mtu\n\t}\n}\n", false)]
        [InlineData("iptables-nft", "*mangle\n:FORWARD ACCEPT [0:0]\n-A FORWARD -p tcp -m tcp --tcp-flags SYN,RST SYN -j TCPMSS --clamp-mss-to-pmtu\nCOMMIT\n", false)]
        [InlineData("iptables-legacy", "*mangle\n:FORWARD ACCEPT [0:0]\n-A FORWARD -p tcp -m tcp --tcp-flags SYN,RST SYN -j TCPMSS --set-mss 1300\nCOMMIT\n", false)]
        [InlineData("iptables-legacy", "*mangle\n:FORWARD ACCEPT [0:0]\n-A FORWARD -p tcp -m tcp --tcp-flags SYN,RST SYN -j TCPMSS --set-mss 1370\nCOMMIT\n", true)]
        [InlineData("iptables-nft", "*mangle\n:FORWARD ACCEPT [0:0]\n-A FORWARD -o eth9 -p tcp -m tcp --tcp-flags SYN,RST SYN -j TCPMSS --clamp-mss-to-pmtu\nCOMMIT\n", true)]
        [InlineData("nftables", "table inet mine {\n\tchain in {\n\t\ttype filter hook input priority 0; policy accept;\n\t\ttcp option maxseg size set rt mtu\n\t}\n}\n", true)]
        public void Mss_a_clamp_rule_that_covers_the_syns_removes_the_finding(string backend, string text, bool stillFound)
        {
            var s = Read("MssClampMissing-server.json");
            var b = s.Netfilter.Backend(backend);
            b.Text = (b.Text ?? "") + "\n" + text;
            Assert.Equal(stillFound, Diagnose(s).Any(f => f.Cause == "MssClampMissing"));
        }

        [Fact]
        public void Mss_when_the_tunnel_mtu_is_the_limit_a_clamp_to_the_route_out_is_not_enough()
        {
            // The server's tunnel is smaller than its clients' (1380 here, the clients announce 1380 + 40), the route out is 1500.
            var s = Read("MssClampMissing-server.json");
            var i = s.Interfaces[0];
            foreach (var smp in i.Samples) smp.Interface.Mtu = 1380;
            s.Link(i.ForwardRoutes[0].Device).Mtu = 1500;
            var top = Diagnose(s).First(f => f.Cause == "MssClampMissing");
            Assert.Contains("Mss=1340", top.RepairData);
            Assert.Contains("--set-mss 1340", top.Remediation);
            var b = s.Netfilter.Backend("iptables-nft");
            b.Text = (b.Text ?? "") + "\n*mangle\n-A FORWARD -p tcp -m tcp --tcp-flags SYN,RST SYN -j TCPMSS --clamp-mss-to-pmtu\nCOMMIT\n";
            Assert.Contains(Diagnose(s), f => f.Cause == "MssClampMissing");
            b.Text += $"*mangle\n-A FORWARD -i {i.Name} -p tcp -m tcp --tcp-flags SYN,RST SYN -m tcpmss --mss 1341:65535 -j TCPMSS --set-mss 1340\nCOMMIT\n";
            Assert.DoesNotContain(Diagnose(s), f => f.Cause == "MssClampMissing");
            var rules = MssClampRules.Find(s.Netfilter);
            Assert.True(WgTroubleshoot.PathFaults.MssClampRepair.Clamped(rules, i.Name, 1340));
            Assert.False(WgTroubleshoot.PathFaults.MssClampRepair.Clamped(rules, i.Name, 1300));
        }

        [Fact]
        public void Mss_a_syn_to_this_host_itself_is_not_forwarded_and_not_judged()
        {
            var s = Read("MssClampMissing-server.json");
            var r = s.Interfaces[0].ForwardRoutes[0];
            r.Type = "local"; r.Device = "lo";
            Assert.DoesNotContain(Diagnose(s), f => f.Cause == "MssClampMissing");
        }

        [Fact]
        public void Mss_a_capture_that_could_not_run_is_said_above_info()
        {
            var s = Read("MssClampMissing-server.json");
            var i = s.Interfaces[0];
            i.Syns = null;
            var st = s.Sources.First(x => x.Name == TcpSynSource.SourceName && x.Interface == i.Name);
            st.State = nameof(SourceState.Unavailable); st.ErrorId = "ToolNotInstalled"; st.Message = "tcpdump is not installed";
            var d = Diagnose(s);
            Assert.DoesNotContain(d, f => f.Cause == "MssClampMissing");
            var notRun = d.Single(f => f.Cause == "CheckNotRun" && f.Summary.Contains(MssClampCheck.CheckName));
            Assert.Equal("Warning", notRun.Severity);
        }

        [Theory]
        [InlineData("Healthy-server.json")]
        [InlineData("Healthy-client.json")]
        public void Neither_cause_on_the_healthy_lab(string file)
        {
            var d = HostDiagnosis.Replay(Fixture(file));
            Assert.DoesNotContain(d, f => f.Cause == "MssClampMissing" || f.Cause == "LocalSubnetConflict");
        }

        [Fact]
        public void Subnet_replays_to_the_cause_with_the_route_that_leaves_by_the_lan()
        {
            var findings = HostDiagnosis.Replay(Fixture("LocalSubnetConflict-client.json"));
            var top = findings[0];
            Assert.Equal("LocalSubnetConflict", top.Cause);
            Assert.Equal("Error", top.Severity);
            Assert.False(top.CanRepair);
            Assert.NotNull(top.Peer);
            var ev = string.Join("\n", top.Evidence);
            Assert.Contains("AllowedIPs 192.0.2.128/25 is inside 192.0.2.128/25 (192.0.2.140/25 on wga", ev);
            Assert.Contains("`ip route get 192.0.2.129`: 192.0.2.129 dev wga", ev);
            Assert.Null(RemedyCatalog.Plan(FindingRef.From(top), out _));
        }

        [Fact]
        public void Subnet_is_not_found_when_the_route_goes_into_the_tunnel()
        {
            var s = Read("LocalSubnetConflict-client.json");
            var l = s.Routes.Lookups.First(x => x.Destination == "192.0.2.129");
            l.Device = s.Interfaces[0].Name;
            Assert.DoesNotContain(Diagnose(s), f => f.Cause == "LocalSubnetConflict");
        }

        [Fact]
        public void Subnet_a_remote_prefix_wider_than_the_local_network_is_no_conflict()
        {
            // 192.0.2.140/26 on the LAN: the peer's 192.0.2.128/25 is not inside it (a LAN inside a wider remote range is normal)
            var s = Read("LocalSubnetConflict-client.json");
            var lan = s.Links.First(x => x.Addresses.Contains("192.0.2.140/25"));
            lan.Addresses = lan.Addresses.Select(a => a == "192.0.2.140/25" ? "192.0.2.140/26" : a).ToList();
            Assert.Empty(SubnetRouteSource.Overlaps(s, s.Interfaces[0]));
            Assert.DoesNotContain(Diagnose(s), f => f.Cause == "LocalSubnetConflict");
        }

        [Fact]
        public void Subnet_a_default_route_in_allowed_ips_is_never_compared()
        {
            var s = Read("LocalSubnetConflict-client.json");
            foreach (var smp in s.Interfaces[0].Samples) foreach (var p in smp.Peers) p.AllowedIPs = new[] { "0.0.0.0/0", "::/0" };
            Assert.Empty(SubnetRouteSource.Overlaps(s, s.Interfaces[0]));
        }

        [Theory]
        [InlineData("IP 192.0.2.2.46084 > 192.0.2.130.9: Flags [S], seq 3702389612, win 64860, options [mss 1380,sackOK,TS val 1 ecr 0,nop,wscale 10], length 0", "192.0.2.2", "192.0.2.130", 1380, false, false)]
        [InlineData("IP 192.0.2.2.5201 > 192.0.2.130.40000: Flags [S.], seq 1, ack 2, win 64308, options [mss 1460,sackOK,TS val 1 ecr 2,nop,wscale 7], length 0", "192.0.2.2", "192.0.2.130", 1460, true, false)]
        [InlineData("IP6 2001:db8:100::2.40000 > 2001:db8::5.443: Flags [S], seq 1, win 64800, options [mss 1360,sackOK,TS val 1 ecr 0,nop,wscale 7], length 0", "2001:db8:100::2", "2001:db8::5", 1360, false, true)]
        public void Syn_lines_are_read(string line, string src, string dst, int mss, bool ack, bool v6)
        {
            var s = SynLineParser.Parse(line);
            Assert.NotNull(s);
            Assert.Equal(src, s.Source); Assert.Equal(dst, s.Destination); Assert.Equal(mss, s.Mss); Assert.Equal(ack, s.Ack); Assert.Equal(v6, s.IPv6);
        }

        [Theory]
        [InlineData("IP 192.0.2.2.46084 > 192.0.2.130.9: Flags [R.], seq 0, ack 1, win 0, length 0")]
        [InlineData("IP 192.0.2.2.46084 > 192.0.2.130.9: Flags [S], seq 1, win 64860, length 0")]
        [InlineData("tcpdump: listening on wg0, link-type RAW (Raw IP)")]
        [InlineData("IP not.an.address.9 > 192.0.2.130.9: Flags [S], seq 1, options [mss 1380], length 0")]
        public void Other_lines_are_not_syns(string line) => Assert.Null(SynLineParser.Parse(line));

        [Fact]
        public void The_repair_is_refused_for_a_backend_it_does_not_know()
        {
            var f = new FindingRef { Cause = "MssClampMissing", Interface = "wg0", CanRepair = true, RepairData = new[] { "Interface=wg0", "Backend=ufw; rm -rf /" } };
            Assert.Null(RemedyCatalog.Plan(f, out var why));
            Assert.Contains("not valid", why);
        }

        [Fact]
        public void A_clamp_counts_as_present_only_in_both_directions_of_the_tunnel()
        {
            var both = MssClampRules.FromNft("nftables", "table inet t {\n chain forward {\n  type filter hook forward priority mangle; policy accept;\n  iifname \"wg0\" tcp flags syn / syn,rst tcp option maxseg size set rt mtu\n  oifname \"wg0\" tcp flags syn / syn,rst tcp option maxseg size set rt mtu\n }\n}\n").ToList();
            Assert.True(WgTroubleshoot.PathFaults.MssClampRepair.Clamped(both, "wg0"));
            Assert.False(WgTroubleshoot.PathFaults.MssClampRepair.Clamped(both.Take(1), "wg0"));
            Assert.False(WgTroubleshoot.PathFaults.MssClampRepair.Clamped(both, "wg1"));
            var all = MssClampRules.FromIptablesSave("iptables-nft", "*mangle\n-A FORWARD -p tcp -m tcp --tcp-flags SYN,RST SYN -j TCPMSS --clamp-mss-to-pmtu\nCOMMIT\n").ToList();
            Assert.True(WgTroubleshoot.PathFaults.MssClampRepair.Clamped(all, "wg0"));
        }
    }
}
