using System;
using System.Collections.Generic;
using System.Linq;
using System.Net;
using WgTroubleshoot.Mtu;
using Xunit;

namespace WgTroubleshoot.Tests.Mtu
{
    /// <summary>A path with a given MTU; optionally silent about "too big", optionally lossy; advances a fake clock.</summary>
    internal sealed class FakePath : IMtuProber
    {
        public int Mtu = 1500;
        public bool Blackhole;
        public bool AnswersPing = true;
        public int? LoseEveryNth; // every Nth probe is lost
        public int? LocalMtu;     // sizes above this are refused locally ("message too long")
        public TimeSpan PerProbe = TimeSpan.FromSeconds(1);
        public TimeSpan Clock = TimeSpan.Zero;
        public List<int> Sizes = new List<int>();

        public ProbeResult Probe(int size)
        {
            Sizes.Add(size);
            Clock += PerProbe;
            if (LocalMtu.HasValue && size > LocalMtu.Value) return new ProbeResult(ProbeOutcome.TooBig, LocalMtu, "local error: message too long, mtu=" + LocalMtu);
            if (!AnswersPing) return new ProbeResult(ProbeOutcome.NoReply);
            if (LoseEveryNth.HasValue && Sizes.Count % LoseEveryNth.Value == 0) return new ProbeResult(ProbeOutcome.NoReply);
            if (size <= Mtu) return new ProbeResult(ProbeOutcome.Reply);
            return Blackhole ? new ProbeResult(ProbeOutcome.NoReply) : new ProbeResult(ProbeOutcome.TooBig, Mtu, "Frag needed and DF set (mtu = " + Mtu + ")");
        }
    }

    /// <summary>The sequential bisection, kept as the benchmark's baseline.</summary>
    public class SequentialPathMtuSearchTests
    {
        private static PathMtuSearchResult Run(FakePath path, int ceiling = 1500, int tries = 3, int limitSeconds = 120)
        {
            var s = new SequentialPathMtuSearch(path, () => path.Clock) { Tries = tries, TimeLimit = TimeSpan.FromSeconds(limitSeconds) };
            return s.Run(ceiling);
        }

        [Theory]
        [InlineData(1500)]
        [InlineData(1492)]
        [InlineData(1400)]
        [InlineData(1281)]
        [InlineData(1280)]
        [InlineData(1000)]
        [InlineData(576)]
        public void Finds_the_mtu_of_a_blackhole_path(int mtu)
        {
            var r = Run(new FakePath { Mtu = mtu, Blackhole = true });
            Assert.Equal(PathMtuStatus.Measured, r.Status);
            Assert.Equal(mtu, r.PathMtu);
            Assert.Equal(mtu < 1500, r.Blackhole);
            Assert.False(r.TooBigReported);
        }

        [Theory]
        [InlineData(1492)]
        [InlineData(1400)]
        [InlineData(1000)]
        public void Uses_the_mtu_a_router_reports_and_converges_quickly(int mtu)
        {
            var path = new FakePath { Mtu = mtu };
            var r = Run(path);
            Assert.Equal(mtu, r.PathMtu);
            Assert.True(r.TooBigReported);
            Assert.False(r.Blackhole);
            Assert.True(r.Probes <= 6, "probes: " + string.Join(",", path.Sizes));
        }

        [Fact]
        public void Loss_is_not_taken_for_too_big()
        {
            // Every third probe is lost: with three tries a passing size still passes.
            var r = Run(new FakePath { Mtu = 1400, Blackhole = true, LoseEveryNth = 3 });
            Assert.Equal(1400, r.PathMtu);
        }

        [Fact]
        public void A_destination_that_answers_nothing_is_unknown_not_a_bogus_mtu()
        {
            var path = new FakePath { AnswersPing = false };
            var r = Run(path);
            Assert.Equal(PathMtuStatus.Unknown, r.Status);
            Assert.Null(r.PathMtu);
            Assert.Equal(3, path.Sizes.Count);
            Assert.Contains("does not answer ping", r.Evidence.Last());
        }

        [Fact]
        public void The_whole_route_mtu_passing_needs_two_sizes_only()
        {
            var path = new FakePath { Mtu = 9000 };
            var r = Run(path, ceiling: 1500);
            Assert.Equal(1500, r.PathMtu);
            Assert.Equal(new[] { 84, 1500 }, path.Sizes);
        }

