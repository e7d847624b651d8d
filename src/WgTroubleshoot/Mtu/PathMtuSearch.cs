using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;

namespace WgTroubleshoot.Mtu
{
    /// <summary>What one don't-fragment probe of a given packet size came back with.</summary>
    public enum ProbeOutcome
    {
        /// <summary>The echo reply came back: a packet of this size crosses the path.</summary>
        Reply,
        /// <summary>"Fragmentation needed" / "Packet too big" came back, or the local stack refused the size.</summary>
        TooBig,
        /// <summary>Nothing came back within the wait: loss, a filter, or a blackhole.</summary>
        NoReply,
        /// <summary>Another error: unreachable host or network, no route.</summary>
        Unreachable,
    }

    /// <summary>The result of one probe.</summary>
    public sealed class ProbeResult
    {
        public ProbeResult(ProbeOutcome outcome, int? reportedMtu = null, string detail = null, TimeSpan? roundTrip = null)
        {
            Outcome = outcome;
            ReportedMtu = reportedMtu;
            Detail = detail;
            RoundTrip = roundTrip;
        }

        /// <summary>The round-trip time of the fastest reply, when the tool reported one.</summary>
        public TimeSpan? RoundTrip { get; }

        public ProbeOutcome Outcome { get; }
        /// <summary>The MTU named by the "too big" message, when it named one.</summary>
        public int? ReportedMtu { get; }
        /// <summary>The tool's own words (for the evidence).</summary>
        public string Detail { get; }
    }

    /// <summary>Sends one don't-fragment probe of a whole IP packet of <c>packetSize</c> bytes.</summary>
    public interface IMtuProber
    {
        ProbeResult Probe(int packetSize);
    }

    /// <summary>One probe of a round: a packet size and how many packets of it to send (spaced, any answer counts).</summary>
    public sealed class ProbeRequest
    {
        public ProbeRequest(int size, int packets = 1)
        {
            Size = size;
            Packets = Math.Max(1, packets);
        }

        /// <summary>Packets sent one after another until the first answer or until <paramref name="deadline"/> (whole seconds, at least one).</summary>
        public static ProbeRequest UntilAnswered(int size, TimeSpan deadline)
            => new ProbeRequest(size, 1) { DeadlineSeconds = Math.Max(1, (int)Math.Ceiling(deadline.TotalSeconds - 0.0005)) };

        public int Size { get; }
        public int Packets { get; }
        /// <summary>When set, packets go out 0.2 s apart until the first answer or this many seconds (the round's wait does not apply).</summary>
        public int? DeadlineSeconds { get; private set; }
        public override string ToString() => Packets == 1 ? Size.ToString(CultureInfo.InvariantCulture) : string.Format(CultureInfo.InvariantCulture, "{0} (x{1})", Size, Packets);
    }

    /// <summary>A prober that sends several probes at once, each waiting at most a given time for its answer.</summary>
    public interface IMtuRoundProber : IMtuProber
    {
        /// <summary>Sends every probe at once; the results come back in the order of <paramref name="probes"/>.</summary>
        IList<ProbeResult> ProbeRound(IList<ProbeRequest> probes, TimeSpan wait);
    }

    /// <summary>How a search ended.</summary>
    public enum PathMtuStatus
    {
        /// <summary>The largest size that passes was found exactly.</summary>
        Measured,
        /// <summary>The time ran out: PathMtu is the largest size seen to pass, a lower bound.</summary>
        LowerBound,
        /// <summary>The destination answered nothing at all: no MTU can be told.</summary>
        Unknown,
    }

    /// <summary>The outcome of <see cref="PathMtuSearch.Run"/> (and of <see cref="SequentialPathMtuSearch.Run"/>).</summary>
    public sealed class PathMtuSearchResult
    {
        public PathMtuStatus Status { get; internal set; }
        /// <summary>The largest packet (IP header included) that crossed the path; null when unknown.</summary>
        public int? PathMtu { get; internal set; }
        /// <summary>True when a size failed in silence (no "too big" ever came back) while smaller sizes passed.</summary>
        public bool Blackhole { get; internal set; }
        /// <summary>True when a router or the local stack said "too big".</summary>
        public bool TooBigReported { get; internal set; }
        /// <summary>Packets sent.</summary>
        public int Probes { get; internal set; }
        /// <summary>Rounds of probes sent together (one per probe for the sequential search).</summary>
        public int Rounds { get; internal set; }
        /// <summary>The fastest round trip seen, when the prober reports one.</summary>
        public TimeSpan? RoundTrip { get; internal set; }
        public List<string> Evidence { get; } = new List<string>();
    }

