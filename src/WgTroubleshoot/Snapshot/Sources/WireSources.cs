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
    /// came): what arrives and what leaves, per remote endpoint. Needs tcpdump and root.
    /// </summary>
    public sealed class CaptureSource : ISnapshotSource
    {
        public string Name => SourceNames.Capture;
        public SnapshotStage Stage => SnapshotStage.AfterSample;

        public void Collect(CollectContext ctx)
        {
            foreach (var i in ctx.Snapshot.Interfaces)
            {
                if (ctx.Cancel.IsCancellationRequested) return;
                var reason = InterfaceFacts.CaptureReason(i, InterfaceFacts.Handshakes(i).Values);
                if (reason == null)
                {
                    ctx.Report(Name, i.Name, SourceState.Skipped, message: "Handshakes do not call for a capture.");
                    continue;
                }
                ctx.Run(Name, i.Name, () => Capture(ctx, i, reason));
            }
        }

        private static void Capture(CollectContext ctx, InterfaceSnapshot i, string reason)
        {
            if (!Privilege.IsLinux || !Privilege.IsElevated())
                throw new WgException(ErrorIds.PermissionDenied, System.Management.Automation.ErrorCategory.PermissionDenied,
                    "Capturing the traffic on the wire needs root on Linux.", i.Name);
            if (!ctx.Runner.IsAvailable("tcpdump"))
                throw new WgException(ErrorIds.ToolNotInstalled, System.Management.Automation.ErrorCategory.NotInstalled,
                    "tcpdump is not installed: the traffic on the wire was not looked at. " + NativeRunner.InstallHint("tcpdump"), "tcpdump");
            var seconds = ctx.Request.Deep ? Math.Max(ctx.Request.TraceSeconds, 15) : ctx.Request.TraceSeconds;
            var last = i.Last;
            var peers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
            foreach (var p in last.Peers)
                if (!string.IsNullOrEmpty(p.Endpoint) && !peers.ContainsKey(p.Endpoint)) peers.Add(p.Endpoint, p.PublicKey);
            var port = last.Interface.ListenPort.Value;
            ctx.Progress($"{i.Name}: capturing traffic on the wire ({seconds} s)", 50);
            var tracer = new TrafficTracer(i.Name, port, peers);
            var traces = new TrafficCapture(ctx.Runner).Run(tracer, TimeSpan.FromSeconds(seconds), ctx.Cancel, (e, n) => { }, pid => ctx.Verbose($"tcpdump runs as PID {pid}."));
            i.Capture = new CaptureResult { Reason = reason, Seconds = seconds, ListenPort = port, Traces = traces };
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
