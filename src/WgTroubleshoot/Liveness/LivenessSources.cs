using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using WgTroubleshoot.Native;
using WgTroubleshoot.Snapshot;
using WgTroubleshoot.State;

namespace WgTroubleshoot.Liveness
{
    /// <summary>One peer's live endpoint at each read of the sample, in order.</summary>
    public sealed class EndpointReading
    {
        public string Peer { get; set; }
        /// <summary>The endpoints read, in order, each change kept once (a run of equal reads is one entry).</summary>
        public List<string> Endpoints { get; set; } = new List<string>();
        /// <summary>How many reads there were (0 in snapshots recorded before the count was kept: then one per entry).</summary>
        public int Reads { get; set; }
        /// <summary>Seconds between the first and the last read.</summary>
        public double Seconds { get; set; }
    }

    /// <summary>Source names of the liveness facts (CheckNotRun names them).</summary>
    public static class LivenessSourceNames
    {
        public const string Probe = "probe";
        public const string EndpointWatch = "wg-endpoints";
        public const string ListenPort = "listen-port";
    }

    /// <summary>
    /// While the sample runs, reads each interface's peers (`wg show IF dump`) five times a second (two devices with one key pair that each send once a second show as turns of a fraction of a second), on a thread of its
    /// own from the start of the sample, so other sources that are slow under load cannot shorten the watch: one
    /// public key whose endpoint flips back and forth is two devices with one key pair. The same reads end the sample
    /// early when they already prove traffic both ways now on every peer (fresh handshake, both counters grown since
    /// the first sample, the endpoint unchanged) after at least <see cref="MinimumSeconds"/>: the second sample is
    /// then taken without waiting out the rest of the sample time.
    /// </summary>
    public sealed class EndpointWatchSource : ISnapshotSource
    {
        /// <summary>The sample never ends before this, however early two-way traffic shows.</summary>
        public static readonly TimeSpan MinimumSeconds = TimeSpan.FromSeconds(1);
        public static readonly TimeSpan ReadInterval = TimeSpan.FromMilliseconds(200);
        /// <summary>Reads taken at the least, even when the sample time has passed (a busy host): enough to see a flip back.</summary>
        public const int MinimumReads = 5;
        /// <summary>How far past the sample time the minimum reads may go.</summary>
        public static readonly TimeSpan Overrun = TimeSpan.FromSeconds(5);
        /// <summary>
        /// How much longer the watch goes on (once) when an endpoint moved during the sample and has not come back:
        /// one move is roaming, a return is two devices taking turns, and devices that send less often than the
        /// sample is long take turns at longer intervals.
        /// </summary>
        public static readonly TimeSpan MovedWatch = TimeSpan.FromSeconds(3);

        public string Name => LivenessSourceNames.EndpointWatch;
        public SnapshotStage Stage => SnapshotStage.DuringSample;

        public void Collect(CollectContext ctx)
        {
            var snap = ctx.Snapshot;
            if (ctx.Request.SampleSeconds <= 0 || snap.Interfaces.Count == 0) { ctx.Report(Name, null, SourceState.Skipped, message: "Sampling is off."); return; }
            foreach (var i in snap.Interfaces)
                foreach (var p in i.First.Peers.Where(p => p.PublicKey != null))
                    Add(i, p.PublicKey, p.Endpoint, 0);
            var firsts = snap.Interfaces.Where(i => i.First != null).ToDictionary(i => i.Name, i => i.First.Peers.Where(p => p.PublicKey != null).GroupBy(p => p.PublicKey).Select(g => g.First()).ToList(), StringComparer.Ordinal);
            var start = snap.Interfaces.Min(i => i.First.Taken);
            var names = snap.Interfaces.Select(i => i.Name).ToArray();
            if (ctx.Runner is NativeRunner)
            {
                // On a thread with a runner of its own (the cmdlet's streams are written on the pipeline thread only).
                var log = new System.Collections.Concurrent.ConcurrentQueue<string>();
                var runner = new NativeRunner(log.Enqueue);
                var w = new PendingWatch { Log = log };
                w.Task = System.Threading.Tasks.Task.Run(() => Watch(runner, names, firsts, start, ctx.Request.SampleSeconds, ctx.Cancel));
                ctx.PendingWatch = w;
                return;
            }
            Apply(ctx, Watch(ctx.Runner, names, firsts, start, ctx.Request.SampleSeconds, ctx.Cancel));
        }

