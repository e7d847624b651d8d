using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Management.Automation;
using System.Threading;
using WgTroubleshoot.Diagnosis;

namespace WgTroubleshoot.Commands
{
    /// <summary>
    /// <para type="synopsis">Finds out why a WireGuard tunnel does not work: one command, findings with evidence and the exact fix.</para>
    /// </summary>
    [Cmdlet(VerbsLifecycle.Invoke, "WgDiagnosis")]
    [OutputType(typeof(Finding))]
    public sealed partial class InvokeWgDiagnosisCommand : WgCmdlet
    {
        private readonly CancellationTokenSource _stop = new CancellationTokenSource();
        private readonly List<string> _interfaces = new List<string>();
        private bool _all;

        /// <summary>Interface names (wildcards allowed); all interfaces when omitted.</summary>
        [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
        [ArgumentCompleter(typeof(InterfaceNameCompleter))]
        [ValidateNotNullOrEmpty]
        public string[] Interface { get; set; }

        /// <summary>The other end's configuration file, to check keys, preshared keys, ports and AllowedIPs of both ends.</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string PeerConfigPath { get; set; }

        /// <summary>Adds the path-MTU probe and longer captures (takes longer).</summary>
        [Parameter]
        public SwitchParameter Deep { get; set; }

        protected override void ProcessRecord()
        {
            if (Interface == null) _all = true;
            else _interfaces.AddRange(Interface);
        }

        protected override void EndProcessing()
        {
            string peerPath = null;
            if (PeerConfigPath != null)
            {
                peerPath = GetUnresolvedProviderPathFromPSPath(PeerConfigPath);
                if (!File.Exists(peerPath))
                {
                    ThrowTerminatingError(new WgException(ErrorIds.ConfigNotFound, ErrorCategory.ObjectNotFound,
                        $"The other side's configuration '{PeerConfigPath}' does not exist.", PeerConfigPath).ToErrorRecord());
                }
            }
            var progress = new ProgressRecord(2, "Invoke-WgDiagnosis", "Starting");
            var options = new DiagnosisOptions
            {
                Interfaces = _all ? null : _interfaces.Distinct().ToArray(),
                PeerConfigPath = peerPath,
                Deep = Deep,
            };
            try
            {
                // both ends at once (Remoting/InvokeWgDiagnosisCommand.Peer.cs): their findings come first
                if (PeerRequested) WritePeerFindings();
                var engine = new DiagnosisEngine(Runner, WriteVerbose, (what, pct) =>
                {
                    progress.StatusDescription = what;
                    progress.PercentComplete = Math.Max(0, Math.Min(100, pct));
                    WriteProgress(progress);
                }, _stop.Token);
                var findings = engine.Run(options, WriteWgError);
                progress.RecordType = ProgressRecordType.Completed;
                WriteProgress(progress);
                foreach (var f in findings) WriteObject(f);
            }
            catch (WgException ex)
            {
                Fail(ex);
            }
        }

        protected override void StopProcessing() => _stop.Cancel();
    }
}
