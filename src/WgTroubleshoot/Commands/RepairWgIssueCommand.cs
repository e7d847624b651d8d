using System;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using System.Threading;
using WgTroubleshoot.Diagnosis;

namespace WgTroubleshoot.Commands
{
    /// <summary>
    /// <para type="synopsis">Applies the remediation of diagnosis findings, verifies each, and rolls back what does not verify.</para>
    /// </summary>
    [Cmdlet(VerbsDiagnostic.Repair, "WgIssue", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High)]
    [OutputType(typeof(RepairResult))]
    public sealed partial class RepairWgIssueCommand : WgCmdlet
    {
        private readonly List<FindingRef> _findings = new List<FindingRef>();
        private readonly CancellationTokenSource _stop = new CancellationTokenSource();

        /// <summary>Findings from Invoke-WgDiagnosis (also after remoting).</summary>
        [Parameter(Mandatory = true, ValueFromPipeline = true)]
        public PSObject[] InputObject { get; set; }

        protected override void ProcessRecord()
        {
            foreach (var o in InputObject)
            {
                // other hosts' findings and NoKeepaliveBehindNat: Remoting/RepairWgIssueCommand.Remote.cs
                if (TakeSpecial(o)) continue;
                var f = FindingRef.From(o);
                if (f == null)
                    WriteError(new ErrorRecord(new ArgumentException("Repair-WgIssue takes findings from Invoke-WgDiagnosis."), "WgUnsupportedInput", ErrorCategory.InvalidArgument, o));
                else _findings.Add(f);
            }
        }

        protected override void EndProcessing()
        {
            bool whatIf = MyInvocation.BoundParameters.TryGetValue("WhatIf", out var w) && ((SwitchParameter)w).IsPresent;
            var repairer = new Repairer(Runner, Invoke, WriteVerbose, _stop.Token);
            RepairSpecial();
            var done = new HashSet<string>();
            foreach (var f in _findings)
            {
                if (!f.CanRepair)
                {
                    WriteVerbose($"{f.Interface} {f.Cause}: not repairable here ({f.Remediation}).");
                    WriteObject(repairer.Repair(f));
                    continue;
                }
                var action = Repairer.ActionFor(f);
                // One repair per distinct action: two findings with the same fix are fixed once.
                if (!done.Add(action)) continue;
                if (!ShouldProcess($"{f.Interface}: {f.Cause}", action))
                {
                    var call = RemediationCall.For(f);
                    if (whatIf && call != null) Invoke(call, whatIf: true);
                    continue;
                }
                try
                {
                    var progress = new ProgressRecord(3, "Repair-WgIssue", $"{f.Interface}: {action}, then verifying");
                    WriteProgress(progress);
                    var result = repairer.Repair(f);
                    progress.RecordType = ProgressRecordType.Completed;
                    WriteProgress(progress);
                    if (result.Error != null && !result.Verified) WriteWarning($"{f.Interface} {f.Cause}: {result.Error}");
                    WriteObject(result);
                }
                catch (WgException ex)
                {
                    Fail(ex);
                }
            }
        }

        private IList<ChangeRecord> Invoke(RemediationCall call) => InvokeRemediation(call, whatIf: false);

        private IList<ChangeRecord> Invoke(RemediationCall call, bool whatIf) => InvokeRemediation(call, whatIf);

        protected override void StopProcessing() => _stop.Cancel();
    }
}
