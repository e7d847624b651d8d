using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Management.Automation;
using System.Threading;
using WgTroubleshoot.Native;
using WgTroubleshoot.Trace;
using Xunit;

#pragma warning disable CA1416
namespace WgTroubleshoot.Tests.Trace
{
    /// <summary>
    /// The capture loop against a stand-in for tcpdump: a shell that writes a recorded pcap and then keeps
    /// running (or fails the way tcpdump does), started through the real runner.
    /// </summary>
    public class TrafficCaptureTests
    {
        private sealed class FakeTcpdumpRunner : INativeRunner
        {
            private readonly string _script;
            public readonly List<string> Log = new List<string>();
            public List<string> Arguments;
            public NativeProcess Started;

            public FakeTcpdumpRunner(string script) { _script = script; }

            public NativeResult Run(string tool, IEnumerable<string> arguments, TimeSpan? timeout = null, string standardInput = null)
                => throw new NotSupportedException();

            public bool IsAvailable(string tool) => true;

            public NativeProcess Start(string tool, IEnumerable<string> arguments, TimeSpan maxLifetime)
            {
                Assert.Equal("tcpdump", tool);
                Arguments = new List<string>(arguments);
                Started = new NativeRunner(Log.Add).Start("sh", new[] { "-c", _script }, maxLifetime);
                return Started;
            }
        }

        private static bool Alive(int pid) => File.Exists($"/proc/{pid}/status") && !File.ReadAllText($"/proc/{pid}/status").Contains("State:\tZ");

        [Fact]
        public void CapturesForTheRequestedTimeAndLeavesNothingRunning()
        {
            var pcap = PcapAndDecoderTests.Corpus("server-firewall-drop.pcap");
            var runner = new FakeTcpdumpRunner($"cat '{pcap}'; exec sleep 60");
            var progress = 0;
            int pid = 0;
            var sw = Stopwatch.StartNew();
            var results = new TrafficCapture(runner).Run(new TrafficTracer("wg0", 51820), TimeSpan.FromSeconds(1), CancellationToken.None,
                (e, n) => progress++, p => pid = p);
            sw.Stop();
            var t = Assert.Single(results);
            Assert.Equal(nameof(TrafficVerdict.InitiationsUnanswered), t.Verdict);
            Assert.InRange(sw.Elapsed.TotalSeconds, 0.9, 4);
            Assert.True(progress >= 2);
            Assert.Equal(runner.Started.Id, pid);
            Assert.False(Alive(pid));
            Assert.Equal(new[] { "-i", "any", "-n", "-U", "-s", "256", "-Z", "root", "-w", "-", "udp port 51820" }, runner.Arguments);
        }

        [Fact]
        public void CancellingEndsTheCaptureAtOnce()
        {
            var pcap = PcapAndDecoderTests.Corpus("server-healthy.pcap");
            var runner = new FakeTcpdumpRunner($"cat '{pcap}'; exec sleep 60");
            using (var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(700)))
            {
                var sw = Stopwatch.StartNew();
                new TrafficCapture(runner).Run(new TrafficTracer("wg0", 51820), TimeSpan.FromSeconds(60), cts.Token);
                Assert.True(sw.Elapsed < TimeSpan.FromSeconds(5));
            }
            Assert.False(Alive(runner.Started.Id));
        }

        [Fact]
        public void ATcpdumpThatCannotCaptureIsPermissionDenied()
        {
            var runner = new FakeTcpdumpRunner("echo 'tcpdump: any: You don'\\''t have permission to perform this capture on that device' >&2; exit 1");
            var ex = Assert.Throws<WgException>(() => new TrafficCapture(runner).Run(new TrafficTracer("wg0", 51820), TimeSpan.FromSeconds(5), CancellationToken.None));
            Assert.Equal(ErrorIds.PermissionDenied, ex.ErrorId);
            Assert.Contains("permission", ex.Message);
        }

        /// <summary>Starts a real file as "tcpdump" through the real runner (setpriv exec's it).</summary>
        private sealed class FileAsTcpdumpRunner : INativeRunner
        {
            private readonly string _file;
            public FileAsTcpdumpRunner(string file) { _file = file; }
            public NativeResult Run(string tool, IEnumerable<string> arguments, TimeSpan? timeout = null, string standardInput = null) => throw new NotSupportedException();
            public bool IsAvailable(string tool) => true;
            public NativeProcess Start(string tool, IEnumerable<string> arguments, TimeSpan maxLifetime) => new NativeRunner(_ => { }).Start(_file, arguments, maxLifetime);
        }

        [Theory]
        [InlineData(false, "not executable (EACCES)")]
        [InlineData(true, "not a program (ENOEXEC)")]
        public void ATcpdumpThatCannotExecuteIsNotInstalledNotNeedsRoot(bool executable, string what)
        {
            if (!OperatingSystem.IsLinux() || NativeRunner.ResolveTool("setpriv") == null) return;
            var dir = Path.Combine(Path.GetTempPath(), "wgz-tcpdump-" + Guid.NewGuid().ToString("N").Substring(0, 8));
            Directory.CreateDirectory(dir);
            try
            {
                var fake = Path.Combine(dir, "tcpdump");
                File.WriteAllBytes(fake, new byte[] { 0x7f, 0x45, 0x4c, 0x46, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13 });
                File.SetUnixFileMode(fake, executable ? (UnixFileMode)0x1ED : (UnixFileMode)0x1A4); // 0755 or 0644
                var ex = Assert.Throws<WgException>(() => new TrafficCapture(new FileAsTcpdumpRunner(fake)).Run(new TrafficTracer("wg0", 51820), TimeSpan.FromSeconds(3), CancellationToken.None));
                Assert.True(ex.ErrorId == ErrorIds.ToolNotInstalled, what + ": " + ex.ErrorId + " " + ex.Message);
                Assert.Equal(ErrorCategory.NotInstalled, ex.Category);
                Assert.Contains("cannot be executed", ex.Message);
                Assert.DoesNotContain("needs root", ex.Message);
            }
            finally { Directory.Delete(dir, true); }
        }

        [Fact]
        public void ATcpdumpThatDiesMidwayIsAFailureWithItsMessage()
        {
            var pcap = PcapAndDecoderTests.Corpus("server-healthy.pcap");
            var runner = new FakeTcpdumpRunner($"cat '{pcap}'; sleep 0.3; echo 'tcpdump: pcap_loop: The interface disappeared' >&2; exit 1");
            var ex = Assert.Throws<WgException>(() => new TrafficCapture(runner).Run(new TrafficTracer("wg0", 51820), TimeSpan.FromSeconds(10), CancellationToken.None));
            Assert.Equal(ErrorIds.ToolFailed, ex.ErrorId);
            Assert.Contains("The interface disappeared", ex.Message);
        }

        [Fact]
        public void OutputThatIsNotPcapIsAFailure()
        {
            var runner = new FakeTcpdumpRunner("echo 'this is text, not a capture'; exec sleep 60");
            var ex = Assert.Throws<WgException>(() => new TrafficCapture(runner).Run(new TrafficTracer("wg0", 51820), TimeSpan.FromSeconds(10), CancellationToken.None));
            Assert.Equal(ErrorIds.ToolFailed, ex.ErrorId);
            Assert.False(Alive(runner.Started.Id));
        }
    }
}
