using System.Management.Automation;
using WgTroubleshoot.Changes;
using WgTroubleshoot.Diagnosis;
using WgTroubleshoot.State;

namespace WgTroubleshoot.Commands
{
    /// <summary>
    /// <para type="synopsis">Re-applies the current address of drifted dynamic-DNS endpoints, as reresolve-dns.sh does.</para>
    /// </summary>
    [Cmdlet(VerbsData.Update, "WgEndpoint", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
    [OutputType(typeof(ChangeRecord))]
    public sealed class UpdateWgEndpointCommand : WgCmdlet
    {
        /// <summary>Interface names (wildcards allowed); all interfaces when omitted.</summary>
        [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
        [ArgumentCompleter(typeof(InterfaceNameCompleter))]
        [ValidateNotNullOrEmpty]
        public string[] Interface { get; set; }

        /// <summary>Only the peers with these public keys.</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string[] PublicKey { get; set; }

        /// <summary>Update drifted peers even when their handshake is recent (newer than 135 s).</summary>
        [Parameter]
        public SwitchParameter Force { get; set; }

        /// <summary>Return a change record for every peer looked at.</summary>
        [Parameter]
        public SwitchParameter PassThru { get; set; }

        protected override void ProcessRecord()
        {
            try
            {
                foreach (var s in EndpointReview.Run(this, Runner, Interface, PublicKey))
                {
                    // Each peer is its own change: one that fails does not undo the others.
                    var record = Remedies.EndpointRemedy.Apply(RemedyContext(), s, Force);
                    if (record != null && PassThru) WriteObject(record);
                }
            }
            catch (WgException ex)
            {
                Fail(ex);
            }
        }

    }
}
