using System;
using System.Collections.Generic;
using System.Linq;
using WgTroubleshoot.Diagnosis;
using WgTroubleshoot.Liveness;
using WgTroubleshoot.Native;
using WgTroubleshoot.State;
using Xunit;

namespace WgTroubleshoot.Tests.Liveness
{
    /// <summary>Test-WgHandshake's OneWay from the liveness proof (HandshakeLiveness), not from the counters alone.</summary>
    public class HandshakeLivenessTests
    {
        private sealed class RouteRunner : INativeRunner
        {
            public NativeResult Run(string tool, IEnumerable<string> arguments, TimeSpan? timeout = null, string standardInput = null)
            {
                var a = arguments.ToList();
                if (tool == "ip" && a.Contains("get")) return new NativeResult("ip", 0, a.Last() + " dev wg0 src 192.0.2.2 uid 0\n", "", TimeSpan.Zero);
                return new NativeResult(tool, 1, "", "unexpected", TimeSpan.Zero);
            }
            public bool IsAvailable(string tool) => tool == "ip";
            public NativeProcess Start(string tool, IEnumerable<string> arguments, TimeSpan maxLifetime) => throw new InvalidOperationException("no process in unit tests");
        }

        private static WgPeer Peer(long rx, long tx, int? keepalive) => new WgPeer
        {
            Interface = "wg0", PublicKey = "A", AllowedIPs = new[] { "192.0.2.0/26" }, Endpoint = "203.0.113.2:51820",
            LatestHandshake = DateTime.UtcNow.AddSeconds(-20), HandshakeAge = TimeSpan.FromSeconds(20), RxBytes = rx, TxBytes = tx, PersistentKeepalive = keepalive,
        };

        private static List<WgDevice> Device(WgPeer p)
        {
            var d = new WgDevice { Interface = new WgInterface { Name = "wg0", IsUp = true, Addresses = new[] { "192.0.2.2/26" } } };
            d.Peers.Add(p);
            return new List<WgDevice> { d };
        }

        // keepalive every second, 5 s sample: five unanswered keepalives out, nothing in
        private static (HandshakeResult Result, List<WgDevice> Devices) KeepaliveOnlySample()
        {
            var first = Peer(1000, 2000, 1);
            var second = Peer(1000, 2000 + 5 * 32, 1);
            return (HandshakeEvaluator.Evaluate(first, second, 5), Device(second));
        }

        [Fact]
        public void KeepalivesGoingOutWithAnAnsweredProbeAreNotOneWay()
        {
            var (h, devs) = KeepaliveOnlySample();
            var sent = new List<string>();
            bool answered = false;
            var live = new HandshakeLiveness(new RouteRunner(), _ => new Dictionary<string, PeerCounters> { ["A"] = new PeerCounters(answered ? 1032 : 1000, 2160, null) })
            {
                Wait = TimeSpan.FromSeconds(2),
                Sender = (i, r) => { sent.Add(r.Target); r.Sent = "test echo to " + r.Target; r.WasSent = true; answered = true; return null; },
            };
            var probes = live.Apply(devs, new[] { h }, true);
            Assert.Equal(new[] { "192.0.2.1" }, sent);
            Assert.True(probes.Single().Answered);
            Assert.False(h.OneWay);
            Assert.Equal("Healthy", h.Status);
            Assert.Contains("Liveness probe: test echo to 192.0.2.1", h.Reason);
            Assert.DoesNotContain("one-way", h.Reason);
        }

        [Fact]
        public void AnUnansweredProbeIsOneWay()
        {
            var first = Peer(1000, 2000, null);
            var second = Peer(1000, 2900, null);     // data out, nothing in
            var h = HandshakeEvaluator.Evaluate(first, second, 5);
            var live = new HandshakeLiveness(new RouteRunner(), _ => new Dictionary<string, PeerCounters> { ["A"] = new PeerCounters(1000, 2996, null) })
            {
                Wait = TimeSpan.FromMilliseconds(300),
                Sender = (i, r) => { r.Sent = "test echo to " + r.Target; r.WasSent = true; return null; },
            };
            live.Apply(Device(second), new[] { h }, true);
            Assert.True(h.OneWay);
            Assert.Contains("nothing came back", h.Reason);
        }

        [Fact]
        public void TwoWayCountersNeedNoProbe()
        {
            var first = Peer(1000, 2000, 25);
            var second = Peer(1500, 2600, 25);
            var h = HandshakeEvaluator.Evaluate(first, second, 5);
            bool sent = false;
            var live = new HandshakeLiveness(new RouteRunner(), _ => null) { Sender = (i, r) => { sent = true; return null; } };
            Assert.Empty(live.Apply(Device(second), new[] { h }, true));
            Assert.False(sent);
            Assert.False(h.OneWay);
            Assert.Contains("Two-way traffic now", h.Reason);
        }

        [Fact]
        public void OneSampleProbesNothingAndIsNeverOneWay()
        {
            var (h, devs) = KeepaliveOnlySample();
            bool sent = false;
            var live = new HandshakeLiveness(new RouteRunner(), _ => null) { Sender = (i, r) => { sent = true; return null; } };
            Assert.Empty(live.Apply(devs, new[] { h }, false));
            Assert.False(sent);
            Assert.False(h.OneWay);
        }
    }
}