    /// <summary>
    /// Finds the path MTU exactly with rounds of don't-fragment probes sent together: a k-ary search. Round
    /// 0 sends a small probe (it proves that the destination answers and gives the round trip) and the
    /// route MTU (which most paths carry whole: then the search is over); the first round sends the floor
    /// and sizes spread between it and the route MTU; every later round sends
    /// <see cref="ProbesPerRound"/> sizes spread over the interval still open (largest size that passed,
    /// smallest that failed), a size a router reported as its MTU (and one byte more), and a retry of the
    /// failing boundary. Each probe waits only a few round trips (<see cref="MinWait"/> to
    /// <see cref="MaxWait"/>). Only sizes that failed are retried, and only the one that matters: the
    /// smallest failure above the largest pass, until it has failed <see cref="Tries"/> times in silence
    /// (so loss is not taken for "too big"). A "too big" answer counts at once and tells a path that
    /// reports "fragmentation needed" from a blackhole. The whole search is bounded by a deadline.
    /// </summary>
    public sealed class PathMtuSearch
    {
        private readonly IMtuRoundProber _prober;
        private readonly Func<TimeSpan> _elapsed;

        /// <param name="prober">Sends the probes; one that cannot send several at once is asked one by one.</param>
        /// <param name="elapsed">Time since the search started (a fake clock in tests).</param>
        public PathMtuSearch(IMtuProber prober, Func<TimeSpan> elapsed)
        {
            if (prober == null) throw new ArgumentNullException(nameof(prober));
            _prober = prober as IMtuRoundProber ?? new OneByOne(prober);
            _elapsed = elapsed ?? throw new ArgumentNullException(nameof(elapsed));
        }

        /// <summary>Tries per size before silence counts as failure.</summary>
        public int Tries { get; set; } = 3;
        /// <summary>The whole search stops after this long.</summary>
        public TimeSpan TimeLimit { get; set; } = TimeSpan.FromSeconds(60);
        /// <summary>The lower end of the first round (1280, the IPv6 minimum and a size every sane path carries).</summary>
        public int Floor { get; set; } = 1280;
        /// <summary>The smallest size searched when even <see cref="Floor"/> fails (576 for IPv4; 1280 for IPv6).</summary>
        public int Minimum { get; set; } = 576;
        /// <summary>A size small enough to pass any path: used to tell "answers nothing" from "too big".</summary>
        public int BaselineSize { get; set; } = 84;
        /// <summary>New sizes per round (retries and reported MTUs come on top).</summary>
        public int ProbesPerRound { get; set; } = 8;
        /// <summary>The shortest wait for an answer, whatever the round trip.</summary>
        public TimeSpan MinWait { get; set; } = TimeSpan.FromMilliseconds(250);
        /// <summary>The longest wait for an answer; also the wait before the round trip is known.</summary>
        public TimeSpan MaxWait { get; set; } = TimeSpan.FromSeconds(1);
        /// <summary>Called before each round: (a size of the round, what is being done).</summary>
        public Action<int, string> OnProbe { get; set; }

        private sealed class SizeState
        {
            public bool Passed;
            public bool TooBig;
            public int Fails;          // packets sent without an answer or with an error other than "too big"
            public bool OtherError;    // an error other than silence came back
            public string Detail;
        }

        private PathMtuSearchResult _result;
        private Dictionary<int, SizeState> _sizes;
        private readonly HashSet<int> _hints = new HashSet<int>();
        private TimeSpan? _rtt;

