using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text.RegularExpressions;
using System.Threading;
using WgTroubleshoot.Checks;
using WgTroubleshoot.Liveness;
using WgTroubleshoot.Logs;
using WgTroubleshoot.Native;
using WgTroubleshoot.Snapshot;
using Xunit;

namespace WgTroubleshoot.Tests.Logs
{
    [CollectionDefinition(nameof(JournalCollection), DisableParallelization = true)]
    public class JournalCollection { }

    /// <summary>
    /// HandshakeReplay from what the lab recorded (tests/lab/Record-HandshakeReplay.ps1): the server's snapshot, taken
    /// while only an initiation older than one it had accepted kept arriving, and the server's own wireguard-go log
    /// (LOG_LEVEL=verbose) of that time. The log goes through the live path: the snapshot's log source
    /// (<see cref="HandshakeLogSource"/>, which reads the system log with <see cref="WgLogReader.ReadSystem"/>), here
    /// from a journal that holds the recorded lines as journald keeps a daemon's output (short-iso: time, host,
    /// wireguard-go[pid]: the line), their clock moved so the last line is a minute old (the source reads the last
    /// five minutes). Then the catalog judges the snapshot.
    /// </summary>
    [Collection(nameof(JournalCollection))]
    public class HandshakeReplayLogReplayTests
    {
        private static string Dir => Path.Combine(AppContext.BaseDirectory, "Corpus", "logs", "HandshakeReplay");
        private static readonly Regex GoTime = new Regex(@"(?<t>\d{4}/\d{2}/\d{2} \d{2}:\d{2}:\d{2})");

        /// <summary>The recorded wireguard-go lines as `journalctl -o short-iso _COMM=wireguard-go` prints them, moved in time so the last is <paramref name="lastAt"/>.</summary>
        internal static string AsJournal(IEnumerable<string> lines, DateTime lastAt)
        {
            var timed = lines.Where(l => l.Trim().Length > 0)
                             .Select(l => new { l, m = GoTime.Match(l) })
                             .Where(x => x.m.Success)
                             .Select(x => new { x.l, t = DateTime.ParseExact(x.m.Groups["t"].Value, "yyyy/MM/dd HH:mm:ss", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal) })
                             .ToList();
            Assert.NotEmpty(timed);
            var shift = lastAt.ToUniversalTime() - timed.Last().t;
            return string.Join("\n", timed.Select(x =>
            {
                var t = x.t + shift;
                var line = GoTime.Replace(x.l, t.ToString("yyyy/MM/dd HH:mm:ss", CultureInfo.InvariantCulture), 1);
                return t.ToString("yyyy-MM-dd'T'HH:mm:ss", CultureInfo.InvariantCulture) + "+0000 vm wireguard-go[4242]: " + line;
            })) + "\n";
        }

        private sealed class JournalRunner : INativeRunner
        {
            private readonly string _go;
            public readonly List<string> Calls = new List<string>();
            public JournalRunner(string go) { _go = go; }
            public NativeResult Run(string tool, IEnumerable<string> arguments, TimeSpan? timeout = null, string standardInput = null)
            {
                var a = arguments.ToList();
                Calls.Add(tool + " " + string.Join(" ", a));
                if (tool != "journalctl") return new NativeResult(tool, 1, "", "unexpected in this test", TimeSpan.Zero);
                if (a.Contains("-k")) return new NativeResult(tool, 0, "", "", TimeSpan.Zero);   // no kernel WireGuard here: wireguard-go
                if (a.Contains("_COMM=wireguard-go")) return new NativeResult(tool, 0, _go, "", TimeSpan.Zero);
                return new NativeResult(tool, 1, "", "unexpected journalctl call", TimeSpan.Zero);
            }
            public bool IsAvailable(string tool) => tool == "journalctl";
            public NativeProcess Start(string tool, IEnumerable<string> arguments, TimeSpan maxLifetime) => throw new InvalidOperationException("no process in unit tests");
        }

