using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using System.Threading;
using System.Threading.Tasks;
using WgTroubleshoot.Native;

namespace WgTroubleshoot.Liveness
{
    /// <summary>What one liveness probe sent and what came back (recorded in the snapshot, replayed in tests).</summary>
    public sealed class ProbeResult
    {
        public string Interface { get; set; }
        public string Peer { get; set; }
        /// <summary>The address inside the peer's AllowedIPs the probe went to; null when none was usable.</summary>
        public string Target { get; set; }
        /// <summary>What was sent, in words ("ICMP echo to 192.0.2.1 via wg0 (ping -I wg0)").</summary>
        public string Sent { get; set; }
        /// <summary>The route the kernel answered for the target (`ip route get`), as text.</summary>
        public string Route { get; set; }
        /// <summary>True when the probe was sent (the route led into the tunnel).</summary>
        public bool WasSent { get; set; }
        /// <summary>Why no probe was sent (no target, route leaves elsewhere, tool missing); null when sent.</summary>
        public string NotSentReason { get; set; }
        public long RxBefore { get; set; }
        public long RxAfter { get; set; }
        public long TxBefore { get; set; }
        public long TxAfter { get; set; }
        /// <summary>How long the receive counter was watched.</summary>
        public double WaitedSeconds { get; set; }
        /// <summary>
        /// True when the peer's receive counter grew after the probe by more than handshake initiations of its own
        /// (<see cref="TunnelProbe.IsAnswer"/>): the peer receives and answers.
        /// </summary>
        public bool Answered => WasSent && TunnelProbe.IsAnswer(RxAfter - RxBefore);
        /// <summary>Every endpoint seen for the peer while the counters were watched, in order, deduplicated.</summary>
        public List<string> EndpointsSeen { get; set; } = new List<string>();

        public long RxGrowth => Math.Max(0, RxAfter - RxBefore);

        /// <summary>One line of evidence naming what was sent and measured.</summary>
        public string Evidence
        {
            get
            {
                if (!WasSent) return $"Liveness probe not sent: {NotSentReason}";
                var s = string.Format(CultureInfo.InvariantCulture, "Liveness probe: {0}; route: {1}; peer rx {2} -> {3} bytes", Sent, Route, RxBefore, RxAfter);
                if (Answered)
                    return s + string.Format(CultureInfo.InvariantCulture, " within {0:0.0} s: the peer receives and answers{1}.", WaitedSeconds,
                        RxGrowth <= TunnelProbe.KeepaliveBytes * 2 ? " (with a keepalive only)" : "");
                return s + string.Format(CultureInfo.InvariantCulture, " in {0:0.0} s: nothing came back (a peer that receives a data packet answers within Keepalive-Timeout, 10 s).", WaitedSeconds);
            }
        }
    }

    /// <summary>The counters of one peer read while a probe is watched.</summary>
    public struct PeerCounters
    {
        public PeerCounters(long rx, long tx, string endpoint) { Rx = rx; Tx = tx; Endpoint = endpoint; }
        public long Rx { get; }
        public long Tx { get; }
        public string Endpoint { get; }
    }

    /// <summary>
    /// Proves liveness with the protocol: a peer that receives a data packet answers within Keepalive-Timeout
    /// (10 s) with at least a keepalive (WireGuard paper 6.5, the passive keepalive). One packet is sent into the
    /// tunnel towards an address inside the peer's AllowedIPs, only after `ip route get` confirms it leaves by the
    /// WireGuard interface itself, and the peer's receive counter is watched (bounded). Probes for many peers go
    /// out together and are watched with one read of the interface per poll.
    /// </summary>
    public sealed class TunnelProbe
    {
        /// <summary>Keepalive-Timeout plus a second of slack.</summary>
        public static readonly TimeSpan DefaultWait = TimeSpan.FromSeconds(11);
        /// <summary>Bytes a keepalive adds to the receive counter (header and tag, no payload).</summary>
        public const long KeepaliveBytes = 32;

        private readonly INativeRunner _runner;
        private readonly Func<string, IDictionary<string, PeerCounters>> _readCounters;
        private readonly Action<string> _verbose;

        public TunnelProbe(INativeRunner runner, Func<string, IDictionary<string, PeerCounters>> readCounters, Action<string> verbose = null)
        {
            _runner = runner;
            _readCounters = readCounters;
            _verbose = verbose ?? (_ => { });
        }

        public TimeSpan Wait { get; set; } = DefaultWait;
        public TimeSpan PollInterval { get; set; } = TimeSpan.FromMilliseconds(250);

        /// <summary>
        /// Sends the probe for one result (sets Sent/WasSent or NotSentReason) and returns what to dispose when the
        /// watch ends. The default pings through the native runner, bound to the interface.
        /// </summary>
        public Func<string, ProbeResult, IDisposable> Sender { get; set; }

