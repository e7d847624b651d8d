using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Management.Automation;
using System.Text;
using WgTroubleshoot.Changes;
using WgTroubleshoot.Config;
using Xunit;

#pragma warning disable CA1416 // Linux only: every test returns early elsewhere
namespace WgTroubleshoot.Tests.Changes
{
    /// <summary>
    /// How the module creates and replaces files (issue: files created with their final mode, no symbolic link
    /// followed, stale temporary files removed). Real files in a private temporary directory; Linux only.
    /// </summary>
    [Collection("AtomicFile hooks")]
    public class FileSafetyTests : IDisposable
    {
        private readonly string _dir;
        private readonly List<string> _warnings = new List<string>();

        public FileSafetyTests()
        {
            _dir = Path.Combine(Path.GetTempPath(), "wgz-files-" + Guid.NewGuid().ToString("N").Substring(0, 8));
            Directory.CreateDirectory(_dir);
            File.SetUnixFileMode(_dir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            AtomicFile.WarningSink = _warnings.Add;
        }

        public void Dispose()
        {
            AtomicFile.TempCreated = null;
            AtomicFile.WarningSink = null;
            try { Directory.Delete(_dir, true); } catch (IOException) { }
        }

        private static bool Linux => OperatingSystem.IsLinux();
        private static int Mode(string p) => (int)File.GetUnixFileMode(p);
        private static byte[] B(string s) => Encoding.UTF8.GetBytes(s);

        [Fact]
        public void EveryTemporaryFileHasItsFinalModeFromTheMomentItExists()
        {
            if (!Linux) return;
            var seen = new List<(string, int)>();
            // the hook is process-wide: record only this test's files
            AtomicFile.TempCreated = p => { if (p.StartsWith(_dir, StringComparison.Ordinal)) lock (seen) seen.Add((p, Mode(p))); };
            var conf = Path.Combine(_dir, "wg0.conf");
            WgConfigFile.Write(conf, B("[Interface]\nPrivateKey = x\n"));       // config (new)
            WgConfigFile.Write(conf, B("[Interface]\nPrivateKey = y\n"));       // config (replace, with .bak)
            AtomicFile.Write(Path.Combine(_dir, "report.yaml"), "a: 1\n", AtomicFile.Private, keepBackup: false);
            AtomicFile.Write(Path.Combine(_dir, "99-x.conf"), "net.ipv4.ip_forward = 1\n", AtomicFile.Public, keepBackup: true);
            AtomicFile.Write(Path.Combine(_dir, "99-x.conf"), "net.ipv4.ip_forward = 0\n", AtomicFile.Public, keepBackup: true);
            Assert.True(seen.Count >= 6, "every write went through the hook: " + seen.Count);
            foreach (var (p, m) in seen)
            {
                bool isPublic = Path.GetFileName(p).StartsWith(".99-x.conf", StringComparison.Ordinal);
                Assert.True(m == (isPublic ? AtomicFile.Public : AtomicFile.Private), $"{Path.GetFileName(p)} was created with mode {Convert.ToString(m, 8)}");
            }
            Assert.Equal(AtomicFile.Private, Mode(conf));
            Assert.Equal(AtomicFile.Private, Mode(conf + ".bak"));
            Assert.Equal(AtomicFile.Public, Mode(Path.Combine(_dir, "99-x.conf.bak")));
        }

        [Fact]
        public void ALockFileThatIsASymbolicLinkIsRefusedAndNotFollowed()
        {
            if (!Linux) return;
            var conf = Path.Combine(_dir, "wg0.conf");
            File.WriteAllText(conf, "[Interface]\n");
            var elsewhere = Path.Combine(_dir, "created-by-link");
            File.CreateSymbolicLink(conf + ".lock", elsewhere);
            var ex = Assert.Throws<WgException>(() => WgConfigFile.Write(conf, B("[Interface]\nListenPort = 1\n")));
            Assert.Equal(ErrorIds.UnsafePath, ex.ErrorId);
            Assert.Equal(ErrorCategory.SecurityError, ex.Category);
            Assert.Contains("symbolic link", ex.Message);
            Assert.False(File.Exists(elsewhere), "the dangling link's target must not be created");
            Assert.Equal("[Interface]\n", File.ReadAllText(conf));
        }

        [Fact]
        public void ABackupThatIsASymbolicLinkIsReplacedNotWrittenThrough()
        {
            if (!Linux) return;
            var sysctl = Path.Combine(_dir, "99-wgtroubleshoot.conf");
            File.WriteAllText(sysctl, "net.ipv4.ip_forward = 0\n");
            var victim = Path.Combine(_dir, "victim");
            File.WriteAllText(victim, "precious\n");
            File.CreateSymbolicLink(sysctl + ".bak", victim);
            AtomicFile.Write(sysctl, "net.ipv4.ip_forward = 1\n", AtomicFile.Public, keepBackup: true);
            Assert.Equal("precious\n", File.ReadAllText(victim));
            Assert.Null(new FileInfo(sysctl + ".bak").LinkTarget);
            Assert.Equal("net.ipv4.ip_forward = 0\n", File.ReadAllText(sysctl + ".bak"));
            Assert.Equal("net.ipv4.ip_forward = 1\n", File.ReadAllText(sysctl));
            Assert.Contains(_warnings, w => w.Contains("symbolic link") && w.Contains(".bak"));
        }

        [Fact]
        public void ASymlinkedConfigIsWrittenThroughToItsTargetWithAWarning()
        {
            if (!Linux) return;
            var realDir = Path.Combine(_dir, "real");
            Directory.CreateDirectory(realDir);
            var real = Path.Combine(realDir, "wg0.conf");
            File.WriteAllText(real, "[Interface]\nListenPort = 1\n");
            var link = Path.Combine(_dir, "wg0.conf");
            File.CreateSymbolicLink(link, "real/wg0.conf");
            WgConfigFile.Write(link, B("[Interface]\nListenPort = 2\n"));
            Assert.Equal("real/wg0.conf", new FileInfo(link).LinkTarget);
            Assert.Equal("[Interface]\nListenPort = 2\n", File.ReadAllText(real));
            Assert.Equal("[Interface]\nListenPort = 1\n", File.ReadAllText(real + ".bak"));
            Assert.Equal(AtomicFile.Private, Mode(real));
            Assert.Contains(_warnings, w => w.Contains("symbolic link") && w.Contains(real));
        }

        [Fact]
        public void AWorldWritableDirectoryIsWarnedAbout()
        {
            if (!Linux) return;
            var open = Path.Combine(_dir, "open");
            Directory.CreateDirectory(open);
            File.SetUnixFileMode(open, (UnixFileMode)0x1FF); // 0777, no sticky bit
            WgConfigFile.Write(Path.Combine(open, "wg0.conf"), B("[Interface]\n"));
            Assert.Contains(_warnings, w => w.Contains("writable by everyone") && w.Contains(open));
            _warnings.Clear();
            File.SetUnixFileMode(open, (UnixFileMode)0x1C0); // 0700
            WgConfigFile.Write(Path.Combine(open, "wg0.conf"), B("[Interface]\nListenPort = 1\n"));
            Assert.DoesNotContain(_warnings, w => w.Contains("writable"));
        }

        [Fact]
        public void TemporaryFilesOfAKilledWriterAreRemovedByTheNextWriter()
        {
            if (!Linux) return;
            var conf = Path.Combine(_dir, "wg0.conf");
            File.WriteAllText(conf, "[Interface]\n");
            var stale = Path.Combine(_dir, ".wg0.conf.0123456789ab.tmp");
            File.WriteAllText(stale, "[Interface]\nPrivateKey = secret\n");
            var otherTarget = Path.Combine(_dir, ".wg1.conf.0123456789ab.tmp");
            File.WriteAllText(otherTarget, "x");
            var notOurs = Path.Combine(_dir, ".wg0.conf.backup.tmp");
            File.WriteAllText(notOurs, "x");
            var linkTarget = Path.Combine(_dir, "keep-me");
            File.WriteAllText(linkTarget, "x");
            var link = Path.Combine(_dir, ".wg0.conf.ffffffffffff.tmp");
            File.CreateSymbolicLink(link, linkTarget);

            WgConfigFile.Write(conf, B("[Interface]\nListenPort = 3\n"));

            Assert.False(File.Exists(stale), "the stale temporary file (with a key) must be gone");
            Assert.True(File.Exists(otherTarget));
            Assert.True(File.Exists(notOurs));
            Assert.NotNull(new FileInfo(link).LinkTarget);
            Assert.True(File.Exists(linkTarget));
            Assert.Equal(new[] { ".wg0.conf.backup.tmp", ".wg0.conf.ffffffffffff.tmp", ".wg1.conf.0123456789ab.tmp", "keep-me", "wg0.conf", "wg0.conf.bak", "wg0.conf.lock" },
                Directory.GetFileSystemEntries(_dir).Select(Path.GetFileName).OrderBy(n => n, StringComparer.Ordinal).ToArray());
        }

        [Fact]
        public void AWriterWithoutTheLockLeavesYoungTemporaryFilesAlone()
        {
            if (!Linux) return;
            var report = Path.Combine(_dir, "report.yaml");
            var young = Path.Combine(_dir, ".report.yaml.0123456789ab.tmp");
            var old = Path.Combine(_dir, ".report.yaml.0123456789ac.tmp");
            File.WriteAllText(young, "x");
            File.WriteAllText(old, "x");
            File.SetLastWriteTimeUtc(old, DateTime.UtcNow.AddHours(-1));
            AtomicFile.Write(report, "a: 1\n", AtomicFile.Private, keepBackup: false);
            Assert.True(File.Exists(young), "another writer may still be writing it");
            Assert.False(File.Exists(old));
        }
    }
}
