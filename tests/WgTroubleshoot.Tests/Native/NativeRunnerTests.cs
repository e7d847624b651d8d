using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Management.Automation;
using WgTroubleshoot.Native;
using Xunit;

namespace WgTroubleshoot.Tests.Native
{
    public class NativeRunnerTests
    {
        [Fact]
        public void RunsAToolAndLogsItsCommandLine()
        {
            var log = new List<string>();
            var r = new NativeRunner(log.Add).Run("printf", new[] { "%s|%s", "a b", "c'd" });
            Assert.True(r.Success);
            Assert.Equal("a b|c'd\n", r.StdOut); // output is read line by line; every line ends with \n
            Assert.Contains("Running: printf '%s|%s' 'a b' 'c'\\''d'", log);
        }

        [Fact]
        public void PassesStandardInputWithoutLoggingIt()
        {
            var log = new List<string>();
            var r = new NativeRunner(log.Add).Run("cat", new string[0], null, "secret-material\n");
            Assert.Equal("secret-material\n", r.StdOut);
            Assert.DoesNotContain(log, l => l.Contains("secret-material"));
        }

        [Fact]
        public void AMissingToolIsNotInstalled()
        {
            var ex = Assert.Throws<WgException>(() => new NativeRunner().Run("wgt-no-such-tool", new string[0]));
            Assert.Equal(ErrorIds.ToolNotInstalled, ex.ErrorId);
            Assert.Equal(ErrorCategory.NotInstalled, ex.Category);
            Assert.False(new NativeRunner().IsAvailable("wgt-no-such-tool"));
        }

        [Fact]
        public void ATimeoutStopsTheToolAndSaysSo()
        {
            var sw = Stopwatch.StartNew();
            var ex = Assert.Throws<WgException>(() => new NativeRunner().Run("sleep", new[] { "30" }, TimeSpan.FromMilliseconds(300)));
            Assert.Equal(ErrorIds.ToolTimedOut, ex.ErrorId);
            Assert.Equal(ErrorCategory.OperationTimeout, ex.Category);
            Assert.True(sw.Elapsed < TimeSpan.FromSeconds(10));
        }

        [Fact]
        public void RunAllStartsEveryCommandAndKeepsTheirOrder()
        {
            var log = new List<string>();
            var threads = new List<int>();
            var runner = new NativeRunner(m => { log.Add(m); threads.Add(Environment.CurrentManagedThreadId); });
            var flag = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "wgt-runall-" + Guid.NewGuid().ToString("N"));
            try
            {
                // The first command waits (at most 5 s) for a file the second one creates: it sees it only
                // when both run at the same time.
                var r = runner.RunAll(new[]
                {
                    new NativeInvocation("sh", new[] { "-c", "i=0; while [ ! -e \"$0\" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i+1)); done; [ -e \"$0\" ] && echo seen; exit 3", flag }),
                    new NativeInvocation("sh", new[] { "-c", "touch \"$0\"; echo second >&2", flag }),
                    new NativeInvocation("printf", new[] { "%s", "third" }),
                });
                Assert.Equal(3, r.Count);
                Assert.Equal("seen\n", r[0].StdOut);
                Assert.Equal(3, r[0].ExitCode);
                Assert.Equal("second\n", r[1].StdErr);
                Assert.Equal("third\n", r[2].StdOut);
                Assert.Contains("Running: printf %s third", log);
                Assert.Equal(6, log.Count); // three command lines, three exits
                Assert.All(threads, t => Assert.Equal(Environment.CurrentManagedThreadId, t)); // -Verbose needs the pipeline thread
            }
            finally
            {
                System.IO.File.Delete(flag);
            }
        }

        [Fact]
        public void RunAllChecksEveryToolBeforeStartingAny()
        {
            var log = new List<string>();
            var ex = Assert.Throws<WgException>(() => new NativeRunner(log.Add).RunAll(new[]
            {
                new NativeInvocation("printf", new[] { "x" }),
                new NativeInvocation("wgt-no-such-tool", new string[0]),
            }));
            Assert.Equal(ErrorIds.ToolNotInstalled, ex.ErrorId);
            Assert.DoesNotContain(log, l => l.Contains("printf"));
        }

        [Fact]
        public void RunAllStopsWhatOutlivesTheTimeout()
        {
            var sw = Stopwatch.StartNew();
            var ex = Assert.Throws<WgException>(() => new NativeRunner().RunAll(new[]
            {
                new NativeInvocation("sleep", new[] { "30" }),
                new NativeInvocation("printf", new[] { "x" }),
            }, TimeSpan.FromMilliseconds(300)));
            Assert.Equal(ErrorIds.ToolTimedOut, ex.ErrorId);
            Assert.True(sw.Elapsed < TimeSpan.FromSeconds(10));
        }

