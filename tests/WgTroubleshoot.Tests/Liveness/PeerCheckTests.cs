using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using WgTroubleshoot.Checks;
using WgTroubleshoot.Liveness;
using WgTroubleshoot.Snapshot;
using Xunit;

namespace WgTroubleshoot.Tests.Liveness
{
    public class PeerCheckTests
    {
        private static WgPeer Live(string key, string endpoint, string allowed, int? age = 30)
            => new WgPeer
            {
                Interface = "wg0", PublicKey = key, Endpoint = endpoint, AllowedIPs = allowed.Split(','),
                LatestHandshake = age.HasValue ? DateTime.UtcNow.AddSeconds(-age.Value) : (DateTime?)null,
                HandshakeAge = age.HasValue ? TimeSpan.FromSeconds(age.Value) : (TimeSpan?)null,
            };

        [Fact]
        public void RouteIntoTheTunnelWithoutFwmarkIsTheCause()
        {
            var f = new PeerFacts { Interface = "wg0", FwMark = "off", LivePeers = { Live("S", "203.0.113.2:51820", "0.0.0.0/0") } };
            f.EndpointRoutes["S"] = new RouteFact { Destination = "203.0.113.2", Success = true, Text = "203.0.113.2 dev wg0 src 192.0.2.2 uid 0\n    cache\n" };
            var r = new EndpointRoutedIntoTunnelCheck().Judge(f, new HashSet<string>()).Single();
            Assert.Equal(nameof(Cause.EndpointRoutedIntoTunnel), r.Cause);
            Assert.Contains("ip route get 203.0.113.2: 203.0.113.2 dev wg0", r.Evidence[0]);
        }

        [Fact]
        public void WgQuickFullTunnelWithFwmarkIsNotALoop()
        {
            var f = new PeerFacts { Interface = "wg0", FwMark = "0xca6c", LivePeers = { Live("S", "203.0.113.2:51820", "0.0.0.0/0") } };
            f.EndpointRoutes["S"] = new RouteFact { Destination = "203.0.113.2", Success = true, Text = "203.0.113.2 dev wg0 table 51820 src 192.0.2.2 uid 0" };
            Assert.Empty(new EndpointRoutedIntoTunnelCheck().Judge(f, new HashSet<string>()));
        }

        [Fact]
        public void NoRouteOfTheWholeFamilyIsAddressFamilyMismatch()
        {
            var f = new PeerFacts { Interface = "wg0", Route4 = "ip -4 route show default: default via 198.51.100.1 dev eth0", LivePeers = { Live("S", "[2001:db8:200::2]:51820", "0.0.0.0/0", null) } };
            f.EndpointRoutes["S"] = new RouteFact { Destination = "2001:db8:200::2", Success = false, Text = "no route" };
            var r = new AddressFamilyMismatchCheck().Judge(f, new HashSet<string>()).Single();
            Assert.Equal(nameof(Cause.AddressFamilyMismatch), r.Cause);
            Assert.Contains(r.Evidence, e => e.Contains("IPv4 routes here: ip -4 route show default: default via 198.51.100.1 dev eth0"));
            // with an IPv6 default route, one unreachable address is not a family problem
            f.Route6 = "ip -6 route show default: default via 2001:db8:1::1 dev eth0";
            Assert.Empty(new AddressFamilyMismatchCheck().Judge(f, new HashSet<string>()));
        }

        [Fact]
        public void APrefixTakenByAnotherPeerIsAConflict()
        {
            var f = new PeerFacts
            {
                Interface = "wg0",
                LivePeers = { Live("A", null, "2001:db8:100::2/128"), Live("B", null, "192.0.2.2/32") },
                ConfiguredPeers =
                {
                    new ConfiguredPeer { PublicKey = "A", Name = "laptop", AllowedIPs = new[] { "192.0.2.2/32", "2001:db8:100::2/128" } },
                    new ConfiguredPeer { PublicKey = "B", Name = "phone", AllowedIPs = new[] { "192.0.2.2" } },
                },
            };
            var r = new AllowedIpsConflictCheck().Judge(f, new HashSet<string>()).Single();
            Assert.Equal("A", r.Peer);
            Assert.Contains("192.0.2.2/32 is configured for laptop but live on phone", r.Summary);
        }

        [Fact]
        public void LiveAllowedIpsAsConfiguredAreNoConflict()
        {
            var f = new PeerFacts { Interface = "wg0", LivePeers = { Live("A", null, "192.0.2.2/32") }, ConfiguredPeers = { new ConfiguredPeer { PublicKey = "A", AllowedIPs = new[] { "192.0.2.2/32" } } } };
            Assert.Empty(new AllowedIpsConflictCheck().Judge(f, new HashSet<string>()));
        }

