using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Net;
using System.Net.Sockets;
using WgTroubleshoot.Checks;
using WgTroubleshoot.Diagnosis;
using WgTroubleshoot.Liveness;
using WgTroubleshoot.Snapshot;
using Xunit;

namespace WgTroubleshoot.Tests.Liveness
{
    /// <summary>
    /// AddressFamilyMismatch only when the host routes the other family; no route of either family is the no-route
    /// EndpointUnreachable (WGD305), with the failed lookup as evidence.
    /// </summary>
    public class EndpointFamilyTests
    {
        private static WgPeer Live(string key, string endpoint)
            => new WgPeer { Interface = "wg0", PublicKey = key, Endpoint = endpoint, AllowedIPs = new[] { "192.0.2.0/26" } };

        [Theory]
        [InlineData("[2001:db8:200::2]:51820", "2001:db8:200::2", "-6")]
        [InlineData("203.0.113.2:51820", "203.0.113.2", "-4")]
        public void NoRouteOfEitherFamilyIsNoRouteNotAFamilyMismatch(string endpoint, string address, string flag)
        {
            var f = new PeerFacts { Interface = "wg0", LivePeers = { Live("S", endpoint) } };
            f.EndpointRoutes["S"] = new RouteFact { Destination = address, Success = false, Text = "no route" };
            var r = new AddressFamilyMismatchCheck().Judge(f, new HashSet<string>()).Single();
            Assert.Equal(nameof(Cause.EndpointUnreachable), r.Cause);
            Assert.Equal(AddressFamilyMismatchCheck.NoRouteId, r.Id);
            Assert.Equal("Error", r.Severity);
            Assert.Contains(r.Evidence, e => e.Contains($"ip {flag} route get {address}: no route"));
            Assert.Contains(r.Evidence, e => e.Contains("No IPv4 and no IPv6 default route"));
        }

        [Fact]
        public void AnIPv4EndpointOnAnIPv6OnlyHostIsAFamilyMismatch()
        {
            var f = new PeerFacts { Interface = "wg0", Route6 = "ip -6 route show default: default via 2001:db8:1::1 dev eth0", LivePeers = { Live("S", "203.0.113.2:51820") } };
            f.EndpointRoutes["S"] = new RouteFact { Destination = "203.0.113.2", Success = false, Text = "no route" };
            var r = new AddressFamilyMismatchCheck().Judge(f, new HashSet<string>()).Single();
            Assert.Equal(nameof(Cause.AddressFamilyMismatch), r.Cause);
            Assert.Contains("is IPv4", r.Summary);
        }

        private static string Fixture(string name) => Path.Combine(AppContext.BaseDirectory, "Corpus", "snapshots", "peer", name + ".json");

        /// <summary>The recorded AAAA-only client with its IPv4 default route taken away: the host routes nothing now.</summary>
        private static HostSnapshot WithoutAnyRoute()
        {
            var snap = SnapshotJson.ReadFile(Fixture("EndpointAaaaOnly-client"));
            snap.Routes.DefaultDevice = null;
            snap.Routes.DefaultText = "";
            snap.Routes.DefaultDevice6 = null;
            snap.Routes.DefaultText6 = "";
            return snap;
        }

        [Fact]
        public void TheRecordedAaaaOnlyClientIsStillAFamilyMismatch()
        {
            var snap = SnapshotJson.ReadFile(Fixture("EndpointAaaaOnly-client"));
            Assert.NotNull(snap.FamilyRoute(false));
            Assert.Null(snap.FamilyRoute(true));
            var top = new Diagnoser().Diagnose(snap)[0];
            Assert.Equal(nameof(Cause.AddressFamilyMismatch), top.Cause);
        }

        [Fact]
        public void AHostWithNoRouteAtAllGetsTheNoRouteCause()
        {
            var findings = new Diagnoser().Diagnose(WithoutAnyRoute());
            Assert.DoesNotContain(findings, f => f.Cause == nameof(Cause.AddressFamilyMismatch));
            var top = findings[0];
            Assert.Equal(nameof(Cause.EndpointUnreachable), top.Cause);
            Assert.Equal(AddressFamilyMismatchCheck.NoRouteId, top.Id);
            Assert.Contains(top.Evidence, e => e.Contains("ip -6 route get 2001:db8:200::2: no route"));
            // one verdict per peer: the vaguer "does not answer" of the same peer is suppressed
            Assert.Single(findings, f => f.Cause == nameof(Cause.EndpointUnreachable) && f.Peer == top.Peer);
        }

