using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using WgTroubleshoot.Checks;
using WgTroubleshoot.Snapshot;
using Xunit;

namespace WgTroubleshoot.Tests.PathFaults
{
    /// <summary>
    /// Snapshots recorded in the lab by tests/lab/Record-PathSnapshots.ps1 (one per path fault, on the side where
    /// it shows, and the healthy lab on both sides), replayed without root: the top Cause is the one the lab gave.
    /// </summary>
    public class PathFaultReplayTests
    {
        private static string Fixture(string name) => Path.Combine(AppContext.BaseDirectory, "Corpus", "snapshots", name);

        public static IEnumerable<object[]> Cases => new[]
        {
            new object[] { "OutputDropsReplies-server.json", "FirewallBlocksReplies", "udp sport 51820" },
            new object[] { "DockerForwardDrop-server.json", "ForwardPathBlocked", "DOCKER-USER" },
            new object[] { "DockerForwardDropLegacy-server.json", "ForwardPathBlocked", "iptables-legacy" },
            new object[] { "UfwRoutedDrop-server.json", "ForwardPathBlocked", "ufw accepts forwarded ICMP" },
            new object[] { "TunnelInputBlocked-server.json", "TunnelInputBlocked", "policy drop of chain input (inet wgf_in)" },
            new object[] { "NatWrongInterface-server.json", "NatMissing", "names eth0, which is not the uplink ens3" },
            new object[] { "GatewayForwardingOff-server.json", "ForwardingDisabled", "net.ipv4.ip_forward" },
            new object[] { "ReversePathFilter-server.json", "ReversePathFilter", "rp_filter = 1" },
            new object[] { "ReversePathFilterNft-server.json", "ReversePathFilter", "fib saddr . iif oif missing" },
            new object[] { "HookRulesMissing-server.json", "HookRulesMissing", "iptables -t nat -A POSTROUTING" },
        };

        [Theory]
        [MemberData(nameof(Cases))]
        public void Replays_to_the_cause_the_lab_gave(string file, string cause, string evidence)
        {
            var findings = HostDiagnosis.Replay(Fixture(file));
            var top = findings.First();
            Assert.Equal(cause, top.Cause);
            Assert.NotEqual("Info", top.Severity);
            Assert.DoesNotContain(findings, f => f.Cause == "KeyMismatch");
            var text = top.Summary + " " + string.Join(" ", top.Evidence);
            Assert.Contains(evidence, text);
        }

        [Theory]
        [InlineData("Healthy-client.json")]
        [InlineData("Healthy-server.json")]
        public void The_healthy_lab_replays_to_no_finding_above_info(string file)
        {
            var findings = HostDiagnosis.Replay(Fixture(file));
            Assert.DoesNotContain(findings, f => f.Severity != "Info");
            Assert.Contains(findings, f => f.Cause == "Healthy");
        }

        [Fact]
        public void Without_the_output_drop_the_same_server_is_not_FirewallBlocksReplies()
        {
            // The fixture's nftables text, with its output chain removed: the check follows the rule, not the lab.
            var snap = SnapshotJson.ReadFile(Fixture("OutputDropsReplies-server.json"));
            var nft = snap.Netfilter.Backends.Single(b => b.Name == "nftables");
            nft.Text = System.Text.RegularExpressions.Regex.Replace(nft.Text, @"table inet wgf_out \{.*?\n\}\n", "", System.Text.RegularExpressions.RegexOptions.Singleline);
            var findings = new Diagnoser().Diagnose(snap);
            Assert.DoesNotContain(findings, f => f.Cause == "FirewallBlocksReplies");
        }

        [Fact]
        public void Loose_reverse_path_filtering_on_the_uplink_is_not_a_fault()
        {
            var snap = SnapshotJson.ReadFile(Fixture("ReversePathFilter-server.json"));
            snap.Sysctls.Runtime["net.ipv4.conf.ens3.rp_filter"] = "2";
            var findings = new Diagnoser().Diagnose(snap);
            Assert.DoesNotContain(findings, f => f.Cause == "ReversePathFilter");
        }

        [Fact]
        public void A_gateway_without_any_sign_of_routing_is_not_judged_for_forwarding()
        {
            // The same gateway with its masquerade gone and no hooks: nothing says it routes for its peers.
            var snap = SnapshotJson.ReadFile(Fixture("GatewayForwardingOff-server.json"));
            foreach (var b in snap.Netfilter.Backends.Where(b => b.Text != null))
                b.Text = string.Join("\n", b.Text.Split('\n').Where(l => l.IndexOf("masquerade", StringComparison.OrdinalIgnoreCase) < 0));
            var findings = new Diagnoser().Diagnose(snap);
            Assert.DoesNotContain(findings, f => f.Cause == "ForwardingDisabled");
        }
    }

    /// <summary>StaleConntrack from a snapshot built around a conntrack line recorded in the lab.</summary>
    public class StaleConntrackCheckTests
    {
        private static HostSnapshot Snapshot(string conntrackLine)
        {
            var snap = SnapshotJson.ReadFile(Path.Combine(AppContext.BaseDirectory, "Corpus", "snapshots", "Healthy-client.json"));
            var i = snap.Interfaces[0];
            foreach (var s in i.Samples) s.Interface.ListenPort = 51821;
            snap.Conntrack = new ConntrackState { Entries = WgTroubleshoot.PathFaults.ConntrackParser.Parse(conntrackLine) };
            return snap;
        }

        [Fact]
        public void A_mapping_to_an_address_that_is_not_on_the_egress_link_is_StaleConntrack()
        {
            var snap = Snapshot("udp      17 29 src=198.51.100.2 dst=203.0.113.2 sport=51821 dport=51820 src=203.0.113.2 dst=198.51.100.9 sport=51820 dport=51821 mark=0 use=1");
            var f = new Diagnoser().Diagnose(snap).First(x => x.Cause == "StaleConntrack");
            Assert.Contains("198.51.100.9", f.Summary);
            Assert.True(f.CanRepair);
            Assert.Contains("OrigSrc=198.51.100.2", f.RepairData);
            Assert.Contains("OrigSport=51821", f.RepairData);
            Assert.Contains(f.Evidence, e => e.StartsWith("conntrack: udp", StringComparison.Ordinal));
        }

        [Fact]
        public void A_flow_without_nat_or_mapped_to_a_current_address_is_not()
        {
            var plain = Snapshot("udp      17 118 src=198.51.100.2 dst=203.0.113.2 sport=51821 dport=51820 src=203.0.113.2 dst=198.51.100.2 sport=51820 dport=51821 [ASSURED] mark=0 use=1");
            Assert.DoesNotContain(new Diagnoser().Diagnose(plain), x => x.Cause == "StaleConntrack");
        }
    }
}
