using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using WgTroubleshoot.Trace;
using Xunit;
using static WgTroubleshoot.Tests.Trace.PacketBuilder;

namespace WgTroubleshoot.Tests.Trace
{
    public class TrafficTracerTests
    {
        private static List<TrafficTrace> TraceFile(string name, int listenPort, IDictionary<string, string> peers = null)
        {
            var tracer = new TrafficTracer("wg0", listenPort, peers);
            foreach (var p in PcapAndDecoderTests.ReadAll(File.ReadAllBytes(PcapAndDecoderTests.Corpus(name))))
                tracer.Add(PacketDecoder.Decode(p));
            return tracer.Results(TimeSpan.FromSeconds(10));
        }

        [Fact]
        public void RealServerCaptureOfAHealthyTunnel()
        {
            var peers = new Dictionary<string, string> { ["198.51.100.2:52717"] = "00Km2gv6t6SwrWdgAsOlH/atXrU0y0v0zm9C67HoMws=" };
            var t = Assert.Single(TraceFile("server-healthy.pcap", 51820, peers));
            Assert.Equal("198.51.100.2:52717", t.RemoteEndpoint);
            Assert.Equal("00Km2gv6t6SwrWdgAsOlH/atXrU0y0v0zm9C67HoMws=", t.Peer);
            Assert.Equal((1, 0, 0, 1, 2, 2), (t.InitiationsIn, t.InitiationsOut, t.ResponsesIn, t.ResponsesOut, t.DataIn, t.DataOut));
            Assert.Equal(nameof(TrafficVerdict.Healthy), t.Verdict);
            Assert.True(t.FirstSeen < t.LastSeen);
            Assert.Equal("wg0 198.51.100.2:52717: Healthy (3 in, 3 out)", t.ToString());
        }

        [Fact]
        public void RealClientCaptureOfAHealthyTunnelCountsTheOtherWay()
        {
            var t = Assert.Single(TraceFile("client-healthy.pcap", 52717));
            Assert.Equal("198.51.100.1:51820", t.RemoteEndpoint);
            Assert.Null(t.Peer);
            Assert.Equal((0, 1, 1, 0, 2, 2), (t.InitiationsIn, t.InitiationsOut, t.ResponsesIn, t.ResponsesOut, t.DataIn, t.DataOut));
            Assert.Equal(nameof(TrafficVerdict.Healthy), t.Verdict);
            Assert.Contains("no peer has this endpoint", t.Reason);
        }

        [Theory]
        [InlineData("server-firewall-drop.pcap")]
        [InlineData("server-key-mismatch.pcap")]
        public void RealServerCapturesOfUnansweredInitiations(string file)
        {
            var t = Assert.Single(TraceFile(file, 51820));
            Assert.Equal(2, t.InitiationsIn);
            Assert.Equal(0, t.PacketsOut);
            Assert.Equal(nameof(TrafficVerdict.InitiationsUnanswered), t.Verdict);
            Assert.Contains("before the local firewall", t.Reason);
            Assert.Contains("key", t.Reason);
        }

        [Fact]
        public void RealCaptureWithTwoEndpointsJudgesEachOnItsOwn()
        {
            var results = TraceFile("server-ipv6-sll.pcap", 51820);
            Assert.Equal(2, results.Count);
            var old = results.Single(r => r.RemoteEndpoint == "198.51.100.2:52717");
            Assert.Equal(1, old.InitiationsOut);
            Assert.Equal(nameof(TrafficVerdict.NothingReceived), old.Verdict);
            var v6 = results.Single(r => r.RemoteEndpoint == "[2001:db8:51::2]:52717");
            Assert.Equal((1, 1, 1, 1), (v6.InitiationsIn, v6.ResponsesOut, v6.DataIn, v6.DataOut));
            Assert.Equal(nameof(TrafficVerdict.Healthy), v6.Verdict);
            Assert.Same(results[0], old); // ordered by first packet
        }

        [Fact]
        public void NothingAtAllIsOneResultWithoutEndpoint()
        {
            var t = Assert.Single(new TrafficTracer("wg0", 51820).Results(TimeSpan.FromSeconds(3)));
            Assert.Null(t.RemoteEndpoint);
            Assert.Equal(nameof(TrafficVerdict.NothingReceived), t.Verdict);
            Assert.Contains("UDP port 51820 in 3 s", t.Reason);
            Assert.Contains("upstream or cloud firewall", t.Reason);
        }

