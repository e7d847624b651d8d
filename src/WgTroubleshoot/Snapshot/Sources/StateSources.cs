using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using WgTroubleshoot.State;

namespace WgTroubleshoot.Snapshot.Sources
{
    /// <summary>The interfaces asked for and the first sample of their live state (wg show dump, or the userspace socket).</summary>
    public sealed class WgStateSource : ISnapshotSource
    {
        public string Name => SourceNames.WgState;
        public SnapshotStage Stage => SnapshotStage.Discover;

        public void Collect(CollectContext ctx)
        {
            ctx.Progress("Reading live WireGuard state", 0);
            var reader = new WgStateReader(ctx.Runner);
            List<WgDevice> devices;
            try
            {
                devices = reader.Read(ctx.Request.Interfaces, ctx.NotFound);
            }
            catch (WgException ex)
            {
                ctx.StateError = ex;
                throw;
            }
            var taken = DateTime.UtcNow;
            foreach (var d in devices)
                ctx.Snapshot.Interfaces.Add(new InterfaceSnapshot { Name = d.Interface.Name, Samples = { Sample(d, taken) } });
        }

        internal static WgSample Sample(WgDevice d, DateTime taken)
            => new WgSample { Taken = taken, Interface = d.Interface, Peers = d.Peers };
    }

    /// <summary>Links and addresses (`ip -o link`, `ip -o addr`); fills each sample's MTU, addresses and link state.</summary>
    public sealed class LinkSource : ISnapshotSource
    {
        public string Name => SourceNames.Links;
        public SnapshotStage Stage => SnapshotStage.Discover;

        public void Collect(CollectContext ctx)
        {
            if (!ctx.Runner.IsAvailable("ip"))
            {
                ctx.Report(Name, null, SourceState.Unavailable, ErrorIds.ToolNotInstalled, "ip is not installed: " + Native.NativeRunner.InstallHint("ip"));
                return;
            }
            foreach (var l in IpInfo.Read(ctx.Runner).Values.OrderBy(l => l.Name, StringComparer.Ordinal))
                ctx.Snapshot.Links.Add(new LinkSnapshot { Name = l.Name, Mtu = l.Mtu, AdminUp = l.AdminUp, LowerUp = l.LowerUp, State = l.LinkState, Addresses = l.Addresses.ToList() });
            foreach (var i in ctx.Snapshot.Interfaces)
                foreach (var s in i.Samples) ApplyLink(ctx.Snapshot, s);
        }

        internal static void ApplyLink(HostSnapshot snap, WgSample s)
        {
            var l = snap.Link(s.Interface.Name);
            if (l == null) return;
            s.Interface.Mtu = l.Mtu;
            s.Interface.Addresses = l.Addresses.ToArray();
            s.Interface.LinkState = l.State;
            s.Interface.IsUp = l.AdminUp;
        }
    }

    /// <summary>After the sample time: the second reading of every interface's state (the counters' deltas).</summary>
    public sealed class SecondSampleSource : ISnapshotSource
    {
        public string Name => "wg-sample";
        public SnapshotStage Stage => SnapshotStage.Sample;

        public void Collect(CollectContext ctx)
        {
            var snap = ctx.Snapshot;
            if (ctx.Request.SampleSeconds <= 0 || snap.Interfaces.Count == 0)
            {
                ctx.Report(Name, null, SourceState.Skipped, message: "Sampling is off: one reading only.");
                return;
            }
            var first = snap.Interfaces.Min(i => i.First.Taken);
            ctx.Progress($"Sampling handshakes and counters ({ctx.Request.SampleSeconds} s)", 20);
            // The watch that ran with the sample; when its reads already proved two-way traffic on every peer, the
            // rest of the sample time would prove nothing more.
            Liveness.EndpointWatchSource.Join(ctx);
            var wait = first.AddSeconds(ctx.Request.SampleSeconds) - DateTime.UtcNow;
            if (wait > TimeSpan.Zero && !ctx.SampleProven) ctx.Cancel.WaitHandle.WaitOne(wait);
            if (ctx.Cancel.IsCancellationRequested) return;
            var reader = new WgStateReader(ctx.Runner);
            var devices = reader.Read(snap.Interfaces.Select(i => i.Name).ToArray(), _ => { });
            var taken = DateTime.UtcNow;
            foreach (var d in devices)
            {
                var i = snap.Interface(d.Interface.Name);
                if (i == null) continue;
                var s = WgStateSource.Sample(d, taken);
                // Link details and names were read once, with the first sample.
                var a = s.Interface; var b = i.First.Interface;
                a.Mtu = b.Mtu; a.Addresses = b.Addresses; a.IsUp = b.IsUp; a.LinkState = b.LinkState; a.ConfigPath = b.ConfigPath;
                var names = i.First.Peers.Where(p => p.Name != null).ToDictionary(p => p.PublicKey, p => p.Name, StringComparer.Ordinal);
                foreach (var p in s.Peers) if (p.PublicKey != null && names.TryGetValue(p.PublicKey, out var n)) p.Name = n;
                i.Samples.Add(s);
            }
        }
    }
}