        [Fact]
        public void Stops_at_the_time_limit_with_a_lower_bound()
        {
            var path = new FakePath { Mtu = 1400, Blackhole = true, PerProbe = TimeSpan.FromSeconds(2) };
            var r = Run(path, limitSeconds: 20);
            Assert.Equal(PathMtuStatus.LowerBound, r.Status);
            Assert.True(r.PathMtu >= 1280 && r.PathMtu <= 1400);
            Assert.True(path.Clock <= TimeSpan.FromSeconds(22));
            Assert.Contains("time limit", r.Evidence.Last());
        }

        [Fact]
        public void A_locally_refused_size_counts_as_too_big()
        {
            var r = Run(new FakePath { Mtu = 1500, LocalMtu = 1420 });
            Assert.Equal(1420, r.PathMtu);
            Assert.True(r.TooBigReported);
        }

        [Fact]
        public void Every_size_is_within_the_floor_and_ceiling_or_below_when_the_floor_fails()
        {
            var path = new FakePath { Mtu = 1400, Blackhole = true };
            Run(path, ceiling: 1500);
            Assert.All(path.Sizes.Skip(1), s => Assert.InRange(s, 1280, 1500));
        }
    }

    public class PingParseTests
    {
        [Fact]
        public void Reply()
        {
            var r = PingProber.Parse(0, "PING 203.0.113.2 (203.0.113.2) 1372(1400) bytes of data.\n1380 bytes from 203.0.113.2: icmp_seq=1 ttl=63 time=0.224 ms\n", "");
            Assert.Equal(ProbeOutcome.Reply, r.Outcome);
        }

        [Fact]
        public void Frag_needed_from_a_router()
        {
            var r = PingProber.Parse(1, "PING 203.0.113.2 (203.0.113.2) 1373(1401) bytes of data.\nFrom 198.51.100.1 icmp_seq=1 Frag needed and DF set (mtu = 1400)\n\n--- 203.0.113.2 ping statistics ---\n1 packets transmitted, 0 received, +1 errors, 100% packet loss, time 0ms\n", "");
            Assert.Equal(ProbeOutcome.TooBig, r.Outcome);
            Assert.Equal(1400, r.ReportedMtu);
        }

        [Fact]
        public void Local_message_too_long()
        {
            var r = PingProber.Parse(1, "PING 198.51.100.1 (198.51.100.1) 1473(1501) bytes of data.\n", "ping: local error: message too long, mtu=1500\n");
            Assert.Equal(ProbeOutcome.TooBig, r.Outcome);
            Assert.Equal(1500, r.ReportedMtu);
        }

        [Fact]
        public void IPv6_packet_too_big()
        {
            var r = PingProber.Parse(1, "From 2001:db8::1 icmp_seq=1 Packet too big: mtu=1280\n", "");
            Assert.Equal(ProbeOutcome.TooBig, r.Outcome);
            Assert.Equal(1280, r.ReportedMtu);
        }

        [Fact]
        public void Silence()
        {
            var r = PingProber.Parse(1, "PING 203.0.113.2 (203.0.113.2) 1373(1401) bytes of data.\n\n--- 203.0.113.2 ping statistics ---\n1 packets transmitted, 0 received, 100% packet loss, time 0ms\n", "");
            Assert.Equal(ProbeOutcome.NoReply, r.Outcome);
        }

        [Fact]
        public void Unreachable()
        {
            Assert.Equal(ProbeOutcome.Unreachable, PingProber.Parse(1, "From 198.51.100.1 icmp_seq=1 Destination Host Unreachable\n", "").Outcome);
            Assert.Equal(ProbeOutcome.Unreachable, PingProber.Parse(2, "", "ping: connect: Network is unreachable\n").Outcome);
        }

        [Fact]
        public void Arguments_put_the_whole_packet_on_the_wire()
        {
            Assert.Equal(new[] { "-4", "-n", "-M", "do", "-s", "1372", "-c", "1", "-W", "1", "203.0.113.2" }, PingProber.Arguments(IPAddress.Parse("203.0.113.2"), 1400, 1));
            Assert.Equal("1352", PingProber.Arguments(IPAddress.Parse("2001:db8::1"), 1400, 1)[5]);
        }

        [Fact]
        public void Until_answered_is_one_ping_with_a_deadline()
            => Assert.Equal(new[] { "-4", "-n", "-M", "do", "-s", "1392", "-c", "1", "-i", "0.2", "-w", "1", "192.0.2.1" },
                PingProber.DeadlineArguments(IPAddress.Parse("192.0.2.1"), 1420, 1));

        [Fact]
        public void A_retry_is_one_ping_of_several_spaced_packets()
            => Assert.Equal(new[] { "-4", "-n", "-M", "do", "-s", "1373", "-c", "2", "-i", "0.2", "-W", "0.25", "203.0.113.2" },
                PingProber.Arguments(IPAddress.Parse("203.0.113.2"), 1401, "0.25", 2));

