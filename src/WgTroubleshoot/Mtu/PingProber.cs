using System;
using System.Collections.Generic;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using WgTroubleshoot.Native;

namespace WgTroubleshoot.Mtu
{
    /// <summary>
    /// Probes with iputils ping: <c>ping -n -M do -s (size - 28, or - 48 for IPv6) -c 1 -W wait dst</c>.
    /// The payload size excludes the IP and ICMP headers, so the packet on the wire is exactly <c>size</c>.
    /// A round (<see cref="ProbeRound"/>) starts one ping per size at once through the native runner; a
    /// retry of several packets is one ping with <c>-c n -i 0.2</c>. Waits under a second need an iputils
    /// ping from 2021 or later (<c>ping -V</c> is asked once); older ones wait whole seconds.
    /// </summary>
    public sealed class PingProber : IMtuRoundProber
    {
        /// <summary>The spacing of the packets of one retry (0.2 s, the shortest iputils allows without root).</summary>
        public static readonly TimeSpan RetryInterval = TimeSpan.FromMilliseconds(200);

        private static readonly object VersionGate = new object();
        private static string _versionOf;
        private static bool _fractionalFor;

        private readonly INativeRunner _runner;
        private bool? _fractional;

        public PingProber(INativeRunner runner, IPAddress destination, int waitSeconds = 1)
        {
            _runner = runner;
            Destination = destination;
            WaitSeconds = Math.Max(1, waitSeconds);
        }

        public IPAddress Destination { get; }
        public int WaitSeconds { get; }
        public bool IsIPv6 => Destination.AddressFamily == AddressFamily.InterNetworkV6;

        /// <summary>IP + ICMP header bytes: 28 for IPv4, 48 for IPv6.</summary>
        public static int HeaderBytes(bool ipv6) => ipv6 ? 48 : 28;

        public static List<string> Arguments(IPAddress destination, int packetSize, int waitSeconds)
            => Arguments(destination, packetSize, waitSeconds.ToString(CultureInfo.InvariantCulture), 1);

        /// <summary>Arguments for <paramref name="packets"/> packets of <paramref name="packetSize"/> bytes, each waiting <paramref name="wait"/> (ping's -W text).</summary>
        public static List<string> Arguments(IPAddress destination, int packetSize, string wait, int packets)
        {
            bool v6 = destination.AddressFamily == AddressFamily.InterNetworkV6;
            var c = CultureInfo.InvariantCulture;
            var args = new List<string>
            {
                v6 ? "-6" : "-4", "-n", "-M", "do", "-s", (packetSize - HeaderBytes(v6)).ToString(c),
                "-c", Math.Max(1, packets).ToString(c),
            };
            if (packets > 1) { args.Add("-i"); args.Add(RetryInterval.TotalSeconds.ToString("0.0##", c)); }
            args.Add("-W");
            args.Add(wait);
            args.Add(destination.ToString());
            return args;
        }

        /// <summary>Arguments for packets 0.2 s apart until the first answer (<c>-c 1 -w deadline</c>) or until <paramref name="deadlineSeconds"/>.</summary>
        public static List<string> DeadlineArguments(IPAddress destination, int packetSize, int deadlineSeconds)
        {
            bool v6 = destination.AddressFamily == AddressFamily.InterNetworkV6;
            var c = CultureInfo.InvariantCulture;
            return new List<string>
            {
                v6 ? "-6" : "-4", "-n", "-M", "do", "-s", (packetSize - HeaderBytes(v6)).ToString(c),
                "-c", "1", "-i", RetryInterval.TotalSeconds.ToString("0.0##", c), "-w", Math.Max(1, deadlineSeconds).ToString(c), destination.ToString(),
            };
        }

