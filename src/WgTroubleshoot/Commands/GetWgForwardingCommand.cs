using System.Collections.Generic;
using System.Management.Automation;
using WgTroubleshoot.Forwarding;
using WgTroubleshoot.State;

namespace WgTroubleshoot.Commands
{
    /// <summary>
    /// <para type="synopsis">Tells whether this host forwards and masquerades traffic from a WireGuard tunnel, and why not.</para>
    /// </summary>
    [Cmdlet(VerbsCommon.Get, "WgForwarding")]
    [OutputType(typeof(ForwardingStatus))]
    public sealed class GetWgForwardingCommand : WgCmdlet
    {
        /// <summary>The WireGuard interface whose traffic is checked; every interface when omitted.</summary>
        [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
        [Alias("Name")]
        [ArgumentCompleter(typeof(InterfaceNameCompleter))]
        [ValidateNotNullOrEmpty]
        public string Interface { get; set; }

        protected override void ProcessRecord()
        {
            try
            {
                var reader = new WgStateReader(Runner);
                var devices = reader.Read(Interface == null ? null : new[] { Interface }, Fail);
                reader.AddLinkDetails(devices);
                var fw = new ForwardingReader(Runner);
                if (devices.Count == 0 && Interface == null)
                {
                    WriteObject(ForwardingEvaluator.Evaluate(fw.Read(null, new List<string>())));
                    return;
                }
                foreach (var d in devices)
                    WriteObject(ForwardingEvaluator.Evaluate(fw.Read(d.Interface.Name, d.Interface.Addresses)));
            }
            catch (WgException ex)
            {
                Fail(ex);
            }
        }
    }
}
