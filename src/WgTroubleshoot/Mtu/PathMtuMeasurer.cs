using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.Linq;
using System.Management.Automation;
using System.Net;
using System.Net.Sockets;
using WgTroubleshoot.Native;

namespace WgTroubleshoot.Mtu
{
    /// <summary>How <see cref="PathMtuMeasurer"/> searches.</summary>
    public enum MtuSearchStrategy
    {
        /// <summary>Rounds of probes sent together, k sizes at a time (<see cref="PathMtuSearch"/>): the default.</summary>
        Parallel,
        /// <summary>One probe at a time, bisection with one-second waits (<see cref="SequentialPathMtuSearch"/>): the baseline the benchmark compares with.</summary>
        Sequential,
    }

    /// <summary>
    /// Measures the underlay path MTU to one destination and, given a tunnel, checks whether full-size
    /// packets cross it. Knows WireGuard's overheads; the probes themselves come from a prober factory.
    /// </summary>
    public sealed class PathMtuMeasurer
    {
        private readonly INativeRunner _runner;
        private readonly Func<IPAddress, IMtuProber> _proberFor;

        public PathMtuMeasurer(INativeRunner runner, Func<IPAddress, IMtuProber> proberFor = null)
        {
            _runner = runner;
            _proberFor = proberFor ?? (a => new PingProber(runner, a));
        }

        public int Tries { get; set; } = 3;
        public TimeSpan TimeLimit { get; set; } = TimeSpan.FromSeconds(60);
        public Action<int, string> OnProbe { get; set; }
        /// <summary>Parallel rounds (default) or the sequential bisection.</summary>
        public MtuSearchStrategy Strategy { get; set; } = MtuSearchStrategy.Parallel;
        /// <summary>New sizes per round of the parallel search.</summary>
        public int ProbesPerRound { get; set; } = 8;

        /// <summary>WireGuard's outer overhead: 60 bytes over IPv4 (20 IP + 8 UDP + 32), 80 over IPv6.</summary>
        public static int Overhead(IPAddress endpoint) => endpoint.AddressFamily == AddressFamily.InterNetworkV6 ? 80 : 60;

        /// <summary>"203.0.113.2:51820" or "[2001:db8::1]:51820" → the address; null when not an address.</summary>
        public static IPAddress EndpointAddress(string endpoint)
        {
            if (string.IsNullOrEmpty(endpoint) || endpoint == "(none)") return null;
            string host = endpoint;
            if (host.StartsWith("[", StringComparison.Ordinal))
            {
                int close = host.IndexOf(']');
                if (close < 0) return null;
                host = host.Substring(1, close - 1);
            }
            else
            {
                int colon = host.LastIndexOf(':');
                if (colon > 0 && host.IndexOf(':') == colon) host = host.Substring(0, colon);
            }
            int pct = host.IndexOf('%');
            if (pct > 0) host = host.Substring(0, pct);
            return IPAddress.TryParse(host, out var a) ? a : null;
        }

        /// <summary>
        /// The first host address of a peer's AllowedIPs: the address itself for /32 and /128, the network
        /// address + 1 otherwise; null for /0 (no single host to probe).
        /// </summary>
        public static IPAddress FirstHost(IEnumerable<string> allowedIps)
        {
            foreach (var p in allowedIps ?? Enumerable.Empty<string>())
            {
                var prefix = Config.IpPrefix.Parse(p?.Trim());
                if (prefix == null || prefix.Length == 0) continue;
                return prefix.FirstHost() ?? prefix.Address;
            }
            return null;
        }

        /// <summary>Measures the path to <paramref name="destination"/>; fills the tunnel parts when a tunnel MTU is given.</summary>
        public PathMtuResult Measure(IPAddress destination, int? tunnelMtu, IPAddress tunnelTarget)
        {
            var evidence = new List<string>();
            var c = CultureInfo.InvariantCulture;
            var result = new PathMtuResult { Destination = destination.ToString(), TunnelMtu = tunnelMtu };
            bool v6 = destination.AddressFamily == AddressFamily.InterNetworkV6;

            var route = RouteLookup.Get(_runner, destination);
            result.RouteMtu = route.EffectiveMtu;
            result.RouteDevice = route.Device;
            evidence.Add(string.Format(c, "Route to {0}: dev {1}{2}, link MTU {3}{4}.", destination, route.Device ?? "?",
                route.Via != null ? " via " + route.Via : "", route.LinkMtu?.ToString(c) ?? "?",
                route.RouteMtu.HasValue ? string.Format(c, ", route mtu {0}{1}", route.RouteMtu, route.MtuFromCache ? " (learned path MTU in the route cache)" : "") : ""));
            int ceiling = route.LinkMtu ?? route.RouteMtu ?? 1500;
            if (route.RouteMtu.HasValue && !route.MtuFromCache) ceiling = Math.Min(ceiling, route.RouteMtu.Value);

            var watch = Stopwatch.StartNew();
            PathMtuSearchResult found;
            if (Strategy == MtuSearchStrategy.Sequential)
            {
                found = new SequentialPathMtuSearch(_proberFor(destination), () => watch.Elapsed)
                {
                    Tries = Tries,
                    TimeLimit = TimeLimit,
                    Floor = 1280,
                    Minimum = v6 ? 1280 : 576,
                    BaselineSize = v6 ? 104 : 84,
                    OnProbe = OnProbe,
                }.Run(ceiling);
            }
            else
            {
                found = new PathMtuSearch(_proberFor(destination), () => watch.Elapsed)
                {
                    Tries = Tries,
                    TimeLimit = TimeLimit,
                    Floor = 1280,
                    Minimum = v6 ? 1280 : 576,
                    BaselineSize = v6 ? 104 : 84,
                    ProbesPerRound = ProbesPerRound,
                    OnProbe = OnProbe,
                }.Run(ceiling);
            }
            result.Probes = found.Probes;
            result.Rounds = found.Rounds;
            evidence.AddRange(found.Evidence);
            result.Status = found.Status;
            result.PathMtu = found.PathMtu;
            result.Blackhole = found.Blackhole && !found.TooBigReported && found.PathMtu.HasValue;
            if (result.Blackhole)
                evidence.Add(string.Format(c, "Packets larger than {0} bytes vanish without a \"fragmentation needed\" reply: a PMTU blackhole. wg-quick's automatic MTU cannot see it.", found.PathMtu));
            if (found.PathMtu.HasValue)
            {
                result.RecommendedMtu = found.PathMtu.Value - Overhead(destination);
                result.PppoeLikely = found.PathMtu.Value == 1492;
                if (result.PppoeLikely) evidence.Add("A path MTU of 1492 is typical of PPPoE (DSL or fibre with PPPoE).");
                if (tunnelMtu.HasValue && tunnelMtu.Value > result.RecommendedMtu.Value)
                    evidence.Add(string.Format(c, "The tunnel MTU {0} is above {1} (path MTU {2} - {3}): full-size tunnel packets do not fit the path.", tunnelMtu, result.RecommendedMtu, found.PathMtu, Overhead(destination)));
            }

            if (tunnelMtu.HasValue && tunnelTarget != null)
            {
                result.TunnelTarget = tunnelTarget.ToString();
                result.FullSizePassesInTunnel = Strategy == MtuSearchStrategy.Sequential
                    ? ProbeTunnelSequential(tunnelTarget, tunnelMtu.Value, evidence)
                    : ProbeTunnel(tunnelTarget, tunnelMtu.Value, evidence);
            }
            result.Elapsed = watch.Elapsed;
            result.Evidence = evidence.ToArray();
            return result;
        }