        [Theory]
        [InlineData(250, true, "0.25")]
        [InlineData(1000, true, "1.0")]
        [InlineData(1234, true, "1.234")]
        [InlineData(250, false, "1")]
        [InlineData(1500, false, "2")]
        public void Wait_text(int ms, bool fractional, string expected)
            => Assert.Equal(expected, PingProber.WaitText(TimeSpan.FromMilliseconds(ms), fractional));

        [Theory]
        [InlineData("ping from iputils 20221126\nlibcap: yes, IDN: yes", true)]
        [InlineData("ping from iputils 20210202", true)]
        [InlineData("ping utility, iputils-s20180629", false)]
        [InlineData("ping utility, iputils-s20161105", false)]
        [InlineData("BusyBox v1.36.1 (2023-06-02) multi-call binary.", false)]
        [InlineData("", false)]
        public void Fractional_waits_need_a_2021_iputils(string version, bool expected)
            => Assert.Equal(expected, PingProber.ParseFractionalWait(version.Replace("\\n", "\n")));

        [Fact]
        public void The_round_trip_of_the_fastest_reply_is_read()
        {
            var r = PingProber.Parse(0, "PING 203.0.113.2 (203.0.113.2) 56(84) bytes of data.\n64 bytes from 203.0.113.2: icmp_seq=1 ttl=63 time=12.5 ms\n64 bytes from 203.0.113.2: icmp_seq=2 ttl=63 time=0.224 ms\n", "");
            Assert.Equal(ProbeOutcome.Reply, r.Outcome);
            Assert.Equal(0.224, r.RoundTrip.Value.TotalMilliseconds, 3);
            Assert.Null(PingProber.Parse(1, "From 198.51.100.1 icmp_seq=1 Frag needed and DF set (mtu = 1400)\n", "").RoundTrip);
        }
    }

    public class RouteAndAddressTests
    {
        [Fact]
        public void Route_get_without_mtu()
        {
            var r = RouteLookup.Parse("203.0.113.2 via 198.51.100.1 dev hfc0 src 198.51.100.2 uid 0 \n    cache \n");
            Assert.Equal("hfc0", r.Device);
            Assert.Equal("198.51.100.1", r.Via);
            Assert.Null(r.RouteMtu);
        }

        [Fact]
        public void Route_get_with_a_learned_path_mtu()
        {
            var r = RouteLookup.Parse("203.0.113.2 via 198.51.100.1 dev eth0 src 198.51.100.2 uid 0 \n    cache expires 587sec mtu 1400 \n");
            Assert.Equal(1400, r.RouteMtu);
            Assert.True(r.MtuFromCache);
        }

        [Fact]
        public void Route_get_with_a_configured_mtu_lock()
        {
            var r = RouteLookup.Parse("2001:db8::2 from :: via 2001:db8::1 dev eth0 proto static src 2001:db8::5 metric 1024 mtu lock 1280 pref medium\n");
            Assert.Equal(1280, r.RouteMtu);
            Assert.False(r.MtuFromCache);
            Assert.Equal("eth0", r.Device);
        }

        [Theory]
        [InlineData("203.0.113.2:51820", "203.0.113.2")]
        [InlineData("[2001:db8::1]:51820", "2001:db8::1")]
        [InlineData("(none)", null)]
        [InlineData("vpn.example.com:51820", null)]
        public void Endpoint_addresses(string endpoint, string expected)
            => Assert.Equal(expected, PathMtuMeasurer.EndpointAddress(endpoint)?.ToString());

        [Theory]
        [InlineData("192.0.2.1/32", "192.0.2.1")]
        [InlineData("192.0.2.0/26", "192.0.2.1")]
        [InlineData("192.0.2.64/26,192.0.2.5/32", "192.0.2.65")]
        [InlineData("0.0.0.0/0,192.0.2.9/32", "192.0.2.9")]
        [InlineData("0.0.0.0/0,::/0", null)]
        [InlineData("2001:db8::/64", "2001:db8::1")]
        [InlineData("192.0.2.10", "192.0.2.10")]
        public void First_host_of_allowed_ips(string allowed, string expected)
            => Assert.Equal(expected, PathMtuMeasurer.FirstHost(allowed.Split(','))?.ToString());

        [Fact]
        public void Overheads()
        {
            Assert.Equal(60, PathMtuMeasurer.Overhead(IPAddress.Parse("203.0.113.2")));
            Assert.Equal(80, PathMtuMeasurer.Overhead(IPAddress.Parse("2001:db8::1")));
        }
    }
}
