using System;
using System.Collections.Generic;
using System.Linq;
using WgTroubleshoot.Liveness;
using WgTroubleshoot.Native;
using Xunit;

namespace WgTroubleshoot.Tests.Liveness
{
    public class TunnelProbeTests
    {
        [Theory]
        // a server's peer: its own tunnel address, a host prefix
        [InlineData(new[] { "192.0.2.2/32", "2001:db8:100::2/128" }, new[] { "192.0.2.1/26", "2001:db8:100::1/64" }, "192.0.2.2")]
        // a client's server peer: the first host of the client's own subnet, not the client itself
        [InlineData(new[] { "192.0.2.0/26", "192.0.2.128/25", "2001:db8:100::/64" }, new[] { "192.0.2.2/26", "2001:db8:100::2/64" }, "192.0.2.1")]
        // full tunnel: never 0.0.0.1, the first host of the own subnet instead
        [InlineData(new[] { "0.0.0.0/0", "::/0" }, new[] { "10.8.0.2/24" }, "10.8.0.1")]
        // the own subnet's first host is this host itself: the next prefix's first host
        [InlineData(new[] { "10.8.0.0/24", "192.168.50.0/24" }, new[] { "10.8.0.1/24" }, "192.168.50.1")]
        // IPv6 only
        [InlineData(new[] { "2001:db8:7::5/128" }, new string[0], "2001:db8:7::5")]
        public void ChoosesAnAddressInsideTheAllowedIps(string[] allowed, string[] own, string expected)
        {
            Assert.Equal(expected, TunnelProbe.ChooseTarget(allowed, own).ToString());
        }

        [Fact]
        public void NoTargetForADefaultRouteWithAHostAddress()
            => Assert.Null(TunnelProbe.ChooseTarget(new[] { "0.0.0.0/0" }, new[] { "10.8.0.2/32" }));

        [Fact]
        public void NeverTargetsOwnAddress()
            => Assert.Null(TunnelProbe.ChooseTarget(new[] { "192.0.2.2/32" }, new[] { "192.0.2.2/32" }));

        [Theory]
        [InlineData("192.0.2.1 dev wgc1a2b3c src 192.0.2.2 uid 0 \n    cache \n", "wgc1a2b3c")]
        [InlineData("203.0.113.2 via 198.51.100.1 dev eth0 src 198.51.100.2 uid 0\n    cache\n", "eth0")]
        [InlineData("", null)]
        public void ReadsTheDeviceOfARoute(string text, string dev) => Assert.Equal(dev, TunnelProbe.RouteDevice(text));

        [Theory]
        [InlineData(148, 0, false)]   // a lone keepalive or initiation out: proves nothing
        [InlineData(0, 92, false)]
        [InlineData(32, 32, true)]
        [InlineData(92, 148, false)]  // the peer's initiation in, our response out: its packets reach us, ours are not shown to reach it
        [InlineData(184, 296, false)] // two of them
        [InlineData(92, 180, true)]   // an initiation and a keepalive: the peer got our response
        [InlineData(148, 92, true)]   // our initiation answered
        public void TwoWayOnlyWhenBothCountersGrew(long tx, long rx, bool proven) => Assert.Equal(proven, TunnelProbe.TwoWayProven(tx, rx));

        [Theory]
        [InlineData(148, false)]
        [InlineData(444, false)]
        [InlineData(32, true)]
        [InlineData(92, true)]
        [InlineData(592, true)]       // four initiations and one 592-byte data packet cannot be told apart: counted as an answer
        [InlineData(0, false)]
        public void OnlyInitiationsAreNoAnswerToAProbe(long rx, bool answer)
            => Assert.Equal(answer, new ProbeResult { WasSent = true, RxBefore = 1000, RxAfter = 1000 + rx }.Answered);

        private sealed class RouteRunner : INativeRunner
        {
            public readonly Dictionary<string, string> Routes = new Dictionary<string, string>();
            public readonly List<string> Calls = new List<string>();
            public NativeResult Run(string tool, IEnumerable<string> arguments, TimeSpan? timeout = null, string standardInput = null)
            {
                var a = arguments.ToList();
                Calls.Add(tool + " " + string.Join(" ", a));
                if (tool == "ip" && Routes.TryGetValue(a.Last(), out var r)) return new NativeResult("ip", r == null ? 2 : 0, r ?? "", r == null ? "RTNETLINK answers: Network is unreachable" : "", TimeSpan.Zero);
                return new NativeResult(tool, 1, "", "unexpected", TimeSpan.Zero);
            }
            public bool IsAvailable(string tool) => tool == "ip";
            public NativeProcess Start(string tool, IEnumerable<string> arguments, TimeSpan maxLifetime) => throw new InvalidOperationException("no process in unit tests");
        }

        private static WgPeer Peer(string key, string allowed, long rx, long tx)
            => new WgPeer { Interface = "wg0", PublicKey = key, AllowedIPs = allowed.Split(','), RxBytes = rx, TxBytes = tx, Endpoint = "203.0.113.2:51820" };