        /// <summary>The recorded snapshot with its log read by the live log source from <paramref name="logLines"/>.</summary>
        private static (HostSnapshot Snapshot, JournalRunner Runner) Collect(IEnumerable<string> logLines)
        {
            var snap = SnapshotJson.ReadFile(Path.Combine(Dir, "server-snapshot.json"));
            var runner = new JournalRunner(AsJournal(logLines, DateTime.UtcNow.AddMinutes(-1)));
            var saved = WgLogReader.JournalRuntimeDirectory;
            WgLogReader.JournalRuntimeDirectory = AppContext.BaseDirectory;   // a directory that exists: journald "runs"
            try
            {
                var ctx = new CollectContext(snap, runner, null, CancellationToken.None);
                new HandshakeLogSource().Collect(ctx);
            }
            finally { WgLogReader.JournalRuntimeDirectory = saved; }
            return (snap, runner);
        }

        private static string[] RecordedLog() => File.ReadAllLines(Path.Combine(Dir, "server-wireguard-go.log"));

        [Fact]
        public void TheRecordingHoldsTheReplaysAndASnapshotWithoutThem()
        {
            Assert.Contains(RecordedLog(), l => l.Contains("ConsumeMessageInitiation: handshake replay"));
            var snap = SnapshotJson.ReadFile(Path.Combine(Dir, "server-snapshot.json"));
            var i = Assert.Single(snap.Interfaces);
            Assert.Empty(i.LogEvents);   // the lab has no journal: the live run found no log
            Assert.Contains(RecordedLog(), l => l.Contains("(" + i.Name + ")"));
        }

        [Fact]
        public void TheLogSourceReadsTheRecordedReplaysAndTheDiagnosisNamesHandshakeReplay()
        {
            var (snap, runner) = Collect(RecordedLog());
            Assert.Contains(runner.Calls, c => c.StartsWith("journalctl ", StringComparison.Ordinal) && c.Contains("_COMM=wireguard-go") && c.Contains("--since"));
            var i = snap.Interfaces[0];
            Assert.Contains(i.LogEvents, e => e.EventType == WgLogEventType.HandshakeReplay && e.Interface == i.Name);
            var findings = new Diagnoser().Diagnose(snap);
            var top = findings[0];
            Assert.True(top.Cause == "HandshakeReplay", "expected HandshakeReplay first, got:\n" + string.Join("\n", findings.Select(f => f.ToString())));
            Assert.Equal("Error", top.Severity);
            Assert.Contains(top.Evidence, e => e.Contains("ConsumeMessageInitiation: handshake replay"));
            Assert.DoesNotContain(findings, f => f.Cause == "KeyMismatch");
            Assert.Contains("rejects the handshake initiations", top.Summary);
        }

        [Fact]
        public void WithoutTheReplayLinesTheSameServerIsNotHandshakeReplay()
        {
            var (snap, runner) = Collect(RecordedLog().Where(l => !l.Contains("handshake replay")));
            // the log was read (the client's session expired), and without replay lines it names none
            Assert.Contains(runner.Calls, c => c.Contains("_COMM=wireguard-go"));
            Assert.DoesNotContain(snap.Interfaces[0].LogEvents, e => e.EventType == WgLogEventType.HandshakeReplay);
            Assert.DoesNotContain(new Diagnoser().Diagnose(snap), f => f.Cause == "HandshakeReplay");
        }

        [Fact]
        public void TheRecordingHoldsNoKey()
        {
            foreach (var f in Directory.GetFiles(Dir))
            {
                var text = File.ReadAllText(f);
                Assert.DoesNotMatch("\"(PrivateKey|PresharedKey)\"\\s*:", text);
                Assert.DoesNotMatch(@"(?<![0-9a-fA-F])[0-9a-fA-F]{64}(?![0-9a-fA-F])", text);
                if (f.EndsWith(".log", StringComparison.Ordinal)) Assert.DoesNotMatch(@"[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=", text);
            }
        }
    }
}