        /// <summary>The reads of one watch: (interface, peer, endpoint, seconds since the first sample), and whether two-way traffic ended it early.</summary>
        internal sealed class WatchResult
        {
            public readonly List<Tuple<string, string, string, double>> Readings = new List<Tuple<string, string, string, double>>();
            public int Reads;
            public double Seconds;
            public string EndedEarly;
            /// <summary>Set when the watch went on past the sample because an endpoint moved and had not come back.</summary>
            public string Extended;
        }

        internal static WatchResult Watch(INativeRunner runner, string[] names, Dictionary<string, List<WgPeer>> firsts, DateTime start, int sampleSeconds, System.Threading.CancellationToken cancel)
        {
            var res = new WatchResult();
            var reader = new WgStateReader(runner);
            var end = start.AddSeconds(sampleSeconds) - TimeSpan.FromMilliseconds(250);
            var changed = new HashSet<string>(StringComparer.Ordinal);
            var lastEndpoint = new Dictionary<string, string>(StringComparer.Ordinal);
            var moves = new Dictionary<string, List<string>>(StringComparer.Ordinal);
            foreach (var kv in firsts) foreach (var p in kv.Value) lastEndpoint[kv.Key + "\n" + p.PublicKey] = p.Endpoint;
            bool extended = false;
            while (!cancel.IsCancellationRequested)
            {
                if (cancel.WaitHandle.WaitOne(ReadInterval)) break;
                var readStarted = DateTime.UtcNow;
                var now = new Dictionary<string, WgPeer>(StringComparer.Ordinal);
                foreach (var n in names)
                {
                    List<WgDevice> d;
                    try { d = reader.Read(new[] { n }, _ => { }); }
                    catch (WgException) { continue; }
                    double t = (DateTime.UtcNow - start).TotalSeconds;
                    foreach (var dev in d)
                        foreach (var p in dev.Peers.Where(p => p.PublicKey != null))
                        {
                            var k = n + "\n" + p.PublicKey;
                            if (now.ContainsKey(k)) continue;
                            now[k] = p;
                            res.Readings.Add(Tuple.Create(n, p.PublicKey, p.Endpoint, t));
                            if (lastEndpoint.TryGetValue(k, out var ep) && !string.IsNullOrEmpty(p.Endpoint) && ep != p.Endpoint)
                            {
                                changed.Add(k);
                                if (!moves.TryGetValue(k, out var seq)) moves[k] = seq = new List<string> { ep };
                                seq.Add(p.Endpoint);
                            }
                            lastEndpoint[k] = p.Endpoint;
                        }
                }
                res.Reads++;
                var at = DateTime.UtcNow;
                // The minimum reads go past the sample time only while reads are cheap (a few peers, a busy host): a
                // hub's dump of thousands of peers takes longer than the interval, and its sample is not stretched.
                bool cheap = at - readStarted < ReadInterval;
                res.Seconds = (at - start).TotalSeconds;
                bool movedAway = moves.Values.Any(seq => !FlipsBack(seq));
                if (extended && !movedAway) break;   // every endpoint that moved came back: that is what the extra time was for
                if (at >= end && (res.Reads >= MinimumReads || at >= end + Overrun || !cheap))
                {
                    if (extended || !movedAway || !cheap) break;
                    extended = true;
                    end = at + MovedWatch;
                    res.Extended = string.Format(CultureInfo.InvariantCulture, "an endpoint moved during the sample ({0}) and had not come back: watched {1:0} s longer",
                        string.Join("; ", moves.Where(m => !FlipsBack(m.Value)).Select(m => string.Join(" -> ", m.Value)).Take(3)), MovedWatch.TotalSeconds);
                    continue;
                }
                if (at - start >= MinimumSeconds && res.Reads >= 2 && changed.Count == 0 && TwoWayEverywhere(firsts, now, out var proof))
                {
                    res.EndedEarly = proof;
                    break;
                }
            }
            return res;
        }