        /// <summary>The wait per probe: four round trips and 100 ms, within <see cref="MinWait"/>..<see cref="MaxWait"/>.</summary>
        public TimeSpan Wait
        {
            get
            {
                if (!_rtt.HasValue) return MaxWait;
                var w = TimeSpan.FromTicks(_rtt.Value.Ticks * 4) + TimeSpan.FromMilliseconds(100);
                if (w < MinWait) w = MinWait;
                if (w > MaxWait) w = MaxWait;
                return w;
            }
        }

        /// <summary>Searches between <see cref="Minimum"/> and <paramref name="ceiling"/> (the local route's MTU).</summary>
        public PathMtuSearchResult Run(int ceiling)
        {
            _result = new PathMtuSearchResult();
            _sizes = new Dictionary<int, SizeState>();
            _hints.Clear();
            _rtt = null;
            var c = CultureInfo.InvariantCulture;
            if (ceiling < Minimum) ceiling = Minimum;
            int tries = Math.Max(1, Tries);

            // Round 0: a small packet, which proves that the destination answers and gives the round trip
            // the later waits are chosen from, together with the route MTU, which most paths carry whole.
            bool answered = false;
            int sent = 0;
            while (sent < tries)
            {
                if (_elapsed() >= TimeLimit) return OutOfTime(null);
                int n = sent == 0 ? 1 : tries - sent;
                var round0 = new List<ProbeRequest> { new ProbeRequest(BaselineSize, n) };
                if (sent == 0 && ceiling > BaselineSize) round0.Add(new ProbeRequest(ceiling, 1));
                var r = Send(round0, "checking that the destination answers", MaxWait)[0];
                sent += n;
                if (r.Outcome == ProbeOutcome.Reply) { answered = true; break; }
            }
            if (!answered)
            {
                _result.Status = PathMtuStatus.Unknown;
                _result.Evidence.Add($"The destination answered none of {tries} echo requests of {BaselineSize} bytes: it does not answer ping (or is unreachable), so the path MTU cannot be measured this way.");
                return _result;
            }
            _result.Evidence.Add(_rtt.HasValue
                ? string.Format(c, "{0}-byte probes are answered (round trip {1:0.###} ms; each probe waits {2:0} ms).", BaselineSize, _rtt.Value.TotalMilliseconds, Wait.TotalMilliseconds)
                : string.Format(c, "{0}-byte probes are answered.", BaselineSize));

            int floor = Math.Max(Minimum, Math.Min(Floor, ceiling - 1));
            for (int round = 1; round <= 64; round++)
            {
                int? lo = LargestPass();
                int hi = SmallestFailAbove(lo ?? 0) ?? ceiling + 1;
                bool hiConfirmed = hi > ceiling || Confirmed(hi);

                if (lo.HasValue && hi - lo.Value == 1 && hiConfirmed) return Measured(lo.Value, hi, ceiling);
                if (!lo.HasValue && hi == Minimum && hiConfirmed)
                {
                    _result.Status = PathMtuStatus.Unknown;
                    MarkBlackhole(hi);
                    _result.Evidence.Add(string.Format(c, "Even {0}-byte packets with DF set fail while {1}-byte ones pass.", Minimum, BaselineSize));
                    return _result;
                }
                if (_elapsed() >= TimeLimit) return OutOfTime(lo);

                var requests = new List<ProbeRequest>();
                var chosen = new HashSet<int>();
                void Add(int size, int packets)
                {
                    if (size < Minimum || size > ceiling || !chosen.Add(size)) return;
                    requests.Add(new ProbeRequest(size, packets));
                }
                if (!hiConfirmed) Add(hi, tries - _sizes[hi].Fails);
                int low = lo ?? 0;
                foreach (var h in _hints.OrderBy(x => x).ToList())
                {
                    if (h > low && h < hi && !_sizes.ContainsKey(h)) Add(h, 1);
                    if (h + 1 > low && h + 1 < hi && !_sizes.ContainsKey(h + 1)) Add(h + 1, 1);
                }
                _hints.Clear();
                int spreadFrom;
                if (lo.HasValue) spreadFrom = lo.Value;
                else
                {
                    if (!_sizes.ContainsKey(ceiling)) Add(ceiling, 1);   // when round 0 was repeated without it
                    if (!_sizes.ContainsKey(floor) && floor < hi) { Add(floor, 1); spreadFrom = floor; }
                    else { if (!_sizes.ContainsKey(Minimum)) Add(Minimum, 1); spreadFrom = Minimum; }
                }
                int top = Math.Min(hi, ceiling);
                int budget = Math.Max(1, ProbesPerRound - requests.Count);
                var spread = Spread(spreadFrom, top, budget, out bool all);
                // When the sizes left all fit in this round, each gets every try at once: the round settles
                // the boundary instead of leaving a retry for one more round.
                bool finalRound = all && lo.HasValue;
                foreach (var s in spread) Add(s, finalRound ? tries : 1);
                if (requests.Count == 0) break; // nothing left to learn (cannot happen with a consistent prober)

                _result.Rounds++;
                var results = Send(requests, "probing " + string.Join(", ", requests.Select(q => q.Size.ToString(c))) + " bytes at once", Wait);
                _result.Evidence.Add(DescribeRound(_result.Rounds, requests, results));
            }
            int? last = LargestPass();
            return last.HasValue ? OutOfTime(last) : OutOfTime(null);
        }