        /// <summary>
        /// True when two samples already prove two-way traffic now: both counters grew between them.
        /// A lone keepalive going out (tx grows, rx flat) proves nothing: keepalives are not answered.
        /// </summary>
        public static bool TwoWayProven(long txDelta, long rxDelta) => txDelta > 0 && IsAnswer(rxDelta);

        /// <summary>Bytes a handshake initiation adds to the receive counter (message type 1, 148 bytes).</summary>
        public const long InitiationBytes = 148;

        /// <summary>
        /// True when what the peer's receive counter grew by shows the peer answers: anything but a few handshake
        /// initiations of its own. An initiation only says the peer's packets reach this host, not that this host's
        /// reach the peer (its initiations keep coming when nothing of ours arrives). Transport messages are 32 bytes
        /// plus a multiple of 16, so one to three initiations (148, 296, 444 bytes) are never data alone.
        /// </summary>
        public static bool IsAnswer(long rxDelta) => rxDelta > 0 && !(rxDelta % InitiationBytes == 0 && rxDelta / InitiationBytes <= 3);

        /// <summary>
        /// An address inside the peer's AllowedIPs to probe: a host prefix (the peer's own tunnel address) first,
        /// then the first host of this interface's own subnet where the peer's prefix covers it (the usual
        /// server address), then the first host of a prefix no wider than /8 (IPv4) or /16 (IPv6). Never one of
        /// this interface's own addresses, never a default route's nonsense first host. IPv4 before IPv6.
        /// </summary>
        public static IPAddress ChooseTarget(IEnumerable<string> allowedIps, IEnumerable<string> ownAddresses)
        {
            var allowed = (allowedIps ?? Enumerable.Empty<string>()).Select(ParsePrefix).Where(c => c != null).ToList();
            var own = (ownAddresses ?? Enumerable.Empty<string>()).Select(ParsePrefix).Where(c => c != null).ToList();
            bool IsOwn(IPAddress a) => own.Any(o => o.Address.Equals(a));
            foreach (var v6 in new[] { false, true })
            {
                var fam = allowed.Where(c => c.IsV6 == v6).ToList();
                foreach (var c in fam.Where(c => c.IsHost))
                    if (!IsOwn(c.Address)) return c.Address;
                foreach (var o in own.Where(o => o.IsV6 == v6 && !o.IsHost))
                {
                    var first = o.FirstHost();
                    if (first == null || IsOwn(first)) continue;
                    if (fam.Any(c => c.Contains(first))) return first;
                }
                int narrowEnough = v6 ? 16 : 8;
                foreach (var c in fam.Where(c => !c.IsHost && c.Length >= narrowEnough))
                {
                    var first = c.FirstHost();
                    if (first != null && !IsOwn(first)) return first;
                }
            }
            return null;
        }

        /// <summary>An AllowedIPs entry or an interface address as a prefix; null when it is none.</summary>
        internal static Config.IpPrefix ParsePrefix(string text) => Config.IpPrefix.Parse(text?.Trim());

        /// <summary>The device an `ip route get` answer names ("192.0.2.1 dev wg0 src 192.0.2.2 uid 0"); null when none.</summary>
        public static string RouteDevice(string ipRouteGetOutput)
        {
            if (string.IsNullOrEmpty(ipRouteGetOutput)) return null;
            var m = Regex.Match(ipRouteGetOutput, @"(?:^|\s)dev\s+(\S+)");
            return m.Success ? m.Groups[1].Value : null;
        }

        /// <summary>The first line of an `ip route get` answer, trimmed (for evidence).</summary>
        public static string RouteLine(string ipRouteGetOutput)
            => (ipRouteGetOutput ?? "").Split('\n').Select(l => Regex.Replace(l.Trim(), @"\s+", " ")).FirstOrDefault(l => l.Length > 0) ?? "";

