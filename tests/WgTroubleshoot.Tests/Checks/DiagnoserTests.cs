using System;
using System.Collections.Generic;
using System.Linq;
using WgTroubleshoot.Checks;
using WgTroubleshoot.Snapshot;
using Xunit;

namespace WgTroubleshoot.Tests.Checks
{
    /// <summary>The engine's rules on hand-built snapshots: unknown sources, the fold, suppression, the summary.</summary>
    public class DiagnoserTests
    {
        internal static string Key(int n) => Convert.ToBase64String(BitConverter.GetBytes(n).Concat(new byte[28]).ToArray());

        /// <summary>A server (listen port, peers without endpoint) with <paramref name="peers"/> clients that never connected.</summary>
        internal static HostSnapshot Server(int peers, bool forwarding = true)
        {
            var t0 = new DateTime(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc);
            WgSample Sample(DateTime t) => new WgSample
            {
                Taken = t,
                Interface = new WgInterface { Name = "wg0", PublicKey = Key(-1), ListenPort = 51820, IsUp = true, LinkState = "Up", Mtu = 1420, Addresses = new[] { "10.0.0.1/24" } },
                Peers = Enumerable.Range(0, peers).Select(i => new WgPeer { Interface = "wg0", PublicKey = Key(i), Name = "client" + i, AllowedIPs = new[] { $"10.0.{i / 250}.{i % 250 + 2}/32" } }).ToList(),
            };
            var snap = new HostSnapshot { Platform = "Linux", Elevated = true, CollectedAt = t0, CompletedAt = t0.AddSeconds(4) };
            snap.Interfaces.Add(new InterfaceSnapshot { Name = "wg0", Samples = { Sample(t0), Sample(t0.AddSeconds(3)) } });
            snap.Links.Add(new LinkSnapshot { Name = "eth0", AdminUp = true, LowerUp = true, State = "Up", Addresses = { "192.0.2.10/24" } });
            snap.Routes.DefaultDevice = "eth0";
            snap.Sysctls.Runtime["net.ipv4.ip_forward"] = forwarding ? "1" : "0";
            snap.Sysctls.Persistent["net.ipv4.ip_forward"] = new WgTroubleshoot.Forwarding.SysctlSetting { Key = "net.ipv4.ip_forward", Value = forwarding ? "1" : "0", File = "/etc/sysctl.d/99-x.conf", Line = 1 };
            snap.Netfilter.Backends.Add(new NetfilterBackend { Name = "nftables", Tool = "nft", Text = "table ip nat {\n\tchain postrouting {\n\t\ttype nat hook postrouting priority srcnat; policy accept;\n\t\tip saddr 10.0.0.0/24 oifname \"eth0\" masquerade\n\t}\n}\n" });
            foreach (var n in new[] { SourceNames.WgState, SourceNames.Links, SourceNames.Netfilter, SourceNames.Sysctls, SourceNames.Routes })
                snap.Sources.Add(new SourceStatus { Name = n });
            return snap;
        }

        [Fact]
        public void AHealthyIdleServerIsHealthyWithOneFoldedInfo()
        {
            var f = new Diagnoser().Diagnose(Server(5));
            Assert.Equal("Healthy", f[0].Cause);
            var folded = f.Single(x => x.Cause == "UpstreamFilter");
            Assert.Equal(5, folded.Peers.Length);
            Assert.Contains("5 peers of wg0 (client0, client1, client2 and 2 more)", folded.Summary);
            Assert.DoesNotContain(f, x => Diagnoser.Rank(x.Severity) > 0);
        }

        [Fact]
        public void AFoldedFindingKeepsEveryPeersKey()
        {
            var f = new Diagnoser().Diagnose(Server(1000));
            var folded = f.Single(x => x.Cause == "UpstreamFilter");
            Assert.Equal(Enumerable.Range(0, 1000).Select(Key), folded.Peers);
            Assert.Null(folded.Peer);
        }

        [Fact]
        public void ASinglePeerIsNotFolded()
        {
            var f = new Diagnoser().Diagnose(Server(1));
            var one = f.Single(x => x.Cause == "UpstreamFilter");
            Assert.Equal(Key(0), one.Peer);
            Assert.Empty(one.Peers);
            Assert.Equal("client0", one.PeerName);
        }

        [Fact]
        public void AnUnreadableFirewallIsAWarningThatNamesTheChecksNotAHealthyResult()
        {
            var snap = Server(1);
            snap.Sources.RemoveAll(s => s.Name == SourceNames.Netfilter);
            snap.Sources.Add(new SourceStatus { Name = SourceNames.Netfilter, State = "Failed", ErrorId = ErrorIds.ToolFailed, Message = "'nft list ruleset' exited with 126" });
            var f = new Diagnoser().Diagnose(snap);
            var notRun = f.Single(x => x.Cause == "CheckNotRun");
            Assert.Equal("Warning", notRun.Severity);
            Assert.Contains("FirewallInput", notRun.Summary);
            Assert.Contains("NatForwardPath", notRun.Summary);
            Assert.Contains("exited with 126", notRun.Summary);
            Assert.DoesNotContain(f, x => x.Cause == "Healthy");
            Assert.Equal("CheckNotRun", f[0].Cause);
        }

        [Fact]
        public void ForwardingOffIsStillReportedWhenTheFirewallIsUnknown()
        {
            var snap = Server(1, forwarding: false);
            snap.Sources.RemoveAll(s => s.Name == SourceNames.Netfilter);
            snap.Sources.Add(new SourceStatus { Name = SourceNames.Netfilter, State = "Unavailable", ErrorId = ErrorIds.ToolNotInstalled, Message = "nft is missing" });
            var f = new Diagnoser().Diagnose(snap);
            Assert.Contains(f, x => x.Cause == "ForwardingDisabled" && x.Severity == "Warning");
            Assert.Contains(f, x => x.Cause == "CheckNotRun");
        }

        [Fact]
        public void TheMasqueradeRuleIsFoundAndItsAbsenceIsNatMissing()
        {
            Assert.DoesNotContain(new Diagnoser().Diagnose(Server(1)), x => x.Cause == "NatMissing");
            var snap = Server(1);
            snap.Netfilter.Backends.Clear();
            var f = new Diagnoser().Diagnose(snap);
            Assert.Equal("NatMissing", f[0].Cause);
            Assert.True(f[0].CanRepair);
        }

        [Fact]
        public void ALinkDownSuppressesEverythingButConfigFindings()
        {
            var snap = Server(3, forwarding: false);
            foreach (var s in snap.Interfaces[0].Samples) s.Interface.IsUp = false;
            var f = new Diagnoser().Diagnose(snap);
            Assert.Equal("InterfaceDown", f[0].Cause);
            Assert.DoesNotContain(f, x => x.Cause == "ForwardingDisabled" || x.Cause == "UpstreamFilter" || x.Cause == "Healthy");
        }

        [Fact]
        public void TheCatalogDeclaresEachCheckOnceAndEveryNeedIsAKnownSource()
        {
            var names = CheckCatalog.Checks.Select(c => c.Name).ToList();
            Assert.Equal(names.Count, names.Distinct().Count());
            var sources = typeof(SourceNames).GetFields().Select(f => (string)f.GetValue(null)).ToList();
            Assert.All(CheckCatalog.Checks.SelectMany(c => c.Needs), n => Assert.Contains(n, sources));
        }
    }
}
