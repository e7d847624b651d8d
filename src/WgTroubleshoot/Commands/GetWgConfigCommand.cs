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

        /// <summary>
        /// Interface names (wg0 means /etc/wireguard/wg0.conf). Without it, every *.conf file of the
        /// configuration directory is read.
        /// </summary>
        [Parameter(ParameterSetName = InterfaceSet, Position = 0, ValueFromPipelineByPropertyName = true)]
        [Alias("Name")]
        [ValidateNotNullOrEmpty]
        public string[] Interface { get; set; }

        /// <summary>Paths of configuration files; wildcards are allowed, and Get-ChildItem output pipes in.</summary>
        [Parameter(ParameterSetName = PathSet, Mandatory = true, ValueFromPipelineByPropertyName = true)]
        [Alias("FullName", "PSPath")]
        [ValidateNotNullOrEmpty]
        public string[] Path { get; set; }

        /// <summary>
        /// A file from Get-ChildItem. Binding the object by value keeps PowerShell from binding its Name
        /// property to -Interface (alias Name) instead of its path to -Path.
        /// </summary>
        [Parameter(ParameterSetName = PathSet, ValueFromPipeline = true, DontShow = true)]
        public System.IO.FileSystemInfo InputObject { get; set; }

        /// <summary>Reads the files named by this pipeline input.</summary>
        protected override void ProcessRecord()
        {
            if (ParameterSetName == PathSet)
            {
                if (InputObject != null && Path == null)
                {
                    Emit(InputObject.FullName);
                    return;
                }
                foreach (var p in Path)
                    foreach (var file in ResolvePath(p))
                        Emit(file);
                return;
            }
            if (Interface == null)
            {
                try
                {
                    foreach (var file in WgConfigLocation.EnumerateConfigFiles(WriteWarning)) Emit(file);
                }
                catch (WgException ex)
                {
                    WriteError(ex.ToErrorRecord());
                }
                return;
            }
            foreach (var name in Interface)
            {
                try
                {
                    Emit(WgConfigLocation.PathForInterface(name));
                }
                catch (WgException ex)
                {
                    WriteError(ex.ToErrorRecord());
                }
            }
        }

        private string[] ResolvePath(string path)
        {
            try
            {
                var resolved = GetResolvedProviderPathFromPSPath(path, out var provider);
                if (provider.Name == "FileSystem") return resolved.ToArray();
                WriteError(new WgException(ErrorIds.ConfigNotFound, ErrorCategory.InvalidArgument,
                    $"'{path}' is not a file system path.", path).ToErrorRecord());
            }
            catch (ItemNotFoundException ex)
            {
                WriteError(new WgException(ErrorIds.ConfigNotFound, ErrorCategory.ObjectNotFound,
                    $"The configuration file '{path}' does not exist.", path, ex).ToErrorRecord());
            }
            catch (ProviderNotFoundException ex)
            {
                WriteError(new WgException(ErrorIds.ConfigNotFound, ErrorCategory.ObjectNotFound, ex.Message, path, ex).ToErrorRecord());
            }
            return new string[0];
        }

        private void Emit(string file)
        {
            WriteVerbose($"Reading '{file}'.");
            try
            {
                WriteObject(WgConfigParser.ParseFile(file));
            }
            catch (WgException ex)
            {
                WriteError(ex.ToErrorRecord());
            }
        }
    }
}
