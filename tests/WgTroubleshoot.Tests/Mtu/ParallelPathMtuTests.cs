using System;
using System.Collections.Generic;
using System.Linq;
using WgTroubleshoot.Mtu;
using Xunit;

namespace WgTroubleshoot.Tests.Mtu
{
    /// <summary>
    /// A path that answers rounds of probes sent together. A round costs the longest of its probes on a fake
    /// clock: the round trip for an answer or a "too big", the wait (after the last packet) for silence.
    /// </summary>
    internal sealed class FakeRoundPath : IMtuRoundProber
    {
        public int Mtu = 1500;
        public bool Blackhole;
        public bool AnswersPing = true;
        public int? LoseEveryNth;  // every Nth packet is lost
        public int? LocalMtu;      // sizes above this are refused locally
        public TimeSpan Rtt = TimeSpan.FromMilliseconds(20);
        public TimeSpan Clock = TimeSpan.Zero;
        public int Packets;
        public List<List<ProbeRequest>> Rounds = new List<List<ProbeRequest>>();
        public List<TimeSpan> Waits = new List<TimeSpan>();

        public ProbeResult Probe(int packetSize) => ProbeRound(new List<ProbeRequest> { new ProbeRequest(packetSize) }, TimeSpan.FromSeconds(1))[0];

        public IList<ProbeResult> ProbeRound(IList<ProbeRequest> probes, TimeSpan wait)
        {
            Rounds.Add(probes.ToList());
            Waits.Add(wait);
            var cost = TimeSpan.Zero;
            var results = new List<ProbeResult>();
            foreach (var q in probes)
            {
                ProbeResult r = null;
                var t = TimeSpan.Zero;
                for (int i = 0; i < q.Packets && r == null; i++)
                {
                    Packets++;
                    var sent = TimeSpan.FromMilliseconds(200 * i);
                    if (LocalMtu.HasValue && q.Size > LocalMtu.Value) { r = new ProbeResult(ProbeOutcome.TooBig, LocalMtu, "local error: message too long, mtu=" + LocalMtu); t = sent; }
                    else if (!AnswersPing || (LoseEveryNth.HasValue && Packets % LoseEveryNth.Value == 0)) { }
                    else if (q.Size <= Mtu) { r = new ProbeResult(ProbeOutcome.Reply, roundTrip: Rtt); t = sent + Rtt; }
                    else if (!Blackhole) { r = new ProbeResult(ProbeOutcome.TooBig, Mtu, "Frag needed and DF set (mtu = " + Mtu + ")"); t = sent + Rtt; }
                }
                if (r == null) { r = new ProbeResult(ProbeOutcome.NoReply); t = TimeSpan.FromMilliseconds(200 * (q.Packets - 1)) + wait; }
                if (t > cost) cost = t;
                results.Add(r);
            }
            Clock += cost;
            return results;
        }
    }

    public class ParallelPathMtuSearchTests
    {
        private static PathMtuSearchResult Run(FakeRoundPath path, int ceiling = 1500, int tries = 3, int limitSeconds = 60, int minimum = 576, int baseline = 84)
            => new PathMtuSearch(path, () => path.Clock) { Tries = tries, TimeLimit = TimeSpan.FromSeconds(limitSeconds), Minimum = minimum, BaselineSize = baseline }.Run(ceiling);

        [Theory]
        [InlineData(1500)]
        [InlineData(1499)]
        [InlineData(1492)]
        [InlineData(1420)]
        [InlineData(1400)]
        [InlineData(1401)]
        [InlineData(1281)]
        [InlineData(1280)]
        [InlineData(1279)]
        [InlineData(1000)]
        [InlineData(577)]
        [InlineData(576)]
        public void Finds_the_exact_mtu_of_a_blackhole_path(int mtu)
        {
            var path = new FakeRoundPath { Mtu = mtu, Blackhole = true };
            var r = Run(path);
            Assert.Equal(PathMtuStatus.Measured, r.Status);
            Assert.Equal(mtu, r.PathMtu);
            Assert.Equal(mtu < 1500, r.Blackhole);
            Assert.False(r.TooBigReported);
            // The boundary failed in silence on every try before it was believed.
            if (mtu < 1500) Assert.Equal(3, path.Rounds.SelectMany(x => x).Where(q => q.Size == mtu + 1).Sum(q => q.Packets));
        }