        [Theory]
        [InlineData(new[] { "198.51.100.2:4000", "198.51.100.2:4000", "198.51.100.2:5000", "198.51.100.2:4000" }, true)]
        [InlineData(new[] { "198.51.100.2:4000", "198.51.100.9:4000", "198.51.100.9:4000" }, false)]   // roaming once
        [InlineData(new[] { "198.51.100.2:4000", "198.51.100.2:4000" }, false)]
        public void OnlyAnEndpointThatFlipsBackIsASharedKeyPair(string[] seen, bool shared)
        {
            var f = new PeerFacts { Interface = "wg0", EndpointSampleSeconds = 3 };
            f.EndpointSamples["K"] = seen.ToList();
            Assert.Equal(shared, new SharedKeyPairCheck().Judge(f, new HashSet<string>()).Any());
        }

        [Fact]
        public void ListenPortOwnedByAnotherProgram()
        {
            var f = new PeerFacts { Interface = "wg0", ConfiguredListenPort = 51820, LiveListenPort = 51830, ListenPortSockets = "UNCONN 0 0 0.0.0.0:51820 0.0.0.0:* users:((\"socat\",pid=4242,fd=5))\n" };
            var r = new ListenPortInUseCheck().Judge(f, new HashSet<string>()).Single();
            Assert.Contains("socat pid 4242", r.Evidence[0]);
            f.LiveListenPort = 51820;
            Assert.Empty(new ListenPortInUseCheck().Judge(f, new HashSet<string>()));
        }

        [Fact]
        public void DnsWithoutResolvconf()
        {
            var f = new PeerFacts { Interface = "wg0", ConfiguredDns = new[] { "192.0.2.1" }, ResolvconfAvailable = false };
            Assert.Equal(nameof(Cause.ResolverMissing), new ResolverMissingCheck().Judge(f, new HashSet<string>()).Single().Cause);
            f.ResolvconfAvailable = true;
            Assert.Empty(new ResolverMissingCheck().Judge(f, new HashSet<string>()));
        }

        private static HandshakeResult Fresh(long tx, long rx)
            => new HandshakeResult { Peer = "S", Status = nameof(HandshakeStatus.Healthy), TxDelta = tx, RxDelta = rx, OneWay = tx > 0 && rx == 0, Reason = "Latest handshake 20 seconds ago. But 96 bytes were sent and nothing was received in 3 s: traffic is one-way." };

        [Fact]
        public void ALoneKeepaliveIsNeverOneWay()
        {
            var hs = new Dictionary<string, HandshakeResult> { ["S"] = Fresh(96, 0) };
            ProbeVerdict.Apply(hs, new ProbeResult[0], true);
            Assert.False(hs["S"].OneWay);
            Assert.DoesNotContain("one-way", hs["S"].Reason);
        }

        [Fact]
        public void AnUnansweredProbeIsOneWayAndAnAnsweredOneIsNot()
        {
            var hs = new Dictionary<string, HandshakeResult> { ["S"] = Fresh(96, 0) };
            ProbeVerdict.Apply(hs, new[] { new ProbeResult { Peer = "S", WasSent = true, Sent = "echo", Route = "r", RxBefore = 10, RxAfter = 10, WaitedSeconds = 11 } }, true);
            Assert.True(hs["S"].OneWay);
            Assert.Contains("nothing came back", hs["S"].Reason);
            hs = new Dictionary<string, HandshakeResult> { ["S"] = Fresh(96, 0) };
            ProbeVerdict.Apply(hs, new[] { new ProbeResult { Peer = "S", WasSent = true, Sent = "echo", Route = "r", RxBefore = 10, RxAfter = 138, WaitedSeconds = 0.3 } }, true);
            Assert.False(hs["S"].OneWay);
        }

        [Fact]
        public void TwoWayCountersNeedNoProbe()
        {
            Assert.False(ProbeVerdict.NeedsProbe(Fresh(500, 400), true));
            Assert.True(ProbeVerdict.NeedsProbe(Fresh(96, 0), true));
            Assert.True(ProbeVerdict.NeedsProbe(Fresh(0, 0), true));
            Assert.False(ProbeVerdict.NeedsProbe(new HandshakeResult { Status = nameof(HandshakeStatus.Idle) }, true));
        }

        [Fact]
        public void FreshHandshakeWithoutAnswerFromAnInitiatedPeerIsAnError()
        {
            var f = new PeerFacts { Interface = "wg0", LivePeers = { Live("S", "203.0.113.2:51820", "192.0.2.0/26") } };
            f.ConfiguredPeers.Add(new ConfiguredPeer { PublicKey = "S", Endpoint = "203.0.113.2:51820", AllowedIPs = new[] { "192.0.2.0/26" } });
            var h = Fresh(96, 0); h.OneWay = true; f.Handshakes["S"] = h;
            f.Probes["S"] = new ProbeResult { Peer = "S", WasSent = true, Sent = "echo", Route = "r", RxBefore = 10, RxAfter = 10, WaitedSeconds = 11 };
            var r = new LivenessCheck().Judge(f, new HashSet<string>()).Single();
            Assert.Equal(nameof(Cause.EndpointUnreachable), r.Cause);
            Assert.Equal("Error", r.Severity);
            // a roaming client (no Endpoint configured) that stopped answering is only Info
            f.ConfiguredPeers[0].Endpoint = null;
            Assert.Equal("Info", new LivenessCheck().Judge(f, new HashSet<string>()).Single().Severity);
        }
    }

