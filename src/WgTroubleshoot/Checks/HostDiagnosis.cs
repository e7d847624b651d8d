using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using WgTroubleshoot.Native;
using WgTroubleshoot.Snapshot;

namespace WgTroubleshoot.Checks
{
    /// <summary>The findings of a diagnosis together with the snapshot they judged (what a repair's verification reads back).</summary>
    public sealed class SnapshotFindings : List<Finding>
    {
        public SnapshotFindings(HostSnapshot snapshot, IEnumerable<Finding> findings) : base(findings ?? Enumerable.Empty<Finding>()) { Snapshot = snapshot; }
        public HostSnapshot Snapshot { get; }
    }

    /// <summary>A snapshot and the findings judged from it.</summary>
    public sealed class DiagnosisResult
    {
        public HostSnapshot Snapshot { get; set; }
        public List<Finding> Findings { get; set; } = new List<Finding>();
        /// <summary>Secrets the collector saw, for scrubbing a saved snapshot (never part of the snapshot).</summary>
        internal IReadOnlyCollection<string> Secrets { get; set; } = new string[0];
        /// <summary>The live state could not be read at all (the cmdlet reports it as its error).</summary>
        internal WgException StateError { get; set; }
    }

    /// <summary>
    /// The engine's entry points: collect a snapshot of this host and judge it, judge a saved one, or diagnose one
    /// interface again (what repairs call to verify their change: a new snapshot, the same checks).
    /// </summary>
    public static class HostDiagnosis
    {
        /// <summary>Collects one snapshot and runs every check over it.</summary>
        public static DiagnosisResult Run(INativeRunner runner, SnapshotRequest request, Action<WgException> notFound = null,
            Action<string> verbose = null, Action<string, int> progress = null, CancellationToken cancel = default(CancellationToken))
        {
            var collector = new SnapshotCollector(runner, verbose, cancel);
            var snap = collector.Collect(request, notFound, progress);
            progress?.Invoke("Judging the snapshot", 95);
            return new DiagnosisResult
            {
                Snapshot = snap,
                Findings = new Diagnoser().Diagnose(snap),
                Secrets = collector.Secrets,
                StateError = collector.StateError,
            };
        }

        /// <summary>Judges a snapshot read from a file (a bare snapshot or a support bundle); nothing on this host is read.</summary>
        public static List<Finding> Replay(string path) => new Diagnoser().Diagnose(SnapshotJson.ReadFile(path));

        /// <summary>A fresh snapshot of one interface, judged: repair verification calls this after its change.</summary>
        public static List<Finding> DiagnoseInterface(INativeRunner runner, string iface, Action<string> verbose = null,
            CancellationToken cancel = default(CancellationToken), int sampleSeconds = 2, int traceSeconds = 4)
            => Run(runner, new SnapshotRequest { Interfaces = new[] { iface }, SampleSeconds = sampleSeconds, TraceSeconds = traceSeconds },
                   null, verbose, null, cancel).Findings;

        /// <summary><see cref="DiagnoseInterface"/> as a function of the interface name.</summary>
        public static Func<string, IList<Finding>> Verifier(INativeRunner runner, Action<string> verbose = null, CancellationToken cancel = default(CancellationToken))
            => iface => DiagnoseInterface(runner, iface, verbose, cancel);
    }
}