        [Theory]
        [InlineData(1400)]
        [InlineData(1300)]
        [InlineData(1420)]
        public void A_blackhole_takes_a_few_rounds_not_a_probe_per_size(int mtu)
        {
            var path = new FakeRoundPath { Mtu = mtu, Blackhole = true };
            var r = Run(path);
            Assert.Equal(mtu, r.PathMtu);
            // One round for the baseline, then at most four rounds over 1280..1500.
            Assert.True(path.Rounds.Count <= 5, "rounds: " + string.Join(" | ", path.Rounds.Select(x => string.Join(",", x))));
            Assert.Equal(path.Rounds.Count - 1, r.Rounds);   // round 0 (small probe and route MTU) is not counted
        }

        [Theory]
        [InlineData(1492)]
        [InlineData(1400)]
        [InlineData(1000)]
        public void Uses_the_mtu_a_router_reports(int mtu)
        {
            var path = new FakeRoundPath { Mtu = mtu };
            var r = Run(path);
            Assert.Equal(PathMtuStatus.Measured, r.Status);
            Assert.Equal(mtu, r.PathMtu);
            Assert.True(r.TooBigReported);
            Assert.False(r.Blackhole);
            Assert.True(r.Rounds <= 3, "rounds: " + string.Join(" | ", path.Rounds.Select(x => string.Join(",", x))));
            // The reported MTU and one byte more were probed.
            var sizes = path.Rounds.SelectMany(x => x).Select(q => q.Size).ToList();
            Assert.Contains(mtu, sizes);
            Assert.Contains(mtu + 1, sizes);
        }

        [Fact]
        public void The_whole_route_mtu_passing_takes_one_round()
        {
            var path = new FakeRoundPath { Mtu = 9000 };
            var r = Run(path, ceiling: 1500);
            Assert.Equal(1500, r.PathMtu);
            Assert.Equal(0, r.Rounds);
            Assert.Single(path.Rounds);  // the route MTU goes with the first small probe
            Assert.Equal(new[] { 84, 1500 }, path.Rounds[0].Select(q => q.Size));
            Assert.Contains("whole route MTU", r.Evidence.Last());
        }

        [Theory]
        [InlineData(3)]
        [InlineData(4)]
        [InlineData(5)]
        public void Loss_is_not_taken_for_too_big(int nth)
        {
            var r = Run(new FakeRoundPath { Mtu = 1400, Blackhole = true, LoseEveryNth = nth });
            Assert.Equal(PathMtuStatus.Measured, r.Status);
            Assert.Equal(1400, r.PathMtu);
        }

        [Fact]
        public void Only_sizes_that_failed_are_retried_until_the_last_round()
        {
            var path = new FakeRoundPath { Mtu = 1400, Blackhole = true };
            Run(path);
            var seen = new HashSet<int>();
            for (int i = 0; i < path.Rounds.Count; i++)
            {
                bool lastRound = i == path.Rounds.Count - 1;
                foreach (var q in path.Rounds[i])
                {
                    if (q.Packets > 1 && !lastRound) Assert.Contains(q.Size, seen);
                    if (seen.Contains(q.Size)) Assert.True(q.Size > 1400, $"size {q.Size} passed and was probed again");
                }
                foreach (var q in path.Rounds[i]) seen.Add(q.Size);
            }
        }