        /// <summary>True when an endpoint returns to an address it had left (A -> B -> A): two devices taking turns.</summary>
        internal static bool FlipsBack(IList<string> seq)
        {
            for (int i = 2; i < seq.Count; i++)
                for (int j = 0; j < i - 1; j++)
                    if (seq[j] == seq[i]) return true;
            return false;
        }

        /// <summary>True when every peer of every interface has a fresh session and both its counters grew since the first sample.</summary>
        internal static bool TwoWayEverywhere(Dictionary<string, List<WgPeer>> firsts, Dictionary<string, WgPeer> now, out string proof)
        {
            proof = null;
            int peers = 0;
            long tx = 0, rx = 0;
            foreach (var kv in firsts)
                foreach (var a in kv.Value)
                {
                    if (!now.TryGetValue(kv.Key + "\n" + a.PublicKey, out var b)) return false;
                    if (!b.LatestHandshake.HasValue || !b.HandshakeAge.HasValue || b.HandshakeAge.Value > Diagnosis.HandshakeEvaluator.RejectAfterTime) return false;
                    if (!TunnelProbe.TwoWayProven(b.TxBytes - a.TxBytes, b.RxBytes - a.RxBytes)) return false;
                    peers++; tx += b.TxBytes - a.TxBytes; rx += b.RxBytes - a.RxBytes;
                }
            if (peers == 0) return false;
            proof = string.Format(CultureInfo.InvariantCulture, "traffic both ways on every peer ({0}): {1} bytes sent and {2} received", peers, tx, rx);
            return true;
        }

        /// <summary>Joins a watch running on its thread (its log goes to the verbose stream here) and records its reads.</summary>
        internal static void Join(CollectContext ctx)
        {
            var w = ctx.PendingWatch;
            if (w == null) return;
            ctx.PendingWatch = null;
            bool done;
            try { done = w.Task.Wait(TimeSpan.FromSeconds(ctx.Request.SampleSeconds) + Overrun + MovedWatch + TimeSpan.FromSeconds(10)); }
            catch (AggregateException ex) { done = false; ctx.Report(LivenessSourceNames.EndpointWatch, null, SourceState.Failed, ErrorIds.ToolFailed, "The endpoint watch failed: " + ex.InnerException?.Message); }
            while (w.Log.TryDequeue(out var line)) ctx.Verbose(line);
            if (done) Apply(ctx, w.Task.Result);
        }

        private static void Apply(CollectContext ctx, WatchResult r)
        {
            foreach (var x in r.Readings)
            {
                var i = ctx.Snapshot.Interface(x.Item1);
                if (i != null) Add(i, x.Item2, x.Item3, x.Item4);
            }
            if (r.Extended != null) ctx.Verbose(string.Format(CultureInfo.InvariantCulture, "The endpoint watch took {0:0.0} s ({1} reads): {2}.", r.Seconds, r.Reads, r.Extended));
            if (r.EndedEarly != null)
            {
                ctx.SampleProven = true;
                var msg = string.Format(CultureInfo.InvariantCulture, "The sample ended after {0:0.0} s ({1} reads): {2}.", r.Seconds, r.Reads, r.EndedEarly);
                ctx.Verbose(msg);
                ctx.Report(LivenessSourceNames.EndpointWatch, null, SourceState.Ok, message: msg);
            }
        }

        internal static void Add(InterfaceSnapshot i, string peer, string endpoint, double t)
        {
            if (string.IsNullOrEmpty(endpoint) || endpoint == "(none)") return;
            var e = i.EndpointReadings.FirstOrDefault(x => x.Peer == peer);
            if (e == null) i.EndpointReadings.Add(e = new EndpointReading { Peer = peer });
            if (e.Endpoints.Count == 0 || e.Endpoints[e.Endpoints.Count - 1] != endpoint) e.Endpoints.Add(endpoint);
            e.Reads++;
            e.Seconds = Math.Round(t, 1);
        }