        [Fact]
        public void AnsweredWhenTheReceiveCounterGrowsAfterTheProbe()
        {
            var runner = new RouteRunner();
            runner.Routes["192.0.2.1"] = "192.0.2.1 dev wg0 src 192.0.2.2 uid 0\n";
            long rx = 220; int reads = 0;
            var sent = new List<string>();
            var probe = new TunnelProbe(runner, _ => { reads++; if (sent.Count > 0) rx = 348; return new Dictionary<string, PeerCounters> { ["A"] = new PeerCounters(rx, 400, "203.0.113.2:51820") }; })
            {
                PollInterval = TimeSpan.FromMilliseconds(1),
                Wait = TimeSpan.FromSeconds(2),
                Sender = (i, r) => { sent.Add(r.Target); r.Sent = "test echo to " + r.Target; r.WasSent = true; return null; },
            };
            var res = probe.Run("wg0", new[] { Peer("A", "192.0.2.0/26", 220, 400) }, new[] { "192.0.2.2/26" }).Single();
            Assert.Equal(new[] { "192.0.2.1" }, sent);
            Assert.True(res.Answered);
            Assert.Equal(220, res.RxBefore);
            Assert.Equal(348, res.RxAfter);
            Assert.Contains("the peer receives and answers", res.Evidence);
            Assert.Contains("192.0.2.1 dev wg0", res.Evidence);
        }

        [Fact]
        public void UnansweredAfterTheWaitWhenNothingComesBack()
        {
            var runner = new RouteRunner();
            runner.Routes["192.0.2.1"] = "192.0.2.1 dev wg0 src 192.0.2.2 uid 0\n";
            var probe = new TunnelProbe(runner, _ => new Dictionary<string, PeerCounters> { ["A"] = new PeerCounters(220, 548, null) })
            {
                PollInterval = TimeSpan.FromMilliseconds(10),
                Wait = TimeSpan.FromMilliseconds(300),
                Sender = (i, r) => { r.Sent = "test echo"; r.WasSent = true; return null; },
            };
            var res = probe.Run("wg0", new[] { Peer("A", "192.0.2.0/26", 220, 400) }, new[] { "192.0.2.2/26" }).Single();
            Assert.True(res.WasSent);
            Assert.False(res.Answered);
            Assert.True(res.WaitedSeconds >= 0.3);
            Assert.Contains("nothing came back", res.Evidence);
        }

        [Fact]
        public void NothingIsSentWhenTheRouteLeavesByAnotherInterface()
        {
            var runner = new RouteRunner();
            runner.Routes["192.0.2.1"] = "192.0.2.1 via 198.51.100.1 dev eth0 src 198.51.100.2 uid 0\n";
            bool sent = false;
            var probe = new TunnelProbe(runner, _ => null) { Sender = (i, r) => { sent = true; return null; } };
            var res = probe.Run("wg0", new[] { Peer("A", "192.0.2.0/26", 0, 0) }, new[] { "192.0.2.2/26" }).Single();
            Assert.False(sent);
            Assert.False(res.WasSent);
            Assert.Contains("leaves by eth0", res.NotSentReason);
        }

        [Fact]
        public void ManyPeersAreProbedTogetherWithinOneWait()
        {
            var runner = new RouteRunner();
            var peers = Enumerable.Range(1, 50).Select(i => Peer("K" + i, "10.9.0." + i + "/32", 0, 0)).ToList();
            foreach (var p in peers) runner.Routes[p.AllowedIPs[0].Split('/')[0]] = p.AllowedIPs[0].Split('/')[0] + " dev wg0 src 10.9.0.254 uid 0\n";
            var sentAt = new Dictionary<string, DateTime>();
            var probe = new TunnelProbe(runner, _ => peers.ToDictionary(p => p.PublicKey, p => new PeerCounters(sentAt.ContainsKey(p.PublicKey) && p.PublicKey != "K7" ? 128 : 0, 0, null)))
            {
                PollInterval = TimeSpan.FromMilliseconds(5),
                Wait = TimeSpan.FromMilliseconds(500),
                Sender = (i, r) => { sentAt[r.Peer] = DateTime.UtcNow; r.Sent = "x"; r.WasSent = true; return null; },
            };
            var start = DateTime.UtcNow;
            var res = probe.Run("wg0", peers, new[] { "10.9.0.254/24" });
            Assert.True((DateTime.UtcNow - start).TotalSeconds < 3);
            Assert.Equal(49, res.Count(r => r.Answered));
            Assert.False(res.Single(r => r.Peer == "K7").Answered);
        }

        [Theory]
        [InlineData("UNCONN 0      0            0.0.0.0:51820      0.0.0.0:*    users:((\"socat\",pid=4242,fd=5))\n", "0.0.0.0:51820", "socat pid 4242")]
        [InlineData("0      0            0.0.0.0:51820      0.0.0.0:*    users:((\"nc\",pid=7,fd=3))\n", "0.0.0.0:51820", "nc pid 7")]
        public void ParsesSocketOwners(string ss, string local, string owner)
        {
            var o = SocketOwner.Parse(ss).Single();
            Assert.Equal(local, o.Local);
            Assert.Equal(owner, o.Processes.Single());
        }

        [Fact]
        public void EmptySsOutputHasNoOwners() => Assert.Empty(SocketOwner.Parse(""));
    }
}