        /// <summary>
        /// Probes each peer: route check, one packet, then watches every probed peer's receive counter until it
        /// grew or <see cref="Wait"/> has passed. Returns one result per peer asked for.
        /// </summary>
        public List<ProbeResult> Run(string iface, IList<WgPeer> peers, IEnumerable<string> ownAddresses, CancellationToken cancel = default(CancellationToken))
        {
            var results = new List<ProbeResult>();
            var own = (ownAddresses ?? Enumerable.Empty<string>()).ToList();
            foreach (var p in peers)
            {
                var r = new ProbeResult { Interface = iface, Peer = p.PublicKey, RxBefore = p.RxBytes, TxBefore = p.TxBytes, RxAfter = p.RxBytes, TxAfter = p.TxBytes };
                if (!string.IsNullOrEmpty(p.Endpoint)) r.EndpointsSeen.Add(p.Endpoint);
                var target = ChooseTarget(p.AllowedIPs, own);
                if (target == null) { r.NotSentReason = $"no address inside AllowedIPs ({string.Join(", ", p.AllowedIPs ?? new string[0])}) to send to"; results.Add(r); continue; }
                r.Target = target.ToString();
                results.Add(r);
            }
            var toSend = results.Where(r => r.Target != null).ToList();
            if (toSend.Count == 0) return results;
            if (!_runner.IsAvailable("ip"))
            {
                foreach (var r in toSend) r.NotSentReason = "ip is not installed: the route to the probe target could not be checked";
                return results;
            }
            // Route check: the probe must leave by the WireGuard interface, never anywhere else.
            foreach (var r in toSend)
            {
                var fam = r.Target.Contains(':') ? "-6" : "-4";
                var rr = _runner.Run("ip", new[] { fam, "route", "get", r.Target }, TimeSpan.FromSeconds(5));
                r.Route = rr.Success ? RouteLine(rr.StdOut) : "(no route: " + rr.StdErr.Trim() + ")";
                var dev = rr.Success ? RouteDevice(rr.StdOut) : null;
                if (!string.Equals(dev, iface, StringComparison.Ordinal))
                    r.NotSentReason = $"the route to {r.Target} leaves by {dev ?? "no device"}, not {iface} ({r.Route}); nothing was sent outside the tunnel";
            }
            var sending = toSend.Where(r => r.NotSentReason == null).ToList();
            if (sending.Count == 0) return results;

            // Counters just before sending, so the growth is the answer to the probe.
            var before = SafeRead(iface);
            foreach (var r in sending)
                if (before != null && before.TryGetValue(r.Peer, out var c)) { r.RxBefore = c.Rx; r.TxBefore = c.Tx; r.RxAfter = c.Rx; r.TxAfter = c.Tx; AddEndpoint(r, c.Endpoint); }

            bool ping = _runner.IsAvailable("ping");
            var started = DateTime.UtcNow;
            // Started together on this thread (the runner logs to the caller's streams); each ping ends on its own.
            var processes = new List<IDisposable>();
            foreach (var r in sending) { var np = Sender != null ? Sender(iface, r) : Send(iface, r, ping); if (np != null) processes.Add(np); }
            var deadline = started + Wait;
            var pending = new HashSet<ProbeResult>(sending);
            while (true)
            {
                if (cancel.WaitHandle.WaitOne(PollInterval)) break;
                var now = SafeRead(iface);
                var elapsed = (DateTime.UtcNow - started).TotalSeconds;
                if (now != null)
                    foreach (var r in sending)
                    {
                        if (!now.TryGetValue(r.Peer, out var c)) continue;
                        AddEndpoint(r, c.Endpoint);
                        if (!pending.Contains(r)) continue;
                        r.RxAfter = c.Rx; r.TxAfter = c.Tx; r.WaitedSeconds = elapsed;
                        if (r.Answered) pending.Remove(r);
                    }
                if (pending.Count == 0 || DateTime.UtcNow >= deadline) break;
            }
            foreach (var np in processes) { (np as NativeProcess)?.WaitForExit(TimeSpan.FromSeconds(2)); np.Dispose(); }
            foreach (var r in pending) r.WaitedSeconds = (DateTime.UtcNow - started).TotalSeconds;
            return results;
        }

        private static void AddEndpoint(ProbeResult r, string ep)
        {
            if (string.IsNullOrEmpty(ep)) return;
            if (r.EndpointsSeen.Count == 0 || r.EndpointsSeen[r.EndpointsSeen.Count - 1] != ep) r.EndpointsSeen.Add(ep);
        }

        private IDictionary<string, PeerCounters> SafeRead(string iface)
        {
            try { return _readCounters(iface); }
            catch (WgException ex) { _verbose("Reading the counters during the probe failed: " + ex.Message); return null; }
        }

        private NativeProcess Send(string iface, ProbeResult r, bool ping)
        {
            try
            {
                if (ping)
                {
                    // One echo, bound to the WireGuard device (SO_BINDTODEVICE): it cannot leave by any other.
                    var fam = r.Target.Contains(':') ? "-6" : "-4";
                    r.Sent = $"one ICMP echo to {r.Target} bound to {iface} (ping {fam} -c 1 -I {iface})";
                    r.WasSent = true;
                    return _runner.Start("ping", new[] { fam, "-n", "-q", "-c", "1", "-W", "1", "-I", iface, r.Target }, TimeSpan.FromSeconds(5));
                }
                else
                {
                    r.Sent = $"one UDP datagram (1 byte) to {r.Target} port 9 (discard), routed by {iface}";
                    using (var s = new Socket(r.Target.Contains(':') ? AddressFamily.InterNetworkV6 : AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp))
                        s.SendTo(new byte[] { 0 }, new IPEndPoint(IPAddress.Parse(r.Target), 9));
                    r.WasSent = true;
                }
                return null;
            }
            catch (Exception ex) when (ex is WgException || ex is SocketException)
            {
                r.WasSent = false;
                r.NotSentReason = "sending failed: " + ex.Message;
                return null;
            }
        }
    }
}
