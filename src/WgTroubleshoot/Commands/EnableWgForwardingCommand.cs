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
                var sysctl = new SysctlSettings();
                var repair = new ForwardingRepair(Runner, sysctl);
                var steps = new List<RepairStep>(repair.PlanSysctl(Enable, IPv6));
                if (Nat) steps.AddRange(PlanNat(repair));
                Execute((Enable ? "Enabling" : "Disabling") + " forwarding", steps);
            }
            catch (WgException ex)
            {
                ThrowTerminatingError(ex.ToErrorRecord());
            }
        }

        private IEnumerable<RepairStep> PlanNat(ForwardingRepair repair)
        {
            var reader = new WgStateReader(Runner);
            var devices = reader.Read(Interface == null ? null : new[] { Interface }, ex => throw ex);
            if (devices.Count != 1)
                throw new WgException(ErrorIds.InvalidArgument, ErrorCategory.InvalidArgument,
                    devices.Count == 0 ? "No WireGuard interface exists here to masquerade for." : "Several WireGuard interfaces exist: name one with -Interface.", Interface);
            reader.AddLinkDetails(devices);
            var iface = devices[0].Interface;
            var subnets = iface.Addresses.Select(NatForwardRules.NetworkOf)
                .Where(n => n != null && !n.StartsWith("fe80:", System.StringComparison.OrdinalIgnoreCase) && (IPv6 || n.IndexOf(':') < 0))
                .Distinct().ToList();
            if (subnets.Count == 0)
                throw new WgException(ErrorIds.InvalidArgument, ErrorCategory.InvalidData, $"{iface.Name} has no addresses: there is no tunnel subnet to masquerade.", iface.Name);
            var uplink = OutInterface ?? new ForwardingReader(Runner).DefaultRouteDevice(false);
            if (uplink == null)
                throw new WgException(ErrorIds.NoRoute, ErrorCategory.ObjectNotFound, "There is no IPv4 default route to find the uplink from: name it with -OutInterface.", iface.Name);
            InterfaceName.Validate(uplink, OutInterface != null ? "-OutInterface" : "uplink");
            if (!IpInfo.LinkExists(uplink))
                throw new WgException(ErrorIds.InvalidArgument, ErrorCategory.ObjectNotFound, $"The uplink '{uplink}' does not exist.", uplink);
            WriteVerbose($"Masquerading {string.Join(", ", subnets)} from {iface.Name} out of {uplink}.");
            var rules = repair.Rules(iface.Name, subnets, uplink);
            var steps = new List<RepairStep> { repair.PlanNatLive(iface.Name, subnets, uplink, Enable) };
            var cfg = WgTroubleshoot.Config.WgConfigLocation.PathForInterface(iface.Name);
            if (File.Exists(cfg)) steps.Add(repair.PlanNatConfig(cfg, rules, Enable));
            else WriteWarning($"{cfg} does not exist: the NAT rules are applied now but will not come back when the tunnel is restarted.");
            return steps;
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