        /// <summary>`wg show IF endpoints`: "KEY\tENDPOINT" lines.</summary>
        public static List<KeyValuePair<string, string>> ParseEndpoints(string text)
        {
            var l = new List<KeyValuePair<string, string>>();
            foreach (var raw in (text ?? "").Split('\n'))
            {
                var f = raw.Trim().Split(new[] { '\t', ' ' }, StringSplitOptions.RemoveEmptyEntries);
                if (f.Length == 2) l.Add(new KeyValuePair<string, string>(f[0], f[1]));
            }
            return l;
        }
    }

    /// <summary>A watch started with the sample (joined before the second sample).</summary>
    internal sealed class PendingWatch
    {
        public System.Threading.Tasks.Task<EndpointWatchSource.WatchResult> Task;
        public System.Collections.Concurrent.ConcurrentQueue<string> Log;
    }

    /// <summary>
    /// After the second sample: for each peer with a fresh handshake whose two samples do not show traffic both
    /// ways, one probe into the tunnel (<see cref="TunnelProbe"/>), all interfaces' peers at once. The results are
    /// recorded in the snapshot, so a replay judges the same answer.
    /// </summary>
    public sealed class ProbeSource : ISnapshotSource
    {
        public string Name => LivenessSourceNames.Probe;
        public SnapshotStage Stage => SnapshotStage.Sample;

        public void Collect(CollectContext ctx)
        {
            var reader = new WgStateReader(ctx.Runner);
            int probed = 0;
            foreach (var i in ctx.Snapshot.Interfaces)
            {
                if (ctx.Cancel.IsCancellationRequested) return;
                if (i.Last == null || !i.Last.Interface.IsUp) continue;
                var hs = InterfaceFacts.Handshakes(i);
                bool sampled = i.Samples.Count > 1;
                var need = i.Last.Peers.Where(p => p.PublicKey != null && hs.TryGetValue(p.PublicKey, out var h) && ProbeVerdict.NeedsProbe(h, sampled)).ToList();
                if (need.Count == 0) continue;
                ctx.Progress($"{i.Name}: liveness probe of {need.Count} peer{(need.Count == 1 ? "" : "s")} (up to {TunnelProbe.DefaultWait.TotalSeconds:0} s)", 30);
                var probe = new TunnelProbe(ctx.Runner, name =>
                {
                    var d = reader.Read(new[] { name }, _ => { });
                    if (d.Count != 1) return null;
                    double t = (DateTime.UtcNow - i.First.Taken).TotalSeconds;
                    foreach (var p in d[0].Peers) if (p.PublicKey != null) EndpointWatchSource.Add(i, p.PublicKey, p.Endpoint, t);
                    var m = new Dictionary<string, PeerCounters>(StringComparer.Ordinal);
                    foreach (var p in d[0].Peers) if (p.PublicKey != null && !m.ContainsKey(p.PublicKey)) m.Add(p.PublicKey, new PeerCounters(p.RxBytes, p.TxBytes, p.Endpoint));
                    return m;
                }, ctx.Verbose);
                foreach (var r in probe.Run(i.Name, need, i.Last.Interface.Addresses, ctx.Cancel))
                {
                    i.Probes.Add(r);
                    ctx.Verbose(r.Evidence);
                }
                probed += need.Count;
            }
            if (probed == 0) ctx.Report(Name, null, SourceState.Skipped, message: "The counters proved two-way traffic (or there was no fresh session): no probe needed.");
        }
    }

    /// <summary>Who owns the configured ListenPort when WireGuard does not listen there, and whether resolvconf exists.</summary>
    public sealed class ListenPortSource : ISnapshotSource
    {
        public string Name => LivenessSourceNames.ListenPort;
        public SnapshotStage Stage => SnapshotStage.AfterSample;

        public void Collect(CollectContext ctx)
        {
            foreach (var i in ctx.Snapshot.Interfaces)
            {
                var cfg = i.Config;
                if (cfg == null || i.Last == null) continue;
                if (cfg.Dns != null && cfg.Dns.Length > 0) i.ResolvconfAvailable = ctx.Runner.IsAvailable("resolvconf");
                if (!cfg.ListenPort.HasValue || cfg.ListenPort == i.Last.Interface.ListenPort) continue;
                if (!ctx.Runner.IsAvailable("ss")) { ctx.Report(Name, i.Name, SourceState.Unavailable, ErrorIds.ToolNotInstalled, "ss is not installed: the owner of the configured ListenPort was not looked up."); continue; }
                var port = cfg.ListenPort.Value.ToString(CultureInfo.InvariantCulture);
                var r = ctx.Runner.Run("ss", new[] { "-H", "-u", "-a", "-n", "-p", "sport = :" + port }, TimeSpan.FromSeconds(5));
                if (r.Success) i.ListenPortSockets = r.StdOut;
                else ctx.Report(Name, i.Name, SourceState.Failed, ErrorIds.ToolFailed, "ss failed: " + r.StdErr.Trim());
            }
        }
    }

