using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using WgTroubleshoot.Firewall;

namespace WgTroubleshoot.Commands
{
    /// <summary>
    /// <para type="synopsis">Shows whether the host firewall lets WireGuard's UDP port in, and which rule decides.</para>
    /// <para type="description">Reads every firewall backend that is present and active (nftables, iptables and
    /// ip6tables in legacy and nf_tables flavours, ufw, firewalld), walks its rules in order the way the kernel
    /// does, and returns one WgTroubleshoot.FirewallStatus per backend. Windows Firewall is not inspected yet.</para>
    /// </summary>
    [Cmdlet(VerbsCommon.Get, "WgFirewallStatus", DefaultParameterSetName = "Interface")]
    [OutputType(typeof(FirewallStatus))]
    public sealed class GetWgFirewallStatusCommand : WgCmdlet
    {
        private List<BackendSnapshot> _snapshots;

        /// <summary>The WireGuard interface whose ListenPort is checked (live state, else its configuration file).</summary>
        [Parameter(Position = 0, ParameterSetName = "Interface", ValueFromPipelineByPropertyName = true)]
        [ArgumentCompleter(typeof(InterfaceNameCompleter))]
        [ValidateNotNullOrEmpty]
        public string Interface { get; set; }

        /// <summary>The UDP port to check, when there is no interface to read it from.</summary>
        [Parameter(Mandatory = true, ParameterSetName = "Port")]
        [ValidateRange(1, 65535)]
        public int Port { get; set; }

        protected override void ProcessRecord()
        {
            try
            {
                var targets = new FirewallTargets(Runner);
                var queries = targets.Resolve(Interface, ParameterSetName == "Port" ? Port : (int?)null);
                if (_snapshots == null) _snapshots = new FirewallInspector(Runner).ReadAll(queries[0].Underlay);
                foreach (var q in queries)
                    foreach (var st in FirewallStatusBuilder.Build(_snapshots, q))
                        WriteObject(st);
            }
            catch (WgException ex)
            {
                Fail(ex);
            }
        }
    }
}