        /// <summary>
        /// Packets of the tunnel MTU with DF set to the peer's tunnel address, together with small ones:
        /// true/false, null when the target answers nothing at all.
        /// </summary>
        private bool? ProbeTunnel(IPAddress target, int tunnelMtu, List<string> evidence)
        {
            var c = CultureInfo.InvariantCulture;
            var prober = _proberFor(target);
            var round = prober as IMtuRoundProber;
            if (round == null) return ProbeTunnelSequential(target, tunnelMtu, evidence);
            bool v6 = target.AddressFamily == AddressFamily.InterNetworkV6;
            int small = v6 ? 104 : 84;
            // Both sizes at once, each sent every 0.2 s until its first answer or for a second (time for a
            // handshake first): a passing tunnel answers in a round trip, a lossy one gets several tries.
            var deadline = TimeSpan.FromSeconds(Math.Max(1, Tries / 3));
            OnProbe?.Invoke(tunnelMtu, "probing across the tunnel");
            var r = round.ProbeRound(new List<ProbeRequest> { ProbeRequest.UntilAnswered(tunnelMtu, deadline), ProbeRequest.UntilAnswered(small, deadline) }, deadline);
            if (r[0].Outcome == ProbeOutcome.Reply)
            {
                evidence.Add(string.Format(c, "Across the tunnel: {0}-byte packets with DF set reach {1}.", tunnelMtu, target));
                return true;
            }
            if (r[0].Outcome == ProbeOutcome.TooBig)
            {
                evidence.Add(string.Format(c, "Across the tunnel: {0}-byte packets are refused as too big ({1}).", tunnelMtu, r[0].Detail));
                return false;
            }
            if (r[1].Outcome == ProbeOutcome.Reply)
            {
                evidence.Add(string.Format(c, "Across the tunnel: {0} answers {1}-byte packets but not {2}-byte ones (sent every 0.2 s for {3:0} s): full-size packets are lost.", target, small, tunnelMtu, deadline.TotalSeconds));
                return false;
            }
            evidence.Add(string.Format(c, "Across the tunnel: {0} answers no ping at all, so full-size packets could not be tested (use -TunnelTarget).", target));
            return null;
        }

        /// <summary>The sequential tunnel probe of <see cref="MtuSearchStrategy.Sequential"/>: one packet at a time, one second each.</summary>
        private bool? ProbeTunnelSequential(IPAddress target, int tunnelMtu, List<string> evidence)
        {
            var c = CultureInfo.InvariantCulture;
            var prober = _proberFor(target);
            bool v6 = target.AddressFamily == AddressFamily.InterNetworkV6;
            OnProbe?.Invoke(tunnelMtu, "probing across the tunnel");
            for (int t = 0; t < Tries; t++)
            {
                var r = prober.Probe(tunnelMtu);
                if (r.Outcome == ProbeOutcome.Reply)
                {
                    evidence.Add(string.Format(c, "Across the tunnel: {0}-byte packets with DF set reach {1}.", tunnelMtu, target));
                    return true;
                }
                if (r.Outcome == ProbeOutcome.TooBig)
                {
                    evidence.Add(string.Format(c, "Across the tunnel: {0}-byte packets are refused as too big ({1}).", tunnelMtu, r.Detail));
                    return false;
                }
            }
            int small = v6 ? 104 : 84;
            for (int t = 0; t < Tries; t++)
            {
                if (prober.Probe(small).Outcome == ProbeOutcome.Reply)
                {
                    evidence.Add(string.Format(c, "Across the tunnel: {0} answers {1}-byte packets but not {2}-byte ones: full-size packets are lost.", target, small, tunnelMtu));
                    return false;
                }
            }
            evidence.Add(string.Format(c, "Across the tunnel: {0} answers no ping at all, so full-size packets could not be tested (use -TunnelTarget).", target));
            return null;
        }
    }
}