    /// <summary>How probe results change the handshake verdicts.</summary>
    public static class ProbeVerdict
    {
        /// <summary>A fresh session whose samples do not prove traffic both ways needs a probe.</summary>
        public static bool NeedsProbe(HandshakeResult h, bool sampled)
            => h.Status == nameof(HandshakeStatus.Healthy) && !(sampled && TunnelProbe.TwoWayProven(h.TxDelta, h.RxDelta));

        /// <summary>
        /// OneWay is true only for a peer whose probe was sent and got no answer; a lone keepalive going out with
        /// nothing back is normal (keepalives are not answered) and never one-way.
        /// </summary>
        public static void Apply(IDictionary<string, HandshakeResult> handshakes, IEnumerable<ProbeResult> probes, bool sampled)
        {
            var byPeer = (probes ?? Enumerable.Empty<ProbeResult>()).Where(p => p.Peer != null).GroupBy(p => p.Peer).ToDictionary(g => g.Key, g => g.Last(), StringComparer.Ordinal);
            foreach (var h in handshakes.Values)
            {
                if (h.Status != nameof(HandshakeStatus.Healthy)) continue;
                int but = h.Reason?.IndexOf(" But ", StringComparison.Ordinal) ?? -1;
                if (but > 0) h.Reason = h.Reason.Substring(0, but);
                if (sampled && TunnelProbe.TwoWayProven(h.TxDelta, h.RxDelta))
                {
                    h.OneWay = false;
                    h.Reason += $" Two-way traffic now: {h.TxDelta} bytes sent and {h.RxDelta} received in the sample.";
                    continue;
                }
                if (byPeer.TryGetValue(h.Peer, out var pr))
                {
                    h.OneWay = pr.WasSent && !pr.Answered;
                    h.Reason += " " + pr.Evidence;
                }
                else
                {
                    h.OneWay = false;
                    h.Reason += $" {h.TxDelta} bytes sent and {h.RxDelta} received in the sample, and no probe: two-way traffic is not proven.";
                }
            }
        }
    }
}

namespace WgTroubleshoot.Liveness
{
    /// <summary>
    /// When a peer of an interface fails (or, on a server, a peer's session expired: see
    /// <see cref="InterfaceFacts.LogReason"/>), the handshake lines of the last minutes from the system log (journal or
    /// dmesg; wireguard-go logs them at LOG_LEVEL=verbose): a handshake replay tells a clock that went backwards on
    /// the initiator from a key mismatch, which logs only invalid initiations.
    /// </summary>
    public sealed class HandshakeLogSource : ISnapshotSource
    {
        public const int MaxEvents = 200;
        public string Name => "wg-log";
        public SnapshotStage Stage => SnapshotStage.AfterSample;

        public void Collect(CollectContext ctx)
        {
            var failing = ctx.Snapshot.Interfaces.Where(i => InterfaceFacts.LogReason(i, InterfaceFacts.Handshakes(i).Values) != null).ToList();
            if (failing.Count == 0) { ctx.Report(Name, null, SourceState.Skipped, message: "No peer fails and no session expired: the log was not read."); return; }
            var events = new Logs.WgLogReader(ctx.Runner, ctx.Verbose).ReadSystem(DateTime.Now.AddMinutes(-5));
            foreach (var i in failing)
                i.LogEvents.AddRange(events.Where(e => e.Interface == i.Name && (e.EventType == WgLogEventType.HandshakeReplay || e.EventType == WgLogEventType.InvalidInitiation))
                                           .Reverse().Take(MaxEvents).Reverse());
        }
    }
}