        [Fact]
        public void AHubWithNoRouteGetsOneFoldedNoRouteFinding()
        {
            var snap = WithoutAnyRoute();
            var i = snap.Interfaces[0];
            var template = i.Last.Peers[0];
            foreach (var s in i.Samples)
            {
                s.Peers.Clear();
                for (int n = 1; n <= 50; n++)
                    s.Peers.Add(new WgPeer { Interface = i.Name, PublicKey = Convert.ToBase64String(Enumerable.Repeat((byte)n, 32).ToArray()), Endpoint = $"203.0.113.{n}:51820", AllowedIPs = new[] { $"192.0.2.{n}/32" } });
            }
            i.Config = null;
            snap.Names.Clear();
            snap.Routes.Lookups.Clear();
            for (int n = 1; n <= 50; n++) snap.Routes.Lookups.Add(new RouteLookup { Destination = $"203.0.113.{n}", Reachable = false, Text = "no route" });
            var findings = new Diagnoser().Diagnose(snap);
            Assert.DoesNotContain(findings, f => f.Cause == nameof(Cause.AddressFamilyMismatch));
            var noRoute = Assert.Single(findings, f => f.Id == AddressFamilyMismatchCheck.NoRouteId);
            Assert.Equal(50, noRoute.Peers.Length);
            Assert.Equal(noRoute, findings[0]);
            Assert.Contains(noRoute.Evidence, e => e.Contains("route get 203.0.113.1: no route"));
        }

        [Fact]
        public void ALookupThroughTheTunnelDoesNotShowTheFamilyRoutes()
        {
            var snap = WithoutAnyRoute();
            var wg = snap.Interfaces[0].Name;
            snap.Routes.Lookups.Add(new RouteLookup { Destination = "2001:db8:100::7", Reachable = true, Device = wg, Text = $"2001:db8:100::7 dev {wg} src 2001:db8:100::2" });
            Assert.Null(snap.FamilyRoute(true));
            snap.Routes.Lookups.Add(new RouteLookup { Destination = "2001:db8:300::7", Reachable = true, Device = "eth0", Text = "2001:db8:300::7 via 2001:db8:300::1 dev eth0" });
            Assert.Contains("ip route get 2001:db8:300::7", snap.FamilyRoute(true));
        }

        [Fact]
        public void ANameOfOneFamilyIsAMismatchOnlyWhenTheOtherFamilyRoutes()
        {
            var peer = new ConfigPeerSnapshot { PublicKey = "S", Endpoint = "vpn.example.test:51820", EndpointHost = "vpn.example.test", EndpointPort = 51820 };
            var live = new WgPeer { PublicKey = "S", Endpoint = "203.0.113.2:51820" };
            Func<string, IPAddress[]> resolve = _ => new[] { IPAddress.Parse("203.0.113.2") };
            var withV6 = new EndpointChecker(resolve, _ => false, fam => fam == AddressFamily.InterNetworkV6).Check("wg0", false, peer, live);
            Assert.NotNull(withV6.AddressFamilyWarning);
            var none = new EndpointChecker(resolve, _ => false, _ => false).Check("wg0", false, peer, live);
            Assert.Null(none.AddressFamilyWarning);
        }

        [Fact]
        public void TheKernelsAnswerOfEachFailedBatchLineIsKept()
        {
            // what `ip -force -batch -` wrote for lines 1, 3, 4 and 5 (a blackhole, unreachable and prohibit route, no route)
            var stderr = "RTNETLINK answers: Invalid argument\nCommand failed -:1\nRTNETLINK answers: No route to host\nCommand failed -:3\n"
                       + "RTNETLINK answers: Permission denied\nCommand failed -:4\nRTNETLINK answers: Network is unreachable\nCommand failed -:5\n";
            var e = WgTroubleshoot.Snapshot.Sources.RouteSource.ParseErrors(stderr);
            Assert.Equal(new[] { 1, 3, 4, 5 }, e.Keys.OrderBy(k => k).ToArray());
            Assert.Equal("RTNETLINK answers: Invalid argument (a blackhole route)", e[1]);
            Assert.Equal("RTNETLINK answers: No route to host (an unreachable route)", e[3]);
            Assert.Equal("RTNETLINK answers: Permission denied (a prohibit route or rule)", e[4]);
            Assert.Equal("RTNETLINK answers: Network is unreachable (no route)", e[5]);
            Assert.Empty(WgTroubleshoot.Snapshot.Sources.RouteSource.ParseErrors(""));
        }