        private static UdpDatagram Dg(bool outgoing, int type, int length, string remote = "203.0.113.5", int remotePort = 51820, int local = 51820)
            => new UdpDatagram
            {
                TimestampUtc = DateTime.UtcNow,
                Direction = outgoing ? CaptureDirection.Outgoing : CaptureDirection.Incoming,
                Source = System.Net.IPAddress.Parse(outgoing ? "198.51.100.1" : remote),
                Destination = System.Net.IPAddress.Parse(outgoing ? remote : "198.51.100.1"),
                SourcePort = outgoing ? local : remotePort,
                DestinationPort = outgoing ? remotePort : local,
                PayloadLength = length,
                PayloadStart = WgPayload(type, length),
            };

        [Fact]
        public void HandshakeWithoutDataInEitherDirection()
        {
            var tr = new TrafficTracer("wg0", 51820);
            tr.Add(Dg(true, 1, 148));
            tr.Add(Dg(false, 2, 92));
            var t = Assert.Single(tr.Results(TimeSpan.FromSeconds(5)));
            Assert.Equal(nameof(TrafficVerdict.HandshakeWithoutData), t.Verdict);
            Assert.Contains("no data message in either direction", t.Reason);
        }

        [Fact]
        public void OutgoingOnlyIsNothingReceived()
        {
            var tr = new TrafficTracer("wg0", 51820);
            tr.Add(Dg(true, 1, 148));
            tr.Add(Dg(true, 1, 148));
            var t = Assert.Single(tr.Results(TimeSpan.FromSeconds(5)));
            Assert.Equal(nameof(TrafficVerdict.NothingReceived), t.Verdict);
            Assert.Contains("2 handshake initiations", t.Reason);
        }

        [Fact]
        public void OnlyKeepalivesArrivingOnAnEstablishedSessionIsHealthy()
        {
            var tr = new TrafficTracer("wg0", 51820);
            tr.Add(Dg(false, 4, 32));
            var t = Assert.Single(tr.Results(TimeSpan.FromSeconds(5)));
            Assert.Equal(nameof(TrafficVerdict.Healthy), t.Verdict);
            Assert.Contains("keepalives are not answered", t.Reason);
        }

        [Fact]
        public void CookieRepliesOnlyAreUnanswered()
        {
            var tr = new TrafficTracer("wg0", 51820);
            tr.Add(Dg(true, 1, 148));
            tr.Add(Dg(false, 3, 64));
            var t = Assert.Single(tr.Results(TimeSpan.FromSeconds(5)));
            Assert.Equal(nameof(TrafficVerdict.InitiationsUnanswered), t.Verdict);
            Assert.Equal(1, t.CookiesIn);
            Assert.Contains("under load", t.Reason);
        }

        [Fact]
        public void WithoutLinkDirectionThePortsDecide()
        {
            var tr = new TrafficTracer("wg0", 51820);
            var inbound = Dg(false, 1, 148, remotePort: 40000);
            inbound.Direction = CaptureDirection.Unknown;
            var outbound = Dg(true, 2, 92, remotePort: 40000);
            outbound.Direction = CaptureDirection.Unknown;
            var stranger = Dg(false, 1, 148, remotePort: 40000, local: 9999);
            stranger.Direction = CaptureDirection.Unknown;
            Assert.True(tr.Add(inbound));
            Assert.True(tr.Add(outbound));
            Assert.False(tr.Add(stranger));
            var t = Assert.Single(tr.Results(TimeSpan.FromSeconds(5)));
            Assert.Equal((1, 1), (t.InitiationsIn, t.ResponsesOut));
        }

        [Fact]
        public void NonWireGuardPacketsOnThePortAreCountedApart()
        {
            var tr = new TrafficTracer("wg0", 51820);
            tr.Add(Dg(false, 9, 20));
            var t = Assert.Single(tr.Results(TimeSpan.FromSeconds(5)));
            Assert.Equal(1, t.OtherPackets);
            Assert.Equal(0, t.PacketsIn);
            Assert.Equal(nameof(TrafficVerdict.NothingReceived), t.Verdict);
        }

        [Theory]
        [InlineData("198.51.100.7", 51820, "198.51.100.7:51820")]
        [InlineData("2001:db8::7", 51820, "[2001:db8::7]:51820")]
        [InlineData("::ffff:198.51.100.7", 1, "198.51.100.7:1")]
        public void FormatsEndpointsAsWgDoes(string ip, int port, string expected)
            => Assert.Equal(expected, TrafficTracer.FormatEndpoint(System.Net.IPAddress.Parse(ip), port));
    }
}
