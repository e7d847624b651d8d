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
    /// While the sample runs, reads each interface's endpoints five times a second (`wg show IF endpoints`): one
    /// public key whose endpoint flips back and forth is two devices with one key pair. The server takes the
    /// endpoint of every authenticated packet, so two devices that each send once a second (keepalives) show as
    /// turns of a fraction of a second; reads once a second, in step with them, would see only one. The reads
    /// run on a task of their own from the start of the sample time (the other sources of the sample time run
    /// meanwhile), on a runner of their own whose log is replayed when <see cref="EndpointWatchJoinSource"/>
    /// joins them; with a runner that cannot be duplicated they run in line.
    /// </summary>
    public sealed class EndpointWatchSource : ISnapshotSource
    {
        /// <summary>Time between two reads of the endpoints.</summary>
        public static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(200);

        public string Name => LivenessSourceNames.EndpointWatch;
        public SnapshotStage Stage => SnapshotStage.DuringSample;

        public void Collect(CollectContext ctx)
        {
            var snap = ctx.Snapshot;
            if (ctx.Request.SampleSeconds <= 0 || snap.Interfaces.Count == 0) { ctx.Report(Name, null, SourceState.Skipped, message: "Sampling is off."); return; }
            var start = snap.Interfaces.Min(i => i.First.Taken);
            var end = start.AddSeconds(ctx.Request.SampleSeconds - 0.25);
            foreach (var i in snap.Interfaces)
                foreach (var p in i.First.Peers.Where(p => p.PublicKey != null))
                    Add(i, p.PublicKey, p.Endpoint, 0);
            var names = snap.Interfaces.Select(i => i.Name).ToArray();
            if (ctx.Runner is Native.NativeRunner)
            {
                var log = new System.Collections.Concurrent.ConcurrentQueue<string>();
                var runner = new Native.NativeRunner(log.Enqueue);
                var w = new PendingEndpointWatch { Log = log };
                w.Task = System.Threading.Tasks.Task.Run(() => Watch(runner, names, start, end, ctx.Cancel));
                ctx.PendingEndpointWatch = w;
                return;
            }
            Merge(snap, Watch(ctx.Runner, names, start, end, ctx.Cancel));
        }

        /// <summary>Reads the endpoints of the interfaces every <see cref="Interval"/> until <paramref name="end"/>: (interface, key, endpoint, seconds since start).</summary>
        internal static List<Tuple<string, string, string, double>> Watch(INativeRunner runner, string[] names, DateTime start, DateTime end, System.Threading.CancellationToken cancel)
        {
            var seen = new List<Tuple<string, string, string, double>>();
            while (!cancel.IsCancellationRequested)
            {
                var next = DateTime.UtcNow + Interval;
                if (next > end) break;
                cancel.WaitHandle.WaitOne(next - DateTime.UtcNow);
                foreach (var name in names)
                {
                    var r = runner.Run(WgStateReader.WgTool, new[] { "show", name, "endpoints" }, TimeSpan.FromSeconds(5));
                    if (!r.Success) continue;
                    double t = (DateTime.UtcNow - start).TotalSeconds;
                    foreach (var kv in ParseEndpoints(r.StdOut)) seen.Add(Tuple.Create(name, kv.Key, kv.Value, t));
                }
            }
            return seen;
        }

        internal static void Merge(HostSnapshot snap, IEnumerable<Tuple<string, string, string, double>> seen)
        {
            foreach (var x in seen)
            {
                var i = snap.Interface(x.Item1);
                if (i != null) Add(i, x.Item2, x.Item3, x.Item4);
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

    /// <summary>The endpoint reads started by <see cref="EndpointWatchSource"/>, joined after the sample time.</summary>
    internal sealed class PendingEndpointWatch
    {
        public System.Threading.Tasks.Task<List<Tuple<string, string, string, double>>> Task { get; set; }
        public System.Collections.Concurrent.ConcurrentQueue<string> Log { get; set; }
    }

    /// <summary>Joins the endpoint reads of the sample time (bounded), replays their log and keeps them in the snapshot.</summary>
    public sealed class EndpointWatchJoinSource : ISnapshotSource
    {
        public string Name => LivenessSourceNames.EndpointWatch;
        public SnapshotStage Stage => SnapshotStage.Sample;

        public void Collect(CollectContext ctx)
        {
            var w = ctx.PendingEndpointWatch;
            if (w == null) return;
            ctx.PendingEndpointWatch = null;
            try
            {
                // each read is bounded (5 s) and the loop ends with the sample time: this wait is a backstop
                if (!w.Task.Wait(TimeSpan.FromSeconds(ctx.Request.SampleSeconds + 15)))
                    throw new WgException(ErrorIds.ToolTimedOut, System.Management.Automation.ErrorCategory.OperationTimeout, "The endpoint reads of the sample time did not end in time.", "wg");
                EndpointWatchSource.Merge(ctx.Snapshot, w.Task.Result);
            }
            finally
            {
                while (w.Log.TryDequeue(out var line)) ctx.Verbose(line);
            }
        }
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
