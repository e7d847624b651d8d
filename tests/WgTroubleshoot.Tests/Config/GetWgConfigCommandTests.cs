using System;
using System.IO;
using System.Linq;
using System.Management.Automation;
using System.Management.Automation.Runspaces;
using WgTroubleshoot.Commands;
using WgTroubleshoot.Config;
using Xunit;

namespace WgTroubleshoot.Tests.Config
{
    /// <summary>Get-WgConfig in an in-process runspace, against a configuration directory of its own.</summary>
    [Collection(nameof(ConfigDirectoryCollection))]
    public class GetWgConfigCommandTests : IDisposable
    {
        private readonly string _dir = Corpus.TempDirectory();

        public GetWgConfigCommandTests()
        {
            foreach (var name in new[] { "basic.conf", "crlf.conf", "unknown-key.conf" })
                File.Copy(Corpus.PathOf(name), Path.Combine(_dir, name));
            File.WriteAllText(Path.Combine(_dir, "basic.conf.bak"), "not a config");
            WgConfigLocation.ConfigDirectory = _dir;
        }

        public void Dispose()
        {
            WgConfigLocation.ConfigDirectory = null;
            Directory.Delete(_dir, true);
        }

        private static (PSObject[] output, ErrorRecord[] errors) Run(string script)
        {
            var iss = InitialSessionState.CreateDefault2();
            iss.Commands.Add(new SessionStateCmdletEntry("Get-WgConfig", typeof(GetWgConfigCommand), null));
            using var ps = PowerShell.Create(iss);
            ps.AddScript(script);
            var output = ps.Invoke().ToArray();
            return (output, ps.Streams.Error.ToArray());
        }

        [Fact]
        public void InterfaceNameReadsTheFileInTheConfigDirectory()
        {
            var (output, errors) = Run("Get-WgConfig basic");
            Assert.Empty(errors);
            var config = Assert.IsType<WgConfig>(Assert.Single(output).BaseObject);
            Assert.Equal("basic", config.Interface);
            Assert.Equal(Path.Combine(_dir, "basic.conf"), config.Path);
        }

        [Fact]
        public void WithoutArgumentsEveryConfFileIsReadAndBadOnesAreNonTerminatingErrors()
        {
            var (output, errors) = Run("Get-WgConfig");
            Assert.Equal(new[] { "basic", "crlf" }, output.Select(o => ((WgConfig)o.BaseObject).Interface));
            var error = Assert.Single(errors);
            Assert.Equal(ErrorIds.ConfigParseError, error.FullyQualifiedErrorId.Split(',')[0]);
            Assert.Equal(ErrorCategory.InvalidData, error.CategoryInfo.Category);
            Assert.Contains("unknown-key.conf, line 10", error.Exception.Message);
        }

        [Fact]
        public void InvalidNameAndMissingFileAreClearErrors()
        {
            var (output, errors) = Run("Get-WgConfig 'bad name!', missing, crlf");
            Assert.Single(output);
            Assert.Equal(2, errors.Length);
            Assert.StartsWith(ErrorIds.InvalidInterfaceName, errors[0].FullyQualifiedErrorId);
            Assert.Equal(ErrorCategory.InvalidArgument, errors[0].CategoryInfo.Category);
            Assert.StartsWith(ErrorIds.ConfigNotFound, errors[1].FullyQualifiedErrorId);
            Assert.Equal(ErrorCategory.ObjectNotFound, errors[1].CategoryInfo.Category);
        }

        [Fact]
        public void LiteralPathTakesFileObjectsFromThePipelineAndPathIsNotAWildcard()
        {
            // Get-ChildItem is not in the in-process test host: pipe what it emits, a FileInfo (FullName) and PSPath.
            var (output, errors) = Run($"[System.IO.FileInfo]'{_dir}/crlf.conf' | Get-WgConfig; " +
                $"[pscustomobject]@{{ PSPath = 'Microsoft.PowerShell.Core\\FileSystem::{_dir}/crlf.conf' }} | Get-WgConfig; Get-WgConfig -Path '{_dir}/b*.conf'");
            Assert.Equal(new[] { "crlf", "crlf" }, output.Select(o => ((WgConfig)o.BaseObject).Interface));
            // The help says -Path takes no wildcards: b*.conf is a file name that does not exist.
            Assert.StartsWith(ErrorIds.ConfigNotFound, Assert.Single(errors).FullyQualifiedErrorId);
        }

        [Fact]
        public void BracketsInAFileNameAreReadLiterallyAndADirectoryIsNotPermission()
        {
            var bracket = System.IO.Path.Combine(_dir, "a[b].conf");
            System.IO.File.Copy(System.IO.Path.Combine(_dir, "crlf.conf"), bracket, true);
            var sub = System.IO.Path.Combine(_dir, "sub.conf");
            System.IO.Directory.CreateDirectory(sub);
            try
            {
                var (output, errors) = Run($"Get-WgConfig -LiteralPath '{bracket}'; Get-WgConfig -Path '{bracket}'; [pscustomobject]@{{ PSPath = '{bracket}' }} | Get-WgConfig");
                Assert.True(errors.Length == 0, string.Join("; ", errors.Select(e => e.ToString())));
                Assert.Equal(new[] { "a[b]", "a[b]", "a[b]" }, output.Select(o => ((WgConfig)o.BaseObject).Interface));
                var (_, dirErrors) = Run($"Get-WgConfig -LiteralPath '{sub}'");
                var e1 = Assert.Single(dirErrors);
                Assert.StartsWith(ErrorIds.ConfigNotFound, e1.FullyQualifiedErrorId);
                Assert.Contains("is a directory", e1.Exception.Message);
                Assert.DoesNotContain("root", e1.Exception.Message);
            }
            finally
            {
                System.IO.File.Delete(bracket);
                System.IO.Directory.Delete(sub);
            }
        }

        [Fact]
        public void MissingPathIsObjectNotFound()
        {
            var (_, errors) = Run($"Get-WgConfig -Path '{_dir}/nothere.conf'");
            Assert.StartsWith(ErrorIds.ConfigNotFound, Assert.Single(errors).FullyQualifiedErrorId);
        }

        [Fact]
        public void InterfacePropertyBindsFromThePipeline()
        {
            var (output, errors) = Run("[pscustomobject]@{ Interface = 'crlf' } | Get-WgConfig");
            Assert.Empty(errors);
            Assert.Equal("crlf", ((WgConfig)Assert.Single(output).BaseObject).Interface);
        }
    }

    [CollectionDefinition(nameof(ConfigDirectoryCollection), DisableParallelization = true)]
    public class ConfigDirectoryCollection { }
}
