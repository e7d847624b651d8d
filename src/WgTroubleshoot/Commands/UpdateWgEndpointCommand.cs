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
                    var record = Apply(s);
                    if (record != null && PassThru) WriteObject(record);
                }
            }
            catch (WgException ex)
            {
                Fail(ex);
            }
        }

        private ChangeRecord Apply(EndpointStatus s)
        {
            var target = $"{s.Interface} peer {s.Name ?? s.Peer}";
            const string action = "Re-resolve endpoint";
            if (!EndpointChecker.ShouldUpdate(s, Force))
            {
                var why = s.Status == nameof(EndpointState.Drifted)
                    ? $"drifted, but the latest handshake is {Format.Age(s.HandshakeAge)} (within 135 s): left alone; use -Force to update anyway"
                    : $"{s.Status}: {s.Reason}";
                WriteVerbose($"{target}: {why}");
                return ChangeTransaction.Unchanged(target, action, $"endpoint {s.LiveEndpoint ?? "(none)"}; {why}");
            }
            var set = new NativeCommand(WgStateReader.WgTool, "set", s.Interface, "peer", s.Peer, "endpoint", s.RecommendedEndpoint);
            if (!ShouldProcess(set.CommandLine, $"Point {target} at {s.RecommendedEndpoint} ('{s.Host}' resolves there now; it sends to {s.LiveEndpoint ?? "(none)"})"))
                return null;
            Privilege.Demand("Updating a WireGuard endpoint");
            var tx = new ChangeTransaction(Runner, action);
            var undo = s.LiveEndpoint == null ? new NativeCommand[0]
                : new[] { new NativeCommand(WgStateReader.WgTool, "set", s.Interface, "peer", s.Peer, "endpoint", s.LiveEndpoint) };
            tx.Apply(set, undo);
            return tx.ToRecord(target, action, $"endpoint {s.LiveEndpoint ?? "(none)"}", $"endpoint {s.RecommendedEndpoint} ('{s.Host}')");
        }
    }
}
