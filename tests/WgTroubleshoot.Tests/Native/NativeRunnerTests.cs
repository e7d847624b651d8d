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
