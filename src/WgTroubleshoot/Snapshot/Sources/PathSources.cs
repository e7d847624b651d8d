using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Net;
using WgTroubleshoot.Diagnosis;
using WgTroubleshoot.Native;
using WgTroubleshoot.PathFaults;

namespace WgTroubleshoot.Snapshot
{
    /// <summary>Kernel SNMP counters (/proc/net/netstat, /proc/net/snmp) at the start and at the end of the sample time.</summary>
    public sealed class CounterState
    {
        /// <summary>Counter names the checks use (nstat names: TcpExtIPReversePathFilter, IpInAddrErrors ...).</summary>
        public static readonly string[] Kept = { KernelCounters.ReversePathFilter, KernelCounters.InAddrErrors, "IpForwDatagrams", "IpInReceives", "UdpInDatagrams", "UdpOutDatagrams", "UdpNoPorts" };

        public Dictionary<string, long> First { get; set; } = new Dictionary<string, long>(StringComparer.Ordinal);
        public Dictionary<string, long> Last { get; set; } = new Dictionary<string, long>(StringComparer.Ordinal);
        public DateTime FirstTaken { get; set; }
        public DateTime LastTaken { get; set; }

        /// <summary>How much a counter grew over the sample time; null when it was not read twice.</summary>
        public long? Delta(string name) => KernelCounters.Delta(First, Last, name);
    }

    /// <summary>The UDP flows of conntrack that belong to WireGuard (a listen port, or a peer's endpoint port).</summary>
    public sealed class ConntrackState
    {
        public List<ConntrackEntry> Entries { get; set; } = new List<ConntrackEntry>();
    }

    /// <summary>
    /// The reverse path of a sender: how this host routes back to an address that sends to it, and whether the
    /// kernel would accept a packet from it on the link where it arrives (`ip route get LOCAL from SENDER iif LINK`).
    /// </summary>
    public sealed class ReversePathLookup
    {
        public string Sender { get; set; }
        public string Local { get; set; }
        public string ArrivesOn { get; set; }
        /// <summary>True when the kernel accepts the packet (the input route lookup succeeded).</summary>
        public bool InputRouteOk { get; set; }
        public string InputRouteText { get; set; }
        /// <summary>The device of the route back to the sender (`ip route get SENDER`).</summary>
        public string ReturnDevice { get; set; }
        public string ReturnRouteText { get; set; }
    }
}

namespace WgTroubleshoot.Snapshot.Sources
{
    /// <summary>Reads the kernel's SNMP counters once at Discover and once after the sample time (two readings: a delta).</summary>
    public sealed class CounterSource : ISnapshotSource
    {
        public const string SourceName = "counters";
        private readonly bool _second;

        public CounterSource(bool second) { _second = second; }

        public string Name => SourceName;
        public SnapshotStage Stage => _second ? SnapshotStage.Sample : SnapshotStage.Discover;

        /// <summary>Where /proc/net lives (tests point it elsewhere).</summary>
        internal static string ProcNet { get; set; } = "/proc/net";