        /// <summary>Up to <paramref name="count"/> sizes not yet probed, spread evenly strictly between <paramref name="a"/> and <paramref name="b"/>.</summary>
        private List<int> Spread(int a, int b, int count, out bool all)
        {
            var open = new List<int>();
            for (int s = a + 1; s < b; s++)
                if (!_sizes.ContainsKey(s)) { open.Add(s); if (open.Count > 4096) break; }
            all = open.Count <= count;
            if (all) return open;
            var picked = new List<int>();
            for (int j = 1; j <= count; j++)
            {
                int idx = (int)Math.Round((double)j * (open.Count + 1) / (count + 1)) - 1;
                idx = Math.Max(0, Math.Min(open.Count - 1, idx));
                if (!picked.Contains(open[idx])) picked.Add(open[idx]);
            }
            return picked;
        }

        private int? LargestPass()
        {
            int? best = null;
            foreach (var kv in _sizes)
                if (kv.Value.Passed && kv.Key >= Minimum && (!best.HasValue || kv.Key > best.Value)) best = kv.Key;
            return best;
        }

        private int? SmallestFailAbove(int lo)
        {
            int? best = null;
            foreach (var kv in _sizes)
                if (!kv.Value.Passed && kv.Key > lo && (kv.Value.TooBig || kv.Value.Fails > 0) && (!best.HasValue || kv.Key < best.Value)) best = kv.Key;
            return best;
        }

        private bool Confirmed(int size)
            => _sizes.TryGetValue(size, out var st) && !st.Passed && (st.TooBig || st.Fails >= Math.Max(1, Tries));

        private void MarkBlackhole(int size)
        {
            if (_sizes.TryGetValue(size, out var st) && !st.TooBig && !st.OtherError && size > BaselineSize)
            {
                _result.Blackhole = true;
                _result.Evidence.Add(string.Format(CultureInfo.InvariantCulture, "{0} bytes: no answer to {1} tries and no \"fragmentation needed\" came back (a blackhole if smaller sizes pass).", size, st.Fails));
            }
        }

        private PathMtuSearchResult Measured(int lo, int hi, int ceiling)
        {
            var c = CultureInfo.InvariantCulture;
            _result.Status = PathMtuStatus.Measured;
            _result.PathMtu = lo;
            if (lo >= ceiling)
            {
                _result.Evidence.Add(string.Format(c, "{0}-byte packets with DF set pass: the whole route MTU is usable.", ceiling));
                return _result;
            }
            if (_sizes.TryGetValue(hi, out var st) && st.TooBig)
                _result.Evidence.Add(string.Format(c, "{0} bytes: too big{1}.", hi, string.IsNullOrEmpty(st.Detail) ? "" : ": " + st.Detail));
            MarkBlackhole(hi);
            _result.Evidence.Add(string.Format(c, "{0}-byte packets with DF set pass; {1}-byte packets do not.", lo, hi));
            return _result;
        }