namespace WgTroubleshoot.Tests.Liveness
{
    /// <summary>When the reads during the sample may end it early: traffic both ways on every peer, fresh sessions.</summary>
    public class SampleEndsEarlyTests
    {
        private static WgPeer P(string key, long rx, long tx, int ageSeconds = 20) => new WgPeer
        {
            Interface = "wg0", PublicKey = key, RxBytes = rx, TxBytes = tx,
            LatestHandshake = ageSeconds < 0 ? (DateTime?)null : DateTime.UtcNow.AddSeconds(-ageSeconds),
            HandshakeAge = ageSeconds < 0 ? (TimeSpan?)null : TimeSpan.FromSeconds(ageSeconds),
        };

        private static Dictionary<string, List<WgPeer>> Firsts(params WgPeer[] p) => new Dictionary<string, List<WgPeer>> { ["wg0"] = p.ToList() };
        private static Dictionary<string, WgPeer> Now(params WgPeer[] p) => p.ToDictionary(x => "wg0\n" + x.PublicKey, x => x);

        [Fact]
        public void BothCountersGrewOnEveryPeer()
        {
            Assert.True(EndpointWatchSource.TwoWayEverywhere(Firsts(P("A", 100, 100), P("B", 5, 5)), Now(P("A", 200, 300), P("B", 6, 7)), out var proof));
            Assert.Contains("2", proof);
        }

        [Theory]
        [InlineData(100, 300, 20)]   // nothing received: keepalives or one-way, not proven
        [InlineData(200, 100, 20)]   // nothing sent
        [InlineData(200, 300, 200)]  // the session is older than Reject-After-Time
        [InlineData(200, 300, -1)]   // no handshake at all
        public void NotProvenWhenOnePeerIsNot(long rx, long tx, int age)
            => Assert.False(EndpointWatchSource.TwoWayEverywhere(Firsts(P("A", 100, 100), P("B", 5, 5)), Now(P("A", 200, 300), P("B", 5 + rx - 100, 5 + tx - 100, age)), out _));

        [Fact]
        public void NoPeersProvesNothing() => Assert.False(EndpointWatchSource.TwoWayEverywhere(new Dictionary<string, List<WgPeer>> { ["wg0"] = new List<WgPeer>() }, Now(), out _));

        [Fact]
        public void APeerMissingFromTheReadIsNotProven()
            => Assert.False(EndpointWatchSource.TwoWayEverywhere(Firsts(P("A", 100, 100), P("B", 5, 5)), Now(P("A", 200, 300)), out _));

        [Theory]
        [InlineData(new[] { "A", "B", "A" }, true)]
        [InlineData(new[] { "A", "B", "C", "B" }, true)]
        [InlineData(new[] { "A", "B" }, false)]
        [InlineData(new[] { "A", "B", "C" }, false)]
        public void AReturnToAnAddressLeftIsAFlipBack(string[] seq, bool back) => Assert.Equal(back, EndpointWatchSource.FlipsBack(seq));

        private const string Self = "SYLd9X3Ts/mqQkpSJxjafnFEtCyPEz/fVDk1xnUdvi4=";
        private const string Peer = "xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=";

        /// <summary>`wg show lo dump` answers: the endpoint <paramref name="at"/> gives for each read (1-based).</summary>
        private static WgTroubleshoot.Tests.Remedies.RecordingRunner Dumps(Func<int, string> at)
        {
            int n = 0;
            return new WgTroubleshoot.Tests.Remedies.RecordingRunner
            {
                Answer = l => l == "wg show lo dump"
                    ? new NativeResult(l, 0, $"(none)\t{Self}\t51820\toff\n{Peer}\t(none)\t{at(++n)}\t192.0.2.0/24\t0\t0\t0\toff\n", "", TimeSpan.Zero)
                    : null,
            };
        }

        private static Dictionary<string, List<WgPeer>> FirstAt(string endpoint)
            => new Dictionary<string, List<WgPeer>> { ["lo"] = new List<WgPeer> { new WgPeer { Interface = "lo", PublicKey = Peer, Endpoint = endpoint } } };

        [Fact]
        public void AnEndpointThatMovedIsWatchedLongerAndItsReturnIsSeen()
        {
            // A for two reads, B from the third, A again from the tenth (about 2 s in: after a 1 s sample)
            var r = EndpointWatchSource.Watch(Dumps(n => n < 3 || n >= 10 ? "203.0.113.2:51820" : "203.0.113.9:40000"), new[] { "lo" },
                FirstAt("203.0.113.2:51820"), DateTime.UtcNow, 1, System.Threading.CancellationToken.None);
            Assert.NotNull(r.Extended);
            Assert.Contains("203.0.113.2:51820 -> 203.0.113.9:40000", r.Extended);
            var seen = r.Readings.Select(x => x.Item3).ToList();
            int firstB = seen.IndexOf("203.0.113.9:40000");
            Assert.True(firstB > 0);
            Assert.Contains("203.0.113.2:51820", seen.Skip(firstB));
            // it stops once the endpoint is back, well before the extra time is up
            Assert.True(r.Seconds < 1 + EndpointWatchSource.MovedWatch.TotalSeconds, r.Seconds.ToString());
        }

        [Fact]
        public void AnEndpointThatStaysIsNotWatchedLonger()
        {
            var r = EndpointWatchSource.Watch(Dumps(_ => "203.0.113.2:51820"), new[] { "lo" }, FirstAt("203.0.113.2:51820"), DateTime.UtcNow, 1, System.Threading.CancellationToken.None);
            Assert.Null(r.Extended);
            Assert.True(r.Seconds < 2.5, r.Seconds.ToString());
        }
    }
}
