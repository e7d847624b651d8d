using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Management.Automation;
using System.Net;
using System.Threading;
using WgTroubleshoot.Changes;
using WgTroubleshoot.Native;
using WgTroubleshoot.Snapshot.Sources;

namespace WgTroubleshoot.Snapshot
{
    /// <summary>When a source runs within one collection.</summary>
    public enum SnapshotStage
    {
        /// <summary>Finds the interfaces and takes the first sample of their state (links, configs: what the rest needs).</summary>
        Discover = 0,
        /// <summary>Runs while the sample time passes (firewall, sysctls, names, routes).</summary>
        DuringSample = 1,
        /// <summary>Takes the second sample, after the sample time.</summary>
        Sample = 2,
        /// <summary>Looks at the wire when the samples say so (capture, -Deep MTU probe).</summary>
        AfterSample = 3,
    }

    /// <summary>
    /// One source of facts. A source reads one thing (a tool, a file, a socket) through the runner and fills its
    /// part of <see cref="CollectContext.Snapshot"/>. It throws <see cref="WgException"/> (or an IO error) when it
    /// cannot: the collector records that as the source's Failed/Unavailable status and goes on. A source that
    /// reads per interface reports each one with <see cref="CollectContext.Run"/>. Add one to
    /// <see cref="SnapshotCollector.DefaultSources"/> (or pass your own list); nothing else needs to change.
    /// </summary>
    public interface ISnapshotSource
    {
        /// <summary>The name checks use in <see cref="Checks.ICheck.Needs"/> (see <see cref="SourceNames"/>).</summary>
        string Name { get; }
        SnapshotStage Stage { get; }
        void Collect(CollectContext context);
    }

    /// <summary>What a source gets: the snapshot so far, the runner, the request, and a way to report per part.</summary>
    public sealed class CollectContext
    {
        internal CollectContext(HostSnapshot snapshot, INativeRunner runner, Action<string> verbose, CancellationToken cancel)
        {
            Snapshot = snapshot;
            Runner = runner;
            Verbose = verbose ?? (_ => { });
            Cancel = cancel;
        }

        public HostSnapshot Snapshot { get; }
        public SnapshotRequest Request => Snapshot.Request;
        public INativeRunner Runner { get; }
        public Action<string> Verbose { get; }
        public CancellationToken Cancel { get; }
        /// <summary>Called for a literal interface name that has no WireGuard interface behind it.</summary>
        public Action<WgException> NotFound { get; set; } = _ => { };
        /// <summary>Progress (text, percent) for the cmdlet's progress bar.</summary>
        public Action<string, int> Progress { get; set; } = (_, __) => { };

        /// <summary>Secrets seen while reading (config keys): never stored, only used to scrub what is written out.</summary>
        internal HashSet<string> Secrets { get; } = new HashSet<string>(StringComparer.Ordinal);

        /// <summary>Captures started during the sample time, by interface (joined after it).</summary>
        internal Dictionary<string, Sources.PendingCapture> PendingCaptures { get; } = new Dictionary<string, Sources.PendingCapture>(StringComparer.Ordinal);

        /// <summary>The endpoint watch started with the sample, on its own thread (joined before the second sample).</summary>
        internal Liveness.PendingWatch PendingWatch { get; set; }

        /// <summary>True when the reads during the sample already proved two-way traffic on every peer: the second sample need not wait.</summary>
        internal bool SampleProven { get; set; }

        /// <summary>The exception of the live-state source when it failed as a whole (the cmdlet reports it as before).</summary>
        internal WgException StateError { get; set; }

        /// <summary>Records a status (replacing an earlier one of the same name and interface).</summary>
        public SourceStatus Report(string name, string iface, SourceState state, string errorId = null, string message = null, double elapsedMs = 0)
        {
            Snapshot.Sources.RemoveAll(s => s.Name == name && s.Interface == iface);
            var st = new SourceStatus { Name = name, Interface = iface, State = state.ToString(), ErrorId = errorId, Message = message, ElapsedMilliseconds = Math.Round(elapsedMs, 1) };
            Snapshot.Sources.Add(st);
            if (state == SourceState.Failed || state == SourceState.Unavailable) Verbose($"Snapshot: {st}");
            return st;
        }