        /// <summary>ping's -W text for a wait: seconds with up to three decimals, or whole seconds (at least 1) for an old ping.</summary>
        public static string WaitText(TimeSpan wait, bool fractional)
        {
            var c = CultureInfo.InvariantCulture;
            if (!fractional) return Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds - 0.0005)).ToString(c);
            return Math.Max(0.05, Math.Round(wait.TotalSeconds, 3)).ToString("0.0##", c);
        }

        /// <summary>True for iputils ping 20210202 or later ("ping from iputils 20221126"), which takes -W in fractions of a second.</summary>
        public static bool ParseFractionalWait(string versionText)
        {
            var m = Regex.Match(versionText ?? "", @"iputils[^0-9]*(\d{8})");
            return m.Success && string.CompareOrdinal(m.Groups[1].Value, "20210202") >= 0;
        }

        /// <summary>What is known about the installed ping's -W: for the real runner, asked once per process.</summary>
        private bool? KnownFractional()
        {
            if (_fractional.HasValue) return _fractional;
            if (!(_runner is NativeRunner)) return null;
            var path = NativeRunner.ResolveTool("ping");
            if (path == null) return null;
            lock (VersionGate)
                if (_versionOf == path) return _fractional = _fractionalFor;
            return null;
        }

        private void Remember(bool fractional)
        {
            _fractional = fractional;
            if (!(_runner is NativeRunner)) return;
            var path = NativeRunner.ResolveTool("ping");
            if (path == null) return;
            lock (VersionGate) { _versionOf = path; _fractionalFor = fractional; }
        }

        private bool FractionalWait()
        {
            var known = KnownFractional();
            if (known.HasValue) return known.Value;
            bool fractional;
            try
            {
                var r = _runner.Run("ping", new[] { "-V" }, TimeSpan.FromSeconds(5));
                fractional = ParseFractionalWait(r.StdOut + "\n" + r.StdErr);
            }
            catch (WgException)
            {
                fractional = false;
            }
            Remember(fractional);
            return fractional;
        }

        public ProbeResult Probe(int packetSize)
        {
            var r = _runner.Run("ping", Arguments(Destination, packetSize, WaitSeconds), TimeSpan.FromSeconds(WaitSeconds + 5));
            return Parse(r.ExitCode, r.StdOut, r.StdErr);
        }

        public IList<ProbeResult> ProbeRound(IList<ProbeRequest> probes, TimeSpan wait)
        {
            // A wait of whole seconds reads the same to every ping: then the version question (needed only
            // for fractions) rides along with this round instead of costing one of its own.
            bool whole = wait.Ticks % TimeSpan.TicksPerSecond == 0 && wait >= TimeSpan.FromSeconds(1);
            bool askVersion = whole && !KnownFractional().HasValue && _runner is INativeBatchRunner;
            var waitText = whole ? WaitText(wait, false) : WaitText(wait, FractionalWait());
            var commands = new List<NativeInvocation>(probes.Count + 1);
            var longest = TimeSpan.Zero;
            foreach (var q in probes)
            {
                commands.Add(new NativeInvocation("ping", q.DeadlineSeconds.HasValue
                    ? DeadlineArguments(Destination, q.Size, q.DeadlineSeconds.Value)
                    : Arguments(Destination, q.Size, waitText, q.Packets)));
                var t = q.DeadlineSeconds.HasValue ? TimeSpan.FromSeconds(q.DeadlineSeconds.Value) : TimeSpan.FromTicks(RetryInterval.Ticks * (q.Packets - 1));
                if (t > longest) longest = t;
            }
            var limit = longest + TimeSpan.FromSeconds(double.Parse(waitText, CultureInfo.InvariantCulture)) + TimeSpan.FromSeconds(5);
            var results = new List<ProbeResult>(probes.Count);
            if (askVersion) commands.Add(new NativeInvocation("ping", new[] { "-V" }));
            if (_runner is INativeBatchRunner batch && commands.Count > 1)
            {
                var all = batch.RunAll(commands, limit);
                for (int i = 0; i < probes.Count; i++) results.Add(Parse(all[i].ExitCode, all[i].StdOut, all[i].StdErr));
                if (askVersion) Remember(ParseFractionalWait(all[probes.Count].StdOut + "\n" + all[probes.Count].StdErr));
            }
            else
            {
                foreach (var cmd in commands)
                {
                    var r = _runner.Run(cmd.Tool, cmd.Arguments, limit);
                    results.Add(Parse(r.ExitCode, r.StdOut, r.StdErr));
                }
            }
            return results;
        }

        private static readonly Regex TooBig = new Regex(
            @"(Frag needed and DF set|Packet too big|message too long|Message too long)[^0-9\n]*mtu\s*[=:]?\s*(\d+)?", RegexOptions.IgnoreCase);
        private static readonly Regex Reply = new Regex(@"\bbytes from\b", RegexOptions.IgnoreCase);
        private static readonly Regex Time = new Regex(@"\bbytes from\b.*?\btime[=<]\s*([0-9]+(?:\.[0-9]+)?)\s*ms", RegexOptions.IgnoreCase);
        private static readonly Regex FromError = new Regex(@"^From \S+ icmp_seq=\d+ (.+)$", RegexOptions.Multiline);

        /// <summary>Reads ping's output: an answer, "too big" (with the MTU it names), silence or another error.</summary>
        public static ProbeResult Parse(int exitCode, string stdout, string stderr)
        {
            var all = (stdout ?? "") + "\n" + (stderr ?? "");
            if (Reply.IsMatch(stdout ?? "")) return new ProbeResult(ProbeOutcome.Reply, roundTrip: FastestReply(stdout));
            var m = TooBig.Match(all);
            if (m.Success)
            {
                int? mtu = null;
                if (m.Groups[2].Success && int.TryParse(m.Groups[2].Value, NumberStyles.None, CultureInfo.InvariantCulture, out var v)) mtu = v;
                return new ProbeResult(ProbeOutcome.TooBig, mtu, FirstLine(m.Value));
            }
            var e = FromError.Match(stdout ?? "");
            if (e.Success) return new ProbeResult(ProbeOutcome.Unreachable, null, e.Value.Trim());
            if (exitCode >= 2 || (stderr ?? "").Trim().Length > 0)
            {
                var first = FirstLine((stderr ?? "").Trim());
                if (first.Length > 0) return new ProbeResult(ProbeOutcome.Unreachable, null, first);
            }
            return new ProbeResult(ProbeOutcome.NoReply);
        }

        private static TimeSpan? FastestReply(string stdout)
        {
            double? best = null;
            foreach (Match m in Time.Matches(stdout ?? ""))
                if (double.TryParse(m.Groups[1].Value, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var ms) && (!best.HasValue || ms < best.Value)) best = ms;
            return best.HasValue ? TimeSpan.FromTicks((long)(best.Value * TimeSpan.TicksPerMillisecond)) : (TimeSpan?)null;
        }

        private static string FirstLine(string s)
        {
            int i = s.IndexOf('\n');
            return (i < 0 ? s : s.Substring(0, i)).Trim();
        }
    }
}
