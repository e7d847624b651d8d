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
    /// </summary>
    public sealed class PingProber : IMtuProber
    {
        private readonly INativeRunner _runner;

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
        {
            bool v6 = destination.AddressFamily == AddressFamily.InterNetworkV6;
            var c = CultureInfo.InvariantCulture;
            return new List<string>
            {
                v6 ? "-6" : "-4", "-n", "-M", "do", "-s", (packetSize - HeaderBytes(v6)).ToString(c),
                "-c", "1", "-W", waitSeconds.ToString(c), destination.ToString(),
            };
        }

        public ProbeResult Probe(int packetSize)
        {
            var r = _runner.Run("ping", Arguments(Destination, packetSize, WaitSeconds), TimeSpan.FromSeconds(WaitSeconds + 5));
            return Parse(r.ExitCode, r.StdOut, r.StdErr);
        }

        private static readonly Regex TooBig = new Regex(
            @"(Frag needed and DF set|Packet too big|message too long|Message too long)[^0-9\n]*mtu\s*[=:]?\s*(\d+)?", RegexOptions.IgnoreCase);
        private static readonly Regex Reply = new Regex(@"\bbytes from\b", RegexOptions.IgnoreCase);
        private static readonly Regex FromError = new Regex(@"^From \S+ icmp_seq=\d+ (.+)$", RegexOptions.Multiline);

        /// <summary>Reads ping's output: an answer, "too big" (with the MTU it names), silence or another error.</summary>
        public static ProbeResult Parse(int exitCode, string stdout, string stderr)
        {
            var all = (stdout ?? "") + "\n" + (stderr ?? "");
            if (Reply.IsMatch(stdout ?? "")) return new ProbeResult(ProbeOutcome.Reply);
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

        private static string FirstLine(string s)
        {
            int i = s.IndexOf('\n');
            return (i < 0 ? s : s.Substring(0, i)).Trim();
        }
    }
}