        [Fact]
        public void Waits_follow_the_round_trip_within_bounds()
        {
            var path = new FakeRoundPath { Mtu = 1400, Blackhole = true, Rtt = TimeSpan.FromMilliseconds(100) };
            Run(path);
            Assert.Equal(TimeSpan.FromSeconds(1), path.Waits[0]);            // before the round trip is known
            Assert.All(path.Waits.Skip(1), w => Assert.Equal(TimeSpan.FromMilliseconds(500), w));   // 4 x 100 ms + 100 ms
            var fast = new FakeRoundPath { Mtu = 1400, Blackhole = true, Rtt = TimeSpan.FromMilliseconds(1) };
            Run(fast);
            Assert.All(fast.Waits.Skip(1), w => Assert.Equal(TimeSpan.FromMilliseconds(250), w));   // never below the minimum
            var slow = new FakeRoundPath { Mtu = 1400, Blackhole = true, Rtt = TimeSpan.FromMilliseconds(600) };
            Assert.Equal(1400, Run(slow).PathMtu);
            Assert.All(slow.Waits.Skip(1), w => Assert.Equal(TimeSpan.FromSeconds(1), w));          // never above the maximum
        }

        [Fact]
        public void A_destination_that_answers_nothing_is_unknown_not_a_bogus_mtu()
        {
            var path = new FakeRoundPath { AnswersPing = false };
            var r = Run(path);
            Assert.Equal(PathMtuStatus.Unknown, r.Status);
            Assert.Null(r.PathMtu);
            Assert.Equal(4, path.Packets);  // three small ones and the route MTU once
            Assert.Equal(3, path.Rounds.SelectMany(x => x).Where(q => q.Size == 84).Sum(q => q.Packets));
            Assert.All(path.Rounds.Skip(1).SelectMany(x => x), q => Assert.Equal(84, q.Size));
            Assert.Contains("does not answer ping", r.Evidence.Last());
        }

        [Fact]
        public void Stops_at_the_time_limit_with_a_lower_bound()
        {
            var path = new FakeRoundPath { Mtu = 1400, Blackhole = true, Rtt = TimeSpan.FromMilliseconds(900) };
            var r = Run(path, limitSeconds: 2);
            Assert.Equal(PathMtuStatus.LowerBound, r.Status);
            Assert.InRange(r.PathMtu.Value, 1280, 1400);
            Assert.Contains("time limit", r.Evidence.Last());
        }

        [Fact]
        public void A_locally_refused_size_counts_as_too_big()
        {
            var r = Run(new FakeRoundPath { Mtu = 1500, LocalMtu = 1420 });
            Assert.Equal(1420, r.PathMtu);
            Assert.True(r.TooBigReported);
            Assert.False(r.Blackhole);
        }

        [Fact]
        public void Below_the_floor_the_search_goes_down_to_the_minimum()
        {
            var path = new FakeRoundPath { Mtu = 900, Blackhole = true };
            var r = Run(path);
            Assert.Equal(900, r.PathMtu);
            Assert.All(path.Rounds.Skip(1).SelectMany(x => x), q => Assert.InRange(q.Size, 576, 1500));
        }

        [Fact]
        public void Even_the_minimum_failing_is_unknown()
        {
            var r = Run(new FakeRoundPath { Mtu = 500, Blackhole = true });
            Assert.Equal(PathMtuStatus.Unknown, r.Status);
            Assert.Null(r.PathMtu);
            Assert.Contains("Even 576-byte packets", r.Evidence.Last());
        }

        [Fact]
        public void IPv6_searches_from_1280()
        {
            var path = new FakeRoundPath { Mtu = 1380, Blackhole = true };
            var r = Run(path, minimum: 1280, baseline: 104);
            Assert.Equal(1380, r.PathMtu);
            Assert.All(path.Rounds.Skip(1).SelectMany(x => x), q => Assert.InRange(q.Size, 1280, 1500));
            Assert.Equal(PathMtuStatus.Unknown, Run(new FakeRoundPath { Mtu = 1200, Blackhole = true }, minimum: 1280, baseline: 104).Status);
        }

        [Fact]
        public void A_prober_of_single_probes_is_asked_one_by_one()
        {
            var path = new FakePath { Mtu = 1400, Blackhole = true, PerProbe = TimeSpan.FromMilliseconds(10) };
            var r = new PathMtuSearch(path, () => path.Clock).Run(1500);
            Assert.Equal(1400, r.PathMtu);
            Assert.True(r.Blackhole);
        }
    }
}
