using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using WgTroubleshoot.Changes;
using WgTroubleshoot.Firewall;

namespace WgTroubleshoot.Commands
{
    /// <summary>
    /// <para type="synopsis">Allows inbound UDP on WireGuard's port in the host firewall.</para>
    /// <para type="description">Adds an accept rule in the active backend (firewalld, else ufw, else every nftables or
    /// iptables backend that blocks the port), or in the one named with -Backend. Does nothing when the port is
    /// already allowed. Every command is shown with -WhatIf; a failure undoes what was already applied.</para>
    /// </summary>
    [Cmdlet(VerbsCommon.Add, "WgFirewallRule", DefaultParameterSetName = "Interface", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
    [OutputType(typeof(ChangeRecord))]
    public sealed class AddWgFirewallRuleCommand : WgCmdlet
    {
        /// <summary>The WireGuard interface whose ListenPort is opened.</summary>
        [Parameter(Position = 0, ParameterSetName = "Interface", ValueFromPipelineByPropertyName = true)]
        [ArgumentCompleter(typeof(InterfaceNameCompleter))]
        [ValidateNotNullOrEmpty]
        public string Interface { get; set; }

        /// <summary>The UDP port to open.</summary>
        [Parameter(Mandatory = true, ParameterSetName = "Port")]
        [ValidateRange(1, 65535)]
        public int Port { get; set; }

        /// <summary>The backend to change instead of the automatic choice.</summary>
        [Parameter]
        [ValidateSet("nftables", "iptables-nft", "iptables-legacy", "ip6tables-nft", "ip6tables-legacy", "ufw", "firewalld")]
        public string Backend { get; set; }

        /// <summary>Returns a WgTroubleshoot.ChangeRecord per backend.</summary>
        [Parameter]
        public SwitchParameter PassThru { get; set; }

        protected override void ProcessRecord()
        {
            try
            {
                Privilege.Demand("Adding a firewall rule");
                var records = Remedies.FirewallRemedy.Allow(RemedyContext(), Interface, ParameterSetName == "Port" ? Port : (int?)null, Backend);
                if (PassThru) foreach (var r in records) WriteObject(r);
            }
            catch (WgException ex)
            {
                Fail(ex);
            }
        }
    }
}
