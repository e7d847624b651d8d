using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using WgTroubleshoot.Checks;
using WgTroubleshoot.Snapshot;
using Xunit;

namespace WgTroubleshoot.Tests.Checks
{
    /// <summary>
    /// Snapshots recorded in the lab (tests/lab/Record-Snapshots.ps1 -Fault StaleConntrack,CheckNotRun;
    /// Record-PeerSnapshots.ps1 -Case SharedKeyPair) replayed without root: the Cause, its side, the evidence that
    /// decided, and that the same snapshot without the deciding fact does not give it (the check follows the fact).
    /// </summary>
    public class FieldFaultReplayTests
    {
        private static string Fixture(params string[] parts) => Path.Combine(new[] { AppContext.BaseDirectory, "Corpus", "snapshots" }.Concat(parts).ToArray());

        [Fact]
        public void StaleConntrack_replays_to_the_entry_and_the_egress_link()
        {
            var findings = HostDiagnosis.Replay(Fixture("StaleConntrack-client.json"));
            var top = findings[0];
            Assert.Equal("StaleConntrack", top.Cause);
            Assert.Equal("Error", top.Severity);
            Assert.StartsWith("wgc", top.Interface, StringComparison.Ordinal);
            Assert.Contains(top.Evidence, e => e.StartsWith("conntrack: udp", StringComparison.Ordinal) && e.Contains("sport=51822 dport=51820") && e.Contains("dst=198.51.100.3 "));
            Assert.Contains(top.Evidence, e => e.Contains("leaves by eth0") && e.Contains("whose addresses are 198.51.100.2"));
            Assert.True(top.CanRepair);
            Assert.Contains("OrigSport=51822", top.RepairData);
            Assert.Contains("OrigDst=203.0.113.2", top.RepairData);
            Assert.Contains("--sport 51822 --dport 51820", top.Remediation);
            Assert.DoesNotContain(findings, f => f.Cause == "KeyMismatch" || f.Cause == "Healthy");
        }

        [Fact]
        public void StaleConntrack_is_not_raised_when_the_mapped_address_is_on_the_egress_link()
        {
            var snap = SnapshotJson.ReadFile(Fixture("StaleConntrack-client.json"));
            var eth0 = snap.Link("eth0");
            Assert.NotNull(eth0);
            eth0.Addresses = eth0.Addresses.Concat(new[] { "198.51.100.3/25" }).ToList();
            Assert.DoesNotContain(new Diagnoser().Diagnose(snap), f => f.Cause == "StaleConntrack");
        }

        [Fact]
        public void CheckNotRun_replays_above_info_naming_the_checks_and_the_source_error()
        {
            var snap = SnapshotJson.ReadFile(Fixture("CheckNotRun-server.json"));
            var st = snap.Source(SourceNames.Netfilter);
            Assert.True(st.IsUnknown);
            Assert.Contains("nft list ruleset", st.Message);
            var findings = new Diagnoser().Diagnose(snap);
            var n = findings.First(f => f.Cause == "CheckNotRun");
            Assert.Equal("Warning", n.Severity);
            Assert.Equal(n, findings[0]);
            Assert.Contains("FirewallInput", n.Summary);
            Assert.Contains(n.Evidence, e => e.StartsWith("Source netfilter: Unavailable", StringComparison.Ordinal));
            Assert.Contains(n.Evidence, e => e == "Not judged: FirewallInput (needs wg, netfilter)");
            Assert.DoesNotContain(findings, f => f.Cause == "Healthy");
            Assert.DoesNotContain(findings.SelectMany(f => f.Evidence ?? new string[0]), e => e.Contains("No local firewall blocks the port"));
        }

        [Fact]
        public void The_same_server_with_its_firewall_read_is_not_CheckNotRun()
        {
            // The source marked as read, with the fault's ruleset as nft prints it: the port drop is named instead.
            var snap = SnapshotJson.ReadFile(Fixture("CheckNotRun-server.json"));
            foreach (var s in snap.Sources.Where(s => s.Name == SourceNames.Netfilter || s.Name == SourceNames.Netfilter + ":nftables"))
            {
                s.State = nameof(SourceState.Ok); s.ErrorId = null; s.Message = null;
            }
            var nft = snap.Netfilter.Backends.FirstOrDefault(b => b.Name == "nftables");
            if (nft == null) snap.Netfilter.Backends.Add(nft = new NetfilterBackend { Name = "nftables", Tool = "nft" });
            nft.Text = "table inet wgtfault_port {\n\tchain input {\n\t\ttype filter hook input priority filter; policy accept;\n\t\tudp dport 51820 drop\n\t}\n}\n";
            var findings = new Diagnoser().Diagnose(snap);
            Assert.DoesNotContain(findings, f => f.Cause == "CheckNotRun" && f.Summary.Contains("netfilter"));
            Assert.Equal("FirewallBlocksPort", findings[0].Cause);
        }

        [Fact]
        public void SharedKeyPair_replays_from_the_endpoints_the_sample_read()
        {
            var path = Fixture("peer", "SharedKeyPair-server.json");
            var snap = SnapshotJson.ReadFile(path);
            var r = snap.Interfaces[0].EndpointReadings.Single(e => e.Endpoints.Distinct().Count() > 1);
            var findings = HostDiagnosis.Replay(path);
            var k = Assert.Single(findings, f => f.Cause == "SharedKeyPair");
            Assert.Equal(findings[0], k);
            Assert.Equal("Warning", k.Severity);
            Assert.Equal(r.Peer, k.Peer);
            Assert.False(k.CanRepair);
            Assert.Contains(k.Evidence, e => e.Contains($"Live endpoint in {r.Reads} reads") && e.Contains(string.Join(" -> ", r.Endpoints)));
        }

        [Fact]
        public void One_move_of_the_endpoint_is_roaming_not_SharedKeyPair()
        {
            var snap = SnapshotJson.ReadFile(Fixture("peer", "SharedKeyPair-server.json"));
            var r = snap.Interfaces[0].EndpointReadings.Single(e => e.Endpoints.Distinct().Count() > 1);
            r.Endpoints = r.Endpoints.Take(2).ToList();
            Assert.DoesNotContain(new Diagnoser().Diagnose(snap), f => f.Cause == "SharedKeyPair");
        }

        [Fact]
        public void The_new_fixtures_hold_no_key_but_public_ones()
        {
            foreach (var p in new[] { Fixture("StaleConntrack-client.json"), Fixture("CheckNotRun-server.json"), Fixture("peer", "SharedKeyPair-server.json") })
            {
                var text = File.ReadAllText(p);
                var snap = SnapshotJson.Read(text);
                var publicKeys = new HashSet<string>(snap.Interfaces.SelectMany(i => i.Samples).SelectMany(s => new[] { s.Interface.PublicKey }.Concat(s.Peers.Select(x => x.PublicKey))).Where(k => k != null), StringComparer.Ordinal);
                foreach (var c in snap.Interfaces.Select(i => i.Config).Where(c => c != null)) foreach (var k in new[] { c.PublicKey }.Concat(c.Peers.Select(x => x.PublicKey))) if (k != null) publicKeys.Add(k);
                Assert.NotEmpty(publicKeys);
                foreach (System.Text.RegularExpressions.Match m in System.Text.RegularExpressions.Regex.Matches(text, @"[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]="))
                    Assert.True(publicKeys.Contains(m.Value), $"{Path.GetFileName(p)}: a 32-byte base64 value that is not a public key");
                Assert.DoesNotMatch("\"(PrivateKey|PresharedKey)\"\\s*:", text);
            }
        }
    }
}