        private PathMtuSearchResult OutOfTime(int? lowerBound)
        {
            _result.Status = lowerBound.HasValue ? PathMtuStatus.LowerBound : PathMtuStatus.Unknown;
            _result.PathMtu = lowerBound;
            _result.Evidence.Add(string.Format(CultureInfo.InvariantCulture,
                "The search stopped at its time limit of {0:0} s" + (lowerBound.HasValue ? "; {1} bytes is a lower bound." : "."), TimeLimit.TotalSeconds, lowerBound));
            return _result;
        }

        private IList<ProbeResult> Send(List<ProbeRequest> requests, string what, TimeSpan wait)
        {
            OnProbe?.Invoke(requests[0].Size, what);
            var results = _prober.ProbeRound(requests, wait);
            for (int i = 0; i < requests.Count; i++)
            {
                var q = requests[i];
                var r = i < results.Count ? results[i] : new ProbeResult(ProbeOutcome.NoReply);
                _result.Probes += q.Packets;
                if (!_sizes.TryGetValue(q.Size, out var st)) _sizes[q.Size] = st = new SizeState();
                if (r.RoundTrip.HasValue)
                {
                    if (!_rtt.HasValue || r.RoundTrip.Value > _rtt.Value) _rtt = r.RoundTrip;
                    if (!_result.RoundTrip.HasValue || r.RoundTrip.Value < _result.RoundTrip.Value) _result.RoundTrip = r.RoundTrip;
                }
                switch (r.Outcome)
                {
                    case ProbeOutcome.Reply:
                        st.Passed = true;
                        break;
                    case ProbeOutcome.TooBig:
                        st.TooBig = true;
                        st.Detail = r.Detail;
                        _result.TooBigReported = true;
                        if (r.ReportedMtu.HasValue && r.ReportedMtu.Value >= Minimum) _hints.Add(r.ReportedMtu.Value);
                        break;
                    case ProbeOutcome.Unreachable:
                        st.Fails += q.Packets;
                        st.OtherError = true;
                        st.Detail = r.Detail;
                        break;
                    default:
                        st.Fails += q.Packets;
                        break;
                }
            }
            return results;
        }

        private static string DescribeRound(int round, List<ProbeRequest> requests, IList<ProbeResult> results)
        {
            var c = CultureInfo.InvariantCulture;
            var groups = new List<string>();
            foreach (var outcome in new[] { ProbeOutcome.Reply, ProbeOutcome.TooBig, ProbeOutcome.NoReply, ProbeOutcome.Unreachable })
            {
                var sizes = new List<string>();
                for (int i = 0; i < requests.Count && i < results.Count; i++)
                    if (results[i].Outcome == outcome)
                        sizes.Add(requests[i].ToString() + (outcome == ProbeOutcome.TooBig && results[i].ReportedMtu.HasValue ? string.Format(c, " (mtu {0})", results[i].ReportedMtu) : ""));
                if (sizes.Count == 0) continue;
                var label = outcome == ProbeOutcome.Reply ? "pass" : outcome == ProbeOutcome.TooBig ? "too big" : outcome == ProbeOutcome.NoReply ? "no answer" : "error";
                groups.Add(string.Join(", ", sizes) + " " + label);
            }
            return string.Format(c, "Round {0}: {1}.", round, string.Join("; ", groups));
        }

        /// <summary>Asks a prober that sends one probe at a time, packet after packet, stopping at the first answer.</summary>
        private sealed class OneByOne : IMtuRoundProber
        {
            private readonly IMtuProber _inner;
            public OneByOne(IMtuProber inner) { _inner = inner; }
            public ProbeResult Probe(int packetSize) => _inner.Probe(packetSize);

            public IList<ProbeResult> ProbeRound(IList<ProbeRequest> probes, TimeSpan wait)
            {
                var list = new List<ProbeResult>(probes.Count);
                foreach (var q in probes)
                {
                    ProbeResult r = null;
                    for (int i = 0; i < q.Packets; i++)
                    {
                        r = _inner.Probe(q.Size);
                        if (r.Outcome == ProbeOutcome.Reply || r.Outcome == ProbeOutcome.TooBig) break;
                    }
                    list.Add(r);
                }
                return list;
            }
        }
    }
}
