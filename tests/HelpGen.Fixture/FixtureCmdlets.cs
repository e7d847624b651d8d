using System.Management.Automation;

// Signatures only: these mirror the module's planned cmdlets so that docs/ can be checked against them.
namespace WgTroubleshoot
{
    public sealed class WgInterface { public string Name { get; set; } }
    public sealed class WgPeer { public string Interface { get; set; } public string PublicKey { get; set; } }
    public sealed class WgConfig { public string Interface { get; set; } public string Path { get; set; } }
    public sealed class FirewallStatus { public string Backend { get; set; } }
    public sealed class ChangeRecord { public string Target { get; set; } }
    public sealed class PathMtuResult { public string Interface { get; set; } }
    public sealed class ForwardingStatus { public string Interface { get; set; } }
}

namespace WgTroubleshoot.Commands
{
    public enum MtuScope { Live, Config, Both }
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
        [Alias("FullName", "PSPath")]
        public string[] Path { get; set; }
    }

    [Cmdlet(VerbsCommon.Get, "WgFirewallStatus", DefaultParameterSetName = "Interface")]
    [OutputType(typeof(FirewallStatus))]
    public sealed class GetWgFirewallStatusCommand : PSCmdlet
    {
        [Parameter(Position = 0, ParameterSetName = "Interface", ValueFromPipelineByPropertyName = true)]
        public string Interface { get; set; }

        [Parameter(Mandatory = true, ParameterSetName = "Port")]
        public int Port { get; set; }
    }

    [Cmdlet(VerbsCommon.Add, "WgFirewallRule", DefaultParameterSetName = "Interface", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
    [OutputType(typeof(ChangeRecord))]
    public sealed class AddWgFirewallRuleCommand : PSCmdlet
    {
        [Parameter(Position = 0, ParameterSetName = "Interface", ValueFromPipelineByPropertyName = true)]
        public string Interface { get; set; }

        [Parameter(Mandatory = true, ParameterSetName = "Port")]
        public int Port { get; set; }

        [Parameter]
        public string Backend { get; set; }

        [Parameter]
        public SwitchParameter PassThru { get; set; }
    }

    [Cmdlet(VerbsDiagnostic.Measure, "WgPathMtu", DefaultParameterSetName = "Peer")]
    [OutputType(typeof(PathMtuResult))]
    public sealed class MeasureWgPathMtuCommand : PSCmdlet
    {
        [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
        [Alias("Name")]
        public string Interface { get; set; }

        [Parameter(ParameterSetName = "Peer", ValueFromPipelineByPropertyName = true)]
        [Alias("PublicKey")]
        public string Peer { get; set; }

        [Parameter(ParameterSetName = "Destination", Mandatory = true)]
        public string Destination { get; set; }

        [Parameter]
        public string TunnelTarget { get; set; }

        [Parameter]
        public int Tries { get; set; } = 3;

        [Parameter]
        public int TimeoutSeconds { get; set; } = 60;
    }

    [Cmdlet(VerbsCommon.Set, "WgMtu", SupportsShouldProcess = true, DefaultParameterSetName = "Value", ConfirmImpact = ConfirmImpact.Medium)]
    [OutputType(typeof(ChangeRecord))]
    public sealed class SetWgMtuCommand : PSCmdlet
    {
        [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
        [Alias("Name")]
        public string Interface { get; set; }

        [Parameter(Mandatory = true, ParameterSetName = "Value", Position = 1)]
        public int Mtu { get; set; }

        [Parameter(Mandatory = true, ParameterSetName = "Auto")]
        public SwitchParameter Auto { get; set; }

        [Parameter]
        public WgTroubleshoot.Commands.MtuScope Scope { get; set; } = WgTroubleshoot.Commands.MtuScope.Both;

        [Parameter]
        public SwitchParameter PassThru { get; set; }
    }

    [Cmdlet(VerbsCommon.Get, "WgForwarding")]
    [OutputType(typeof(ForwardingStatus))]
    public sealed class GetWgForwardingCommand : PSCmdlet
    {
        [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
        [Alias("Name")]
        public string Interface { get; set; }
    }

    public abstract class ForwardingFixtureBase : PSCmdlet
    {
        [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
        [Alias("Name")]
        public string Interface { get; set; }

        [Parameter]
        public SwitchParameter IPv6 { get; set; }

        [Parameter]
        public SwitchParameter Nat { get; set; }

        [Parameter]
        public string OutInterface { get; set; }

        [Parameter]
        public SwitchParameter PassThru { get; set; }
    }

    [Cmdlet(VerbsLifecycle.Enable, "WgForwarding", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
    [OutputType(typeof(ChangeRecord))]
    public sealed class EnableWgForwardingCommand : ForwardingFixtureBase { }

    [Cmdlet(VerbsLifecycle.Disable, "WgForwarding", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High)]
    [OutputType(typeof(ChangeRecord))]
    public sealed class DisableWgForwardingCommand : ForwardingFixtureBase { }

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
