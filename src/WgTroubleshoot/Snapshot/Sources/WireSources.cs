using System;
using System.Collections.Generic;
using System.Linq;
using WgTroubleshoot.Changes;
using WgTroubleshoot.Mtu;
using WgTroubleshoot.Native;
using WgTroubleshoot.Trace;

namespace WgTroubleshoot.Snapshot.Sources
{
    /// <summary>
    /// Captures the listen port's UDP traffic when the samples say handshakes fail (or a server's client never
    /// came): what arrives and what leaves, per remote endpoint. Needs tcpdump and root. When the first sample
    /// already calls for it, the capture starts at once and runs while the sample time passes (on its own
    /// runner, whose log is replayed when it ends); otherwise the second sample decides, after it.
    /// </summary>
    public sealed class CaptureSource : ISnapshotSource
    {
        public string Name => SourceNames.Capture;
        public SnapshotStage Stage => SnapshotStage.DuringSample;

        public void Collect(CollectContext ctx)
        {
            foreach (var i in ctx.Snapshot.Interfaces)
            {
                var reason = InterfaceFacts.CaptureReason(i, InterfaceFacts.Handshakes(i).Values);
                if (reason == null) continue;
                var started = Background(ctx, i, reason);
                if (started != null) ctx.PendingCaptures[i.Name] = started;
            }
        }

        /// <summary>Starts the capture on a task with a runner of its own (null when the runner cannot be duplicated: then it runs later, in line).</summary>
        private static PendingCapture Background(CollectContext ctx, InterfaceSnapshot i, string reason)
        {
            if (!(ctx.Runner is NativeRunner) || !Privilege.IsLinux || !Privilege.IsElevated() || !ctx.Runner.IsAvailable("tcpdump")) return null;
            var log = new System.Collections.Concurrent.ConcurrentQueue<string>();
            var runner = new NativeRunner(log.Enqueue);
            var p = new PendingCapture { Reason = reason, Log = log, Started = DateTime.UtcNow };
            var sample = i.Last;   // read here, not on the task: the second sample is added while it runs
            p.Task = System.Threading.Tasks.Task.Run(() => Capture(ctx, runner, i.Name, sample, reason, log.Enqueue));
            return p;
        }

        internal static CaptureResult Capture(CollectContext ctx, INativeRunner runner, string iface, WgSample last, string reason, Action<string> verbose)
        {
            if (!Privilege.IsLinux || !Privilege.IsElevated())
                throw new WgException(ErrorIds.PermissionDenied, System.Management.Automation.ErrorCategory.PermissionDenied,
                    "Capturing the traffic on the wire needs root on Linux.", iface);
            if (!runner.IsAvailable("tcpdump"))
                throw new WgException(ErrorIds.ToolNotInstalled, System.Management.Automation.ErrorCategory.NotInstalled,
                    "tcpdump is not installed: the traffic on the wire was not looked at. " + NativeRunner.InstallHint("tcpdump"), "tcpdump");
            var seconds = ctx.Request.Deep ? Math.Max(ctx.Request.TraceSeconds, 15) : ctx.Request.TraceSeconds;
            var peers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
            foreach (var p in last.Peers)
                if (!string.IsNullOrEmpty(p.Endpoint) && !peers.ContainsKey(p.Endpoint)) peers.Add(p.Endpoint, p.PublicKey);
            var port = last.Interface.ListenPort.Value;
            var tracer = new TrafficTracer(iface, port, peers);
            var traces = new TrafficCapture(runner).Run(tracer, TimeSpan.FromSeconds(seconds), ctx.Cancel, (e, n) => { }, pid => verbose($"tcpdump runs as PID {pid}."));
            return new CaptureResult { Reason = reason, Seconds = seconds, ListenPort = port, Traces = traces };
        }
    }

    /// <summary>A capture started while the sample time passes.</summary>
    internal sealed class PendingCapture
    {
        public string Reason;
        public DateTime Started;
        public System.Threading.Tasks.Task<CaptureResult> Task;
        public System.Collections.Concurrent.ConcurrentQueue<string> Log;
    }

    /// <summary>After the samples: waits for the captures already running, and starts the ones the second sample calls for.</summary>
    public sealed class CaptureResultSource : ISnapshotSource
    {
        public string Name => SourceNames.Capture;
        public SnapshotStage Stage => SnapshotStage.AfterSample;

        public void Collect(CollectContext ctx)
        {
            foreach (var i in ctx.Snapshot.Interfaces)
            {
                if (ctx.PendingCaptures.TryGetValue(i.Name, out var p))
                {
                    ctx.Progress($"{i.Name}: capturing traffic on the wire", 60);
                    ctx.Run(Name, i.Name, () =>
                    {
                        try
                        {
                            i.Capture = p.Task.GetAwaiter().GetResult();
                        }
                        finally
                        {
                            while (p.Log.TryDequeue(out var line)) ctx.Verbose(line);
                        }
                    });
                    continue;
                }
                if (ctx.Cancel.IsCancellationRequested) return;
                var reason = InterfaceFacts.CaptureReason(i, InterfaceFacts.Handshakes(i).Values);
                if (reason == null)
                {
                    ctx.Report(Name, i.Name, SourceState.Skipped, message: "Handshakes do not call for a capture.");
                    continue;
                }
                ctx.Progress($"{i.Name}: capturing traffic on the wire ({ctx.Request.TraceSeconds} s)", 60);
                ctx.Run(Name, i.Name, () => i.Capture = CaptureSource.Capture(ctx, ctx.Runner, i.Name, i.Last, reason, ctx.Verbose));
            }
        }
    }

    /// <summary>-Deep: the path MTU towards each peer's endpoint (DF probes), with the tunnel MTU it allows.</summary>
    public sealed class MtuSource : ISnapshotSource
    {
        public string Name => SourceNames.Mtu;
        public SnapshotStage Stage => SnapshotStage.AfterSample;

        public void Collect(CollectContext ctx)
        {
            if (!ctx.Request.Deep)
            {
                ctx.Report(Name, null, SourceState.Skipped, message: "The path MTU is probed only with -Deep.");
                return;
            }
            foreach (var i in ctx.Snapshot.Interfaces)
            {
                var last = i.Last;
                if (last == null || !last.Interface.Mtu.HasValue) continue;
                ctx.Progress($"{i.Name}: MTU (probing the path)", 85);
                foreach (var peer in last.Peers)
                {
                    if (ctx.Cancel.IsCancellationRequested) return;
                    var ep = PathMtuMeasurer.EndpointAddress(peer.Endpoint);
                    if (ep == null) continue;
                    ctx.Run(Name, i.Name, () =>
                    {
                        var m = new PathMtuMeasurer(ctx.Runner) { TimeLimit = TimeSpan.FromSeconds(40) };
                        var r = m.Measure(ep, last.Interface.Mtu, PathMtuMeasurer.FirstHost(peer.AllowedIPs));
                        r.Peer = r.Peer ?? peer.PublicKey;
                        r.Interface = r.Interface ?? i.Name;
                        i.Mtu.Add(r);
                    });
                }
            }
        }
    }
}