        /// <summary>
        /// Runs one part of a source and records how it went: Ok when it returns, Failed/Unavailable with the
        /// ErrorId when it throws (a missing tool or privilege is Unavailable). Returns false when it failed.
        /// </summary>
        public bool Run(string name, string iface, Action body)
        {
            var sw = Stopwatch.StartNew();
            try
            {
                body();
                if (!Snapshot.Sources.Any(s => s.Name == name && s.Interface == iface))
                    Report(name, iface, SourceState.Ok, elapsedMs: sw.Elapsed.TotalMilliseconds);
                return true;
            }
            catch (WgException ex)
            {
                var unavailable = ex.ErrorId == ErrorIds.ToolNotInstalled || ex.Category == ErrorCategory.NotInstalled || ex.Category == ErrorCategory.PermissionDenied;
                Report(name, iface, unavailable ? SourceState.Unavailable : SourceState.Failed, ex.ErrorId, ex.Message, sw.Elapsed.TotalMilliseconds);
            }
            catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException || ex is FormatException
                                       || ex is InvalidOperationException || ex is ArgumentException)
            {
                Report(name, iface, ex is UnauthorizedAccessException ? SourceState.Unavailable : SourceState.Failed,
                    ex is UnauthorizedAccessException ? ErrorIds.PermissionDenied : ErrorIds.ToolFailed, ex.Message, sw.Elapsed.TotalMilliseconds);
            }
            return false;
        }
    }

    /// <summary>
    /// Collects one <see cref="HostSnapshot"/>: runs every source once, stage by stage (the host-wide sources
    /// run while the sample time passes), and records what each said. Nothing is changed on the host.
    /// </summary>
    public sealed class SnapshotCollector
    {
        private readonly INativeRunner _runner;
        private readonly IList<ISnapshotSource> _sources;
        private readonly Action<string> _verbose;
        private readonly CancellationToken _cancel;

        public SnapshotCollector(INativeRunner runner, Action<string> verbose = null, CancellationToken cancel = default(CancellationToken), IList<ISnapshotSource> sources = null)
        {
            _runner = runner;
            _verbose = verbose ?? (_ => { });
            _cancel = cancel;
            _sources = sources ?? DefaultSources();
        }

        /// <summary>The built-in sources, in the order they run within a stage. Add new sources here.</summary>
        public static List<ISnapshotSource> DefaultSources() => new List<ISnapshotSource>
        {
            new WgStateSource(),
            new LinkSource(),
            new ConfigSource(),
            new CounterSource(false),
            new Liveness.EndpointWatchSource(),
            new CaptureSource(),
            new NetfilterSource(),
            new SysctlSource(),
            new NameSource(),
            new RouteSource(),
            new SubnetRouteSource(),
            new ConntrackSource(),
            new SecondSampleSource(),
            new CounterSource(true),
            new Liveness.ProbeSource(),
            new Liveness.ListenPortSource(),
            new Liveness.HandshakeLogSource(),
            new CaptureResultSource(),
            new ReversePathSource(),
            new TcpSynSource(),
            new MtuSource(),
        };

        /// <summary>Secrets the last collection saw (for scrubbing what is written out); never part of the snapshot.</summary>
        internal IReadOnlyCollection<string> Secrets { get; private set; } = new string[0];

        /// <summary>The live-state failure of the last collection, when nothing could be read at all.</summary>
        internal WgException StateError { get; private set; }

        public HostSnapshot Collect(SnapshotRequest request, Action<WgException> notFound = null, Action<string, int> progress = null)
        {
            var snap = new HostSnapshot
            {
                Request = request ?? new SnapshotRequest(),
                HostName = SafeHostName(),
                Platform = Privilege.IsLinux ? "Linux" : System.Runtime.InteropServices.RuntimeInformation.IsOSPlatform(System.Runtime.InteropServices.OSPlatform.Windows) ? "Windows" : "Other",
                Elevated = Privilege.IsElevated(),
                ModuleVersion = typeof(SnapshotCollector).Assembly.GetName().Version?.ToString(),
                CollectedAt = DateTime.UtcNow,
            };
            var ctx = new CollectContext(snap, _runner, _verbose, _cancel) { NotFound = notFound ?? (_ => { }), Progress = progress ?? ((_, __) => { }) };
            foreach (SnapshotStage stage in Enum.GetValues(typeof(SnapshotStage)))
            {
                foreach (var source in _sources.Where(s => s.Stage == stage))
                {
                    if (_cancel.IsCancellationRequested) break;
                    ctx.Run(source.Name, null, () => source.Collect(ctx));
                }
            }
            snap.CompletedAt = DateTime.UtcNow;
            Secrets = ctx.Secrets.ToList();
            StateError = ctx.StateError;
            return snap;
        }

        /// <summary>Runs only the given host-wide sources (no interfaces): the facts one cmdlet needs, read the same way as a diagnosis reads them.</summary>
        public static HostSnapshot CollectHost(INativeRunner runner, Action<string> verbose, params ISnapshotSource[] sources)
        {
            var snap = new HostSnapshot { Platform = Privilege.IsLinux ? "Linux" : "Other", Elevated = Privilege.IsElevated(), CollectedAt = DateTime.UtcNow };
            var ctx = new CollectContext(snap, runner, verbose, CancellationToken.None);
            foreach (var source in sources) ctx.Run(source.Name, null, () => source.Collect(ctx));
            snap.CompletedAt = DateTime.UtcNow;
            return snap;
        }

        private static string SafeHostName()
        {
            try { return Dns.GetHostName(); }
            catch (System.Net.Sockets.SocketException) { return Environment.MachineName; }
        }
    }
}
