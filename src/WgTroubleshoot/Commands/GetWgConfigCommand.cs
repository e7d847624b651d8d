using System;
using System.Linq;
using System.Management.Automation;
using WgTroubleshoot.Config;

namespace WgTroubleshoot.Commands
{
    /// <summary>
    /// <para type="synopsis">Reads WireGuard configuration files as objects.</para>
    /// <para type="description">Parses wg-quick configuration files with the rules of wg and wg-quick and returns
    /// one WgConfig per file, with its peers. Keys that wg would reject and malformed values are reported as
    /// errors naming the file and line. Private and preshared keys are never output.</para>
    /// </summary>
    [Cmdlet(VerbsCommon.Get, "WgConfig", DefaultParameterSetName = InterfaceSet)]
    [OutputType(typeof(WgConfig))]
    public sealed class GetWgConfigCommand : PSCmdlet
    {
        private const string InterfaceSet = "Interface";
        private const string PathSet = "Path";
        private const string LiteralPathSet = "LiteralPath";

        /// <summary>
        /// Interface names (wg0 means /etc/wireguard/wg0.conf). Without it, every *.conf file of the
        /// configuration directory is read.
        /// </summary>
        /// (No Name alias: a file piped from Get-ChildItem would bind its Name here instead of its path to -Path.)
        [Parameter(ParameterSetName = InterfaceSet, Position = 0, ValueFromPipelineByPropertyName = true)]
        [ArgumentCompleter(typeof(InterfaceNameCompleter))]
        [ValidateNotNullOrEmpty]
        public string[] Interface { get; set; }

        /// <summary>Paths of configuration files, taken literally (no wildcards).</summary>
        [Parameter(ParameterSetName = PathSet, Mandatory = true, ValueFromPipelineByPropertyName = true)]
        [ValidateNotNullOrEmpty]
        public string[] Path { get; set; }

        /// <summary>Paths of configuration files, never expanded as wildcards; Get-Item and Get-ChildItem output pipes in (PSPath).</summary>
        [Parameter(ParameterSetName = LiteralPathSet, Mandatory = true, ValueFromPipelineByPropertyName = true)]
        [Alias("PSPath", "LP", "FullName")]
        [ValidateNotNullOrEmpty]
        public string[] LiteralPath { get; set; }

        /// <summary>The wireguard-tools version whose wg-quick rules to read by (hooks and '#'); default: the installed one.</summary>
        [Parameter]
        public Version ToolsVersion { get; set; }

        /// <summary>Reads the files named by this pipeline input.</summary>
        protected override void ProcessRecord()
        {
            var paths = ParameterSetName == PathSet ? Path : ParameterSetName == LiteralPathSet ? LiteralPath : null;
            // -Path is documented as literal too (no wildcards): both resolve literally.
            foreach (var file in ConfigFileResolver.Resolve(this, paths, Interface, literal: true))
                Emit(file);
        }

        private void Emit(string file)
        {
            WgCmdlet.VerboseOrDebug(this, $"Reading '{file}'.");
            try
            {
                WriteObject(WgConfigParser.ParseFile(file, new WgParseOptions { ToolsVersion = ToolsVersion }));
            }
            catch (WgException ex)
            {
                WriteError(ex.ToErrorRecord());
            }
        }
    }
}