        public void Collect(CollectContext ctx)
        {
            if (!Changes.Privilege.IsLinux) { ctx.Report(Name, null, SourceState.Unavailable, ErrorIds.ToolNotInstalled, "Kernel counters are read from /proc/net on Linux only."); return; }
            ctx.Run(Name, null, () =>
            {
                var all = new Dictionary<string, long>(StringComparer.Ordinal);
                foreach (var f in new[] { "netstat", "snmp" })
                    foreach (var kv in KernelCounters.ParseProcNetstat(File.ReadAllText(Path.Combine(ProcNet, f)))) all[kv.Key] = kv.Value;
                var st = ctx.Snapshot.Counters ?? (ctx.Snapshot.Counters = new CounterState());
                var kept = all.Where(kv => CounterState.Kept.Contains(kv.Key)).ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal);
                if (_second) { st.Last = kept; st.LastTaken = DateTime.UtcNow; }
                else { st.First = kept; st.FirstTaken = DateTime.UtcNow; }
            });
        }
    }

    /// <summary>`conntrack -L -p udp`, kept to the flows of the WireGuard ports (needs the conntrack tool and root).</summary>
    public sealed class ConntrackSource : ISnapshotSource
    {
        public const string SourceName = "conntrack";
        public const int MaxEntries = 5000;

        public string Name => SourceName;
        public SnapshotStage Stage => SnapshotStage.DuringSample;

        public void Collect(CollectContext ctx)
        {
            if (!ctx.Runner.IsAvailable("conntrack"))
            {
                ctx.Report(Name, null, SourceState.Unavailable, ErrorIds.ToolNotInstalled, "conntrack is not installed: the connection-tracking table was not read. " + NativeRunner.InstallHint("conntrack"));
                return;
            }
            var listen = new HashSet<int>(ctx.Snapshot.Interfaces.Select(i => i.First?.Interface.ListenPort).Where(p => p.HasValue).Select(p => p.Value));
            var endpoints = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
            foreach (var i in ctx.Snapshot.Interfaces)
                foreach (var p in i.First?.Peers ?? new List<WgPeer>())
                    if (!string.IsNullOrEmpty(p.Endpoint)) endpoints.Add(p.Endpoint);
            if (listen.Count == 0 && endpoints.Count == 0) { ctx.Report(Name, null, SourceState.Skipped, message: "No listen port and no endpoint to look for."); return; }
            ctx.Run(Name, null, () =>
            {
                var r = NativeRunner.RunChecked(ctx.Runner, "Reading the connection-tracking table", "conntrack", new[] { "-L", "-p", "udp" });
                var st = new ConntrackState();
                foreach (var e in ConntrackParser.Parse(r.StdOut))
                {
                    bool mine = (e.OrigSport.HasValue && listen.Contains(e.OrigSport.Value))
                                || (e.OrigDst != null && e.OrigDport.HasValue && endpoints.Contains(EndpointText(e.OrigDst, e.OrigDport.Value)));
                    if (mine && st.Entries.Count < MaxEntries) st.Entries.Add(e);
                }
                ctx.Snapshot.Conntrack = st;
            });
        }

        internal static string EndpointText(string address, int port)
            => (address.IndexOf(':') >= 0 ? "[" + address + "]" : address) + ":" + port.ToString(System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>
    /// For every sender whose initiations the capture saw arrive (and every live endpoint), whether the kernel
    /// accepts its packets on the uplink (`ip route get LOCAL from SENDER iif UPLINK`) and where the route back
    /// leaves (`ip route get SENDER`). Runs after the capture.
    /// </summary>
    public sealed class ReversePathSource : ISnapshotSource
    {
        public const string SourceName = "reverse-path";
        public const int MaxSenders = 64;

        public string Name => SourceName;
        public SnapshotStage Stage => SnapshotStage.AfterSample;

        private static string FirstLine(string text) => (text ?? "").Replace("\r", "").Split('\n').Select(l => l.Trim()).FirstOrDefault(l => l.Length > 0) ?? "";

        public void Collect(CollectContext ctx)
        {
            var uplink = ctx.Snapshot.Routes.DefaultDevice;
            var local = ctx.Snapshot.Link(uplink ?? "")?.Addresses.Select(a => a.Split('/')[0]).FirstOrDefault(a => a.IndexOf(':') < 0);
            if (uplink == null || local == null || !ctx.Runner.IsAvailable("ip"))
            {
                ctx.Report(Name, null, SourceState.Skipped, message: "No IPv4 uplink address to check reverse paths against.");
                return;
            }
            foreach (var i in ctx.Snapshot.Interfaces)
            {
                var senders = new List<string>();
                foreach (var t in i.Capture?.Traces ?? new List<TrafficTrace>())
                    if (t.InitiationsIn > 0 && t.RemoteEndpoint != null) senders.Add(EndpointChecker.ParseEndpointAddress(t.RemoteEndpoint, out _)?.ToString());
                foreach (var p in i.Last?.Peers ?? new List<WgPeer>()) senders.Add(EndpointChecker.ParseEndpointAddress(p.Endpoint, out _)?.ToString());
                senders = senders.Where(s => s != null && IPAddress.TryParse(s, out var a) && a.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork)
                    .Distinct().Take(MaxSenders).ToList();
                if (senders.Count == 0) { ctx.Report(Name, i.Name, SourceState.Skipped, message: "No sender to check."); continue; }
                ctx.Run(Name, i.Name, () =>
                {
                    foreach (var s in senders)
                    {
                        var input = ctx.Runner.Run("ip", new[] { "route", "get", local, "from", s, "iif", uplink });
                        var back = ctx.Runner.Run("ip", new[] { "route", "get", s });
                        var l = new ReversePathLookup
                        {
                            Sender = s, Local = local, ArrivesOn = uplink,
                            InputRouteOk = input.Success, InputRouteText = FirstLine(input.Success ? input.StdOut : input.StdErr),
                            ReturnRouteText = FirstLine(back.StdOut),
                        };
                        var lookup = PathFaults.RouteAnswer.Parse(s, back.ExitCode, back.StdOut, back.StdErr);
                        l.ReturnDevice = lookup.Device;
                        i.ReversePaths.Add(l);
                    }
                });
            }
        }
    }
}
