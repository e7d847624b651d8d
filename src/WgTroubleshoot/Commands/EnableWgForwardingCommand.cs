using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Management.Automation;
using WgTroubleshoot.Firewall;
using WgTroubleshoot.Forwarding;
using WgTroubleshoot.Native;
using WgTroubleshoot.State;

namespace WgTroubleshoot.Commands
{
    /// <summary>Shared by Enable- and Disable-WgForwarding.</summary>
    public abstract class ForwardingChangeCmdlet : WgChangeCmdlet
    {
        /// <summary>The WireGuard interface whose traffic is forwarded (needed with -Nat; the only one when omitted).</summary>
        [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
        [Alias("Name")]
        [ArgumentCompleter(typeof(InterfaceNameCompleter))]
        [ValidateNotNullOrEmpty]
        public string Interface { get; set; }

        /// <summary>Also net.ipv6.conf.all.forwarding (and IPv6 masquerade with -Nat).</summary>
        [Parameter]
        public SwitchParameter IPv6 { get; set; }

        /// <summary>Also masquerade the tunnel's subnet out of the uplink, now and as PostUp/PostDown lines of the interface's configuration.</summary>
        [Parameter]
        public SwitchParameter Nat { get; set; }

        /// <summary>The uplink to masquerade out of; default: the interface of the default route.</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string OutInterface { get; set; }

        protected abstract bool Enable { get; }

        protected override void ProcessRecord()
        {
            try
            {
                // names are validated before anything is read, planned or run
                if (OutInterface != null) InterfaceName.Validate(OutInterface, "-OutInterface");
                if (Interface != null) InterfaceName.Validate(Interface, "-Interface");
                Output(Remedies.ForwardingRemedy.Set(RemedyContext(), Enable, Interface, IPv6, Nat, OutInterface));
            }
            catch (WgException ex)
            {
                ThrowTerminatingError(ex.ToErrorRecord());
            }
        }
    }

    /// <summary>
    /// <para type="synopsis">Turns on IP forwarding (now and after reboots) and, with -Nat, masquerading of the tunnel's traffic out of the uplink.</para>
    /// </summary>
    [Cmdlet(VerbsLifecycle.Enable, "WgForwarding", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
    [OutputType(typeof(ChangeRecord))]
    public sealed class EnableWgForwardingCommand : ForwardingChangeCmdlet
    {
        protected override bool Enable => true;
    }

    /// <summary>
    /// <para type="synopsis">Turns IP forwarding off (now and after reboots) and, with -Nat, removes the masquerading Enable-WgForwarding added.</para>
    /// </summary>
    [Cmdlet(VerbsLifecycle.Disable, "WgForwarding", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High)]
    [OutputType(typeof(ChangeRecord))]
    public sealed class DisableWgForwardingCommand : ForwardingChangeCmdlet
    {
        protected override bool Enable => false;
    }
}
