using System;
using System.Globalization;

namespace WgTroubleshoot.Mtu
{
    /// <summary>
    /// The sequential search (kept as the baseline that <see cref="PathMtuSearch"/> is measured against, and
    /// for <see cref="MtuSearchStrategy.Sequential"/>): finds the path MTU by bisection with don't-fragment
    /// probes, one probe at a time. A size passes when any of a few tries
    /// is answered (so loss is not taken for "too big"); it fails at the first "too big" or when every try
    /// goes unanswered. A reported MTU is tried next, so a path that answers "fragmentation needed"
    /// converges in a couple of probes; a blackhole (silent drops) is found by bisection alone. The whole
    /// search is bounded by a deadline.
    /// </summary>
    public sealed class SequentialPathMtuSearch
    {
        private readonly IMtuProber _prober;
        private readonly Func<TimeSpan> _elapsed;

        /// <param name="prober">Sends the probes.</param>
        /// <param name="elapsed">Time since the search started (a fake clock in tests).</param>
        public SequentialPathMtuSearch(IMtuProber prober, Func<TimeSpan> elapsed)
        {
            _prober = prober ?? throw new ArgumentNullException(nameof(prober));
            _elapsed = elapsed ?? throw new ArgumentNullException(nameof(elapsed));
        }

        /// <summary>Tries per size before silence counts as failure.</summary>
        public int Tries { get; set; } = 3;
        /// <summary>The whole search stops after this long.</summary>
        public TimeSpan TimeLimit { get; set; } = TimeSpan.FromSeconds(60);
        /// <summary>The size bisection starts from (1280, the IPv6 minimum and a size every sane path carries).</summary>
        public int Floor { get; set; } = 1280;
        /// <summary>The smallest size searched when even <see cref="Floor"/> fails (576 for IPv4; 1280 for IPv6).</summary>
        public int Minimum { get; set; } = 576;
        /// <summary>A size small enough to pass any path: used to tell "answers nothing" from "too big".</summary>
        public int BaselineSize { get; set; } = 84;
        /// <summary>Called before each size is tried: (size, what is being done).</summary>
        public Action<int, string> OnProbe { get; set; }

        private PathMtuSearchResult _result;
        private bool _outOfTime;

        /// <summary>Searches between <see cref="Floor"/> and <paramref name="ceiling"/> (the local route's MTU).</summary>
        public PathMtuSearchResult Run(int ceiling)
        {
            _result = new PathMtuSearchResult();
            _outOfTime = false;
            var c = CultureInfo.InvariantCulture;
            if (ceiling < Minimum) ceiling = Minimum;

            if (Test(BaselineSize, "checking that the destination answers", out _) != true)
            {
                _result.Status = PathMtuStatus.Unknown;
                _result.Evidence.Add(_outOfTime
                    ? "The time limit was reached before the destination answered."
                    : $"The destination answered none of {Tries} echo requests of {BaselineSize} bytes: it does not answer ping (or is unreachable), so the path MTU cannot be measured this way.");
                return _result;
            }
            _result.Evidence.Add($"{BaselineSize}-byte probes are answered.");

            int hi;
            var top = Test(ceiling, "trying the route MTU", out var hint);
            if (top == true)
            {
                _result.Status = PathMtuStatus.Measured;
                _result.PathMtu = ceiling;
                _result.Evidence.Add(string.Format(c, "{0}-byte packets with DF set pass: the whole route MTU is usable.", ceiling));
                return _result;
            }
            if (top == null) return OutOfTime(null);
            hi = ceiling;

            if (hint.HasValue && hint.Value >= Minimum && hint.Value < hi)
            {
                // A router (or the local stack) named its MTU: confirm it directly, then one byte more.
                var h = Test(hint.Value, "trying the reported MTU", out var hint2);
                if (h == null) return OutOfTime(null);
                if (h == true) return Bisect(hint.Value, hi, hint.Value + 1);
                hi = hint.Value;
                hint = hint2;
            }
            int floor = Math.Min(Floor, hi - 1);
            if (floor < Minimum) floor = Minimum;
            var f = Test(floor, "trying the floor", out var floorHint);
            if (f == null) return OutOfTime(null);
            if (f == true) return Bisect(floor, hi, hint);
            hi = floor;
            if (floor <= Minimum)
            {
                _result.Status = PathMtuStatus.Unknown;
                _result.Evidence.Add(string.Format(c, "Even {0}-byte packets with DF set fail while small ones pass.", floor));
                return _result;
            }
            var m = Test(Minimum, "trying the minimum", out _);
            if (m == null) return OutOfTime(null);
            if (m == false)
            {
                _result.Status = PathMtuStatus.Unknown;
                _result.Evidence.Add(string.Format(c, "Even {0}-byte packets with DF set fail while {1}-byte ones pass.", Minimum, BaselineSize));
                return _result;
            }
            return Bisect(Minimum, hi, floorHint);
        }

        private PathMtuSearchResult Bisect(int lo, int hi, int? hint)
        {
            // Invariant: lo passes, hi fails.
            while (hi - lo > 1)
            {
                int mid = hint.HasValue && hint.Value > lo && hint.Value < hi ? hint.Value : lo + (hi - lo) / 2;
                bool wasHint = hint == mid;
                var r = Test(mid, "bisecting", out hint);
                if (r == null) return OutOfTime(lo);
                if (r == true)
                {
                    lo = mid;
                    // A reported MTU that passes is most likely exact: check the next byte first.
                    if (wasHint) hint = mid + 1;
                }
                else hi = mid;
            }
            _result.Status = PathMtuStatus.Measured;
            _result.PathMtu = lo;
            _result.Evidence.Add(string.Format(CultureInfo.InvariantCulture, "{0}-byte packets with DF set pass; {1}-byte packets do not.", lo, hi));
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

        /// <summary>True: passes. False: fails. Null: the time ran out before an answer.</summary>
        private bool? Test(int size, string what, out int? reportedMtu)
        {
            reportedMtu = null;
            var c = CultureInfo.InvariantCulture;
            bool silentOnly = true;
            for (int t = 0; t < Tries; t++)
            {
                if (_elapsed() >= TimeLimit) { _outOfTime = true; return null; }
                OnProbe?.Invoke(size, what);
                var r = _prober.Probe(size);
                _result.Probes++;
                switch (r.Outcome)
                {
                    case ProbeOutcome.Reply:
                        return true;
                    case ProbeOutcome.TooBig:
                        _result.TooBigReported = true;
                        reportedMtu = r.ReportedMtu;
                        _result.Evidence.Add(string.Format(c, "{0} bytes: too big{1}{2}", size,
                            r.ReportedMtu.HasValue ? string.Format(c, " (mtu {0})", r.ReportedMtu) : "",
                            string.IsNullOrEmpty(r.Detail) ? "." : ": " + r.Detail));
                        return false;
                    case ProbeOutcome.Unreachable:
                        silentOnly = false;
                        _result.Evidence.Add(string.Format(c, "{0} bytes: {1}", size, string.IsNullOrEmpty(r.Detail) ? "unreachable." : r.Detail));
                        break;
                }
            }
            if (silentOnly && size > BaselineSize)
            {
                _result.Blackhole = true;
                _result.Evidence.Add(string.Format(c, "{0} bytes: no answer to {1} tries and no \"fragmentation needed\" came back (a blackhole if smaller sizes pass).", size, Tries));
            }
            return false;
        }
    }
}
