using System;
using System.Linq;
using System.Management.Automation;
using WgTroubleshoot.Lint;

namespace WgTroubleshoot.Commands
{
    /// <summary>
    /// <para type="synopsis">Checks WireGuard configuration files for mistakes, with the exact fix for each.</para>
    /// <para type="description">Lints wg-quick configuration files and returns one ConfigFinding per problem, with a
    /// stable Id, Severity, Cause, the file and line, and the line to write or the command to run. A file that
    /// does not parse is a finding, not an error. Private and preshared keys are never output.</para>
    /// </summary>
    [Cmdlet(VerbsDiagnostic.Test, "WgConfig", DefaultParameterSetName = InterfaceSet)]
    [OutputType(typeof(ConfigFinding), typeof(bool))]
    public sealed class TestWgConfigCommand : PSCmdlet
    {
        private const string InterfaceSet = "Interface";
        private const string PathSet = "Path";
        private const string LiteralPathSet = "LiteralPath";
        private readonly ConfigLinter _linter = new ConfigLinter();
        private bool _anyError;

        /// <summary>
        /// Interface names (wg0 means /etc/wireguard/wg0.conf). Without it, every *.conf file of the
        /// configuration directory is checked.
        /// </summary>
        /// (Not bound from the pipeline: Get-WgConfig objects carry both Interface and Path, and with both bindable
        /// the default Interface set wins, so a file outside /etc/wireguard would be swapped for /etc/wireguard/NAME.conf.)
        [Parameter(ParameterSetName = InterfaceSet, Position = 0)]
        [ArgumentCompleter(typeof(InterfaceNameCompleter))]
        [ValidateNotNullOrEmpty]
        public string[] Interface { get; set; }

        /// <summary>Paths of configuration files; wildcards are allowed, and Get-ChildItem and Get-WgConfig output pipe in.</summary>
        [Parameter(ParameterSetName = PathSet, Mandatory = true, ValueFromPipelineByPropertyName = true)]
        [SupportsWildcards]
        [ValidateNotNullOrEmpty]
        public string[] Path { get; set; }

        /// <summary>Paths of configuration files, never expanded as wildcards; Get-Item and Get-ChildItem output pipes in (PSPath).</summary>
        [Parameter(ParameterSetName = LiteralPathSet, Mandatory = true, ValueFromPipelineByPropertyName = true)]
        [Alias("PSPath", "LP", "FullName")]
        [ValidateNotNullOrEmpty]
        public string[] LiteralPath { get; set; }

        /// <summary>The wireguard-tools version whose wg-quick rules to check by (hooks, '#', PreUp); default: the installed one.</summary>
        [Parameter]
        public Version ToolsVersion { get; set; }

        /// <summary>Returns only $true when no finding is an Error, else $false.</summary>
        [Parameter]
        public SwitchParameter Quiet { get; set; }

        /// <summary>Checks the files named by this pipeline input.</summary>
        protected override void ProcessRecord()
        {
            var paths = ParameterSetName == PathSet ? Path : ParameterSetName == LiteralPathSet ? LiteralPath : null;
            foreach (var file in ConfigFileResolver.Resolve(this, paths, Interface, literal: ParameterSetName == LiteralPathSet))
            {
                WgCmdlet.VerboseOrDebug(this, $"Checking '{file}'.");
                LintFile lint;
                try
                {
                    lint = LintFile.Read(file, null, new Config.WgParseOptions { ToolsVersion = ToolsVersion });
                }
                catch (WgException ex)
                {
                    WriteError(ex.ToErrorRecord());
                    continue;
                }
                var findings = _linter.Lint(lint).ToList();
                WgCmdlet.VerboseOrDebug(this, $"'{file}': {findings.Count} finding{(findings.Count == 1 ? "" : "s")}.");
                _anyError |= findings.Any(f => f.Severity == nameof(Severity.Error));
                if (!Quiet) foreach (var f in findings) WriteObject(f);
            }
        }

        /// <summary>With -Quiet, the one Boolean.</summary>
        protected override void EndProcessing()
        {
            if (Quiet) WriteObject(!_anyError);
        }
    }
}