    /// <summary>Recorded lab snapshots (tests/lab/Record-PeerSnapshots.ps1) replayed through the whole catalog.</summary>
    public class PeerSnapshotReplayTests
    {
        public static IEnumerable<object[]> Fixtures()
        {
            var expected = new Dictionary<string, string>
            {
                ["EndpointRoutedIntoTunnel-client"] = "EndpointRoutedIntoTunnel",
                ["EndpointAaaaOnly-client"] = "AddressFamilyMismatch",
                ["EndpointBlackholed-client"] = "EndpointUnreachable",
                ["DdnsMovedFreshHandshake-client"] = "StaleEndpoint",
                ["AllowedIpsConflict-server"] = "AllowedIpsConflict",
                ["ListenPortInUse-server"] = "ListenPortInUse",
                ["PresharedKeyMismatch-client"] = "PresharedKeyMismatch",
                ["ResolverMissing-client"] = "ResolverMissing",
                ["SharedKeyPair-server"] = "SharedKeyPair",
                ["IdleKeepalive1-client"] = "Healthy",
                ["IdleKeepalive1-server"] = "Healthy",
            };
            foreach (var kv in expected) yield return new object[] { kv.Key, kv.Value };
        }

        private static string PathOf(string name) => Path.Combine(AppContext.BaseDirectory, "Corpus", "snapshots", "peer", name + ".json");

        [Theory]
        [MemberData(nameof(Fixtures))]
        public void ReplayNamesTheCause(string fixture, string cause)
        {
            var path = PathOf(fixture);
            Assert.True(File.Exists(path), "missing fixture " + path);
            var findings = HostDiagnosis.Replay(path);
            Assert.Equal(cause, findings[0].Cause);
            if (cause == "Healthy") Assert.DoesNotContain(findings, f => f.Severity != "Info");
            else Assert.NotEmpty(findings[0].Evidence);
        }

        // A recorded wireguard-go line (LOG_LEVEL=verbose): a clock cannot be made to go backwards in the lab.
        private const string ReplayLine = "2026-12-01T21:02:11+0000 vpn wireguard-go[812]: DEBUG: (wg0) 2026/12/01 21:02:11 peer(P0ve\u2026VrRU) - ConsumeMessageInitiation: handshake replay @ 2026-12-01 20:58:40.123456789 +0000 UTC";

        [Fact]
        public void AReplayLineIsParsed()
        {
            var e = WgTroubleshoot.Logs.WgLogParser.Parse(System.Text.RegularExpressions.Regex.Unescape(ReplayLine));
            Assert.Equal(WgLogEventType.HandshakeReplay, e.EventType);
            Assert.Equal("wg0", e.Interface);
        }

        [Fact]
        public void ReplaysInTheLogAreHandshakeReplayNotKeyMismatch()
        {
            var snap = SnapshotJson.ReadFile(PathOf("ListenPortInUse-server"));
            var i = snap.Interfaces[0];
            var e = WgTroubleshoot.Logs.WgLogParser.Parse(System.Text.RegularExpressions.Regex.Unescape(ReplayLine).Replace("(wg0)", "(" + i.Name + ")"));
            i.LogEvents.Add(e);
            var findings = new Diagnoser().Diagnose(snap);
            var r = Assert.Single(findings, f => f.Cause == nameof(Cause.HandshakeReplay));
            Assert.Equal("Error", r.Severity);
            Assert.Contains(r.Evidence, x => x.Contains("handshake replay"));
            Assert.DoesNotContain(findings, f => f.Cause == nameof(Cause.KeyMismatch));
        }

        [Fact]
        public void TheProbeIsRecordedAndReplayed()
        {
            var snap = SnapshotJson.ReadFile(PathOf("DdnsMovedFreshHandshake-client"));
            var probe = snap.Interfaces.SelectMany(i => i.Probes).Single();
            Assert.True(probe.WasSent);
            Assert.False(probe.Answered);
            var top = HostDiagnosis.Replay(PathOf("DdnsMovedFreshHandshake-client"))[0];
            Assert.Equal("Error", top.Severity);
            Assert.Contains(top.Evidence, e => e.Contains("Liveness probe: one ICMP echo"));
        }
    }
}