        [Fact]
        public void ANonZeroExitMapsToAClearError()
        {
            var r = new NativeRunner().Run("sh", new[] { "-c", "echo 'Unable to access interface: Operation not permitted' >&2; exit 1" });
            Assert.False(r.Success);
            var ex = NativeRunner.ToError(r, "Reading WireGuard state");
            Assert.Equal(ErrorIds.PermissionDenied, ex.ErrorId);
            Assert.Equal(ErrorCategory.PermissionDenied, ex.Category);

            var r2 = new NativeRunner().Run("sh", new[] { "-c", "echo 'bad thing' >&2; exit 3" });
            var ex2 = NativeRunner.ToError(r2, "Doing it");
            Assert.Equal(ErrorIds.ToolFailed, ex2.ErrorId);
            Assert.Contains("exited with 3: bad thing", ex2.Message);
        }
    }
}

namespace WgTroubleshoot.Tests.Native
{
    public class NativeProcessTests
    {
        private static bool Alive(int pid) => System.IO.File.Exists($"/proc/{pid}/status") && !System.IO.File.ReadAllText($"/proc/{pid}/status").Contains("State:\tZ");

        [Fact]
        public void StreamsStandardOutputAndLogsTheCommandLine()
        {
            var log = new List<string>();
            using (var p = new NativeRunner(log.Add).Start("printf", new[] { "a\\001b" }, TimeSpan.FromSeconds(10)))
            {
                var buf = new byte[16];
                int n = 0, r;
                while ((r = p.StandardOutput.Read(buf, n, buf.Length - n)) > 0) n += r;
                Assert.Equal(new byte[] { (byte)'a', 1, (byte)'b' }, buf[..n]);
                Assert.True(p.WaitForExit(TimeSpan.FromSeconds(5)));
                Assert.Equal(0, p.ExitCode);
            }
            Assert.Contains(log, l => l.StartsWith("Running (at most 10 s): ") && l.Contains("printf"));
        }

        [Fact]
        public void NeverOutlivesItsLifetime()
        {
            var sw = Stopwatch.StartNew();
            using (var p = new NativeRunner().Start("sleep", new[] { "30" }, TimeSpan.FromMilliseconds(400)))
            {
                Assert.True(p.WaitForExit(TimeSpan.FromSeconds(5)));
                Assert.True(p.ReachedLifetime);
                Assert.False(Alive(p.Id));
            }
            Assert.True(sw.Elapsed < TimeSpan.FromSeconds(5));
        }

        [Fact]
        public void DisposeKillsIt()
        {
            int pid;
            using (var p = new NativeRunner().Start("sleep", new[] { "30" }, TimeSpan.FromSeconds(60)))
            {
                pid = p.Id;
                Assert.True(Alive(pid));
            }
            Assert.False(Alive(pid));
        }

        [Fact]
        public void CollectsStandardError()
        {
            using (var p = new NativeRunner().Start("sh", new[] { "-c", "echo oops >&2; exit 2" }, TimeSpan.FromSeconds(10)))
            {
                Assert.True(p.WaitForExit(TimeSpan.FromSeconds(5)));
                Assert.Equal(2, p.ExitCode);
                Assert.Equal("oops\n", p.StandardError);
            }
        }

        [Fact]
        public void AMissingToolIsNotInstalled()
        {
            var ex = Assert.Throws<WgException>(() => new NativeRunner().Start("wgt-no-such-tool", new string[0], TimeSpan.FromSeconds(1)));
            Assert.Equal(ErrorIds.ToolNotInstalled, ex.ErrorId);
        }

        [Fact]
        public void DiesWithTheProcessThatStartedIt()
        {
            // A child shell starts the runner's way (setpriv --pdeathsig KILL) a long sleep and is then killed hard.
            var r = new NativeRunner().Run("sh", new[] { "-c", "sh -c 'setpriv --pdeathsig KILL -- sleep 30 & echo $!; exec sleep 30 >/dev/null' & P=$!; sleep 0.5; kill -9 $P; wait $P 2>/dev/null; exit 0" }, TimeSpan.FromSeconds(10));
            var pid = int.Parse(r.StdOut.Trim());
            var deadline = DateTime.UtcNow.AddSeconds(3);
            while (Alive(pid) && DateTime.UtcNow < deadline) System.Threading.Thread.Sleep(50);
            Assert.False(Alive(pid));
        }
    }
}
