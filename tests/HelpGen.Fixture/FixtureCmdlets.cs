using System.Management.Automation;

// Signatures only: these mirror the module's planned cmdlets so that docs/ can be checked against them.
namespace WgTroubleshoot
{
    public sealed class WgInterface { public string Name { get; set; } }
    public sealed class WgPeer { public string Interface { get; set; } public string PublicKey { get; set; } }
    public sealed class WgConfig { public string Interface { get; set; } public string Path { get; set; } }
}

namespace WgTroubleshoot.HelpFixture
{
    [Cmdlet(VerbsCommon.Get, "WgInterface")]
    [OutputType(typeof(WgInterface))]
    public sealed class GetWgInterfaceCommand : PSCmdlet
    {
        [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
        [Alias("Interface")]
        public string[] Name { get; set; }
    }

    [Cmdlet(VerbsCommon.Get, "WgPeer")]
    [OutputType(typeof(WgPeer))]
    public sealed class GetWgPeerCommand : PSCmdlet
    {
        [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
        [Alias("Name")]
        public string[] Interface { get; set; }

        [Parameter(ValueFromPipelineByPropertyName = true)]
        public string[] PublicKey { get; set; }
    }

    [Cmdlet(VerbsCommon.Get, "WgConfig", DefaultParameterSetName = "Interface")]
    [OutputType(typeof(WgConfig))]
    public sealed class GetWgConfigCommand : PSCmdlet
    {
        [Parameter(ParameterSetName = "Interface", Position = 0, ValueFromPipelineByPropertyName = true)]
        [Alias("Name")]
        public string[] Interface { get; set; }

        [Parameter(ParameterSetName = "Path", Mandatory = true, ValueFromPipelineByPropertyName = true)]
        public string[] Path { get; set; }

        [Parameter(ParameterSetName = "LiteralPath", Mandatory = true, ValueFromPipelineByPropertyName = true)]
        [Alias("PSPath", "LP", "FullName")]
        public string[] LiteralPath { get; set; }

        [Parameter]
        public System.Version ToolsVersion { get; set; }
    }

    /// <summary>Exercises what the three above do not: ShouldProcess, switches, ByValue, wildcards, defaults.</summary>
    [Cmdlet(VerbsCommon.Set, "WgHelpFixture", SupportsShouldProcess = true, DefaultParameterSetName = "Name")]
    [OutputType(typeof(WgInterface))]
    public sealed class SetWgHelpFixtureCommand : PSCmdlet
    {
        [Parameter(ParameterSetName = "Name", Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
        [SupportsWildcards]
        public string Name { get; set; }

        [Parameter(ParameterSetName = "InputObject", Mandatory = true, ValueFromPipeline = true)]
        public WgInterface InputObject { get; set; }

        [Parameter(Position = 1)]
        [PSDefaultValue(Value = 1420)]
        public int Mtu { get; set; } = 1420;

        [Parameter]
        public SwitchParameter PassThru { get; set; }
    }
}