        private static PeerFacts Swallowed(string status)
        {
            var f = new PeerFacts { Interface = "wg0", Route4 = "ip -4 route show default: default via 192.0.2.1 dev eth0", LivePeers = { Live("S", "203.0.113.2:51820") } };
            f.EndpointRoutes["S"] = new RouteFact { Destination = "203.0.113.2", Success = false, Text = "RTNETLINK answers: Invalid argument (a blackhole route)" };
            f.Handshakes["S"] = new HandshakeResult { Peer = "S", Status = status, Reason = "test" };
            return f;
        }

        [Fact]
        public void AnEndpointThatARouteSwallowsIsNoRouteWhileTheFamilyRoutes()
        {
            var r = new AddressFamilyMismatchCheck().Judge(Swallowed(nameof(HandshakeStatus.NeverEstablished)), new HashSet<string>()).Single();
            Assert.Equal(nameof(Cause.EndpointUnreachable), r.Cause);
            Assert.Equal(AddressFamilyMismatchCheck.NoRouteId, r.Id);
            Assert.Contains(r.Evidence, e => e.Contains("ip -4 route get 203.0.113.2: RTNETLINK answers: Invalid argument (a blackhole route)"));
            Assert.Contains(r.Evidence, e => e.Contains("IPv4 routes here: ip -4 route show default"));
        }

        [Fact]
        public void AFailedLookupIsNoFindingForAWorkingPeerOrUnderAFwmark()
        {
            Assert.Empty(new AddressFamilyMismatchCheck().Judge(Swallowed(nameof(HandshakeStatus.Healthy)), new HashSet<string>()));
            var marked = Swallowed(nameof(HandshakeStatus.NeverEstablished));
            marked.FwMark = "0xca6c";
            Assert.Empty(new AddressFamilyMismatchCheck().Judge(marked, new HashSet<string>()));
        }

        [Fact]
        public void TheRecordedAaaaOnlyClientWithAnIPv6RouteAndABlackholeIsNoRoute()
        {
            var snap = SnapshotJson.ReadFile(Fixture("EndpointAaaaOnly-client"));
            snap.Routes.DefaultDevice6 = "eth0";
            snap.Routes.DefaultText6 = "default via 2001:db8:1::1 dev eth0 metric 1024";
            foreach (var l in snap.Routes.Lookups.Where(l => l.Destination == "2001:db8:200::2")) l.Text = "RTNETLINK answers: Invalid argument (a blackhole route)";
            var findings = new Diagnoser().Diagnose(snap);
            Assert.True(!findings.Any(f => f.Cause == nameof(Cause.AddressFamilyMismatch)), string.Join("\n", findings.Select(f => f.Id + " " + f.Cause + " " + f.Summary + " | " + string.Join(" | ", f.Evidence))));
            Assert.Equal(AddressFamilyMismatchCheck.NoRouteId, findings[0].Id);
            Assert.Contains(findings[0].Evidence, e => e.Contains("blackhole route"));
            Assert.Single(findings, f => f.Cause == nameof(Cause.EndpointUnreachable) && f.Peer == findings[0].Peer);
        }

        [Fact]
        public void TheRecordedBlackholedClientIsNoRouteNamingTheBlackhole()
        {
            var findings = new Diagnoser().Diagnose(SnapshotJson.ReadFile(Fixture("EndpointBlackholed-client")));
            Assert.Equal(AddressFamilyMismatchCheck.NoRouteId, findings[0].Id);
            Assert.Contains(findings[0].Evidence, e => e.Contains("RTNETLINK answers: Invalid argument (a blackhole route)"));
            Assert.Single(findings, f => f.Cause == nameof(Cause.EndpointUnreachable));
            Assert.DoesNotContain(findings, f => f.Cause == nameof(Cause.AddressFamilyMismatch));
        }
    }
}
