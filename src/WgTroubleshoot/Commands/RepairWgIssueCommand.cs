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
                // other hosts' findings: Remoting/RepairWgIssueCommand.Remote.cs
                if (TakeRemote(o)) continue;
                var f = FindingRef.From(o);
                if (f == null)
                    WriteError(new ErrorRecord(new ArgumentException("Repair-WgIssue takes findings from Invoke-WgDiagnosis."), "WgUnsupportedInput", ErrorCategory.InvalidArgument, o));
                else _findings.Add(f);
            }
        }

        protected override void EndProcessing()
        {
            // An MTU blackhole and a missing MSS clamp are only found by the deep diagnosis: their verification runs the same checks.
            var deep = new HashSet<string>(_findings.Where(x => Repairer.FoundOnlyDeep(x.Cause)).Select(x => x.Interface));
            var repairer = new Repairer(Runner, Repairer.EngineDiagnosis(Runner, WriteVerbose, _stop.Token, deep.Contains), WriteVerbose, WriteWarning, _stop.Token);
            RepairRemote();
            // the same loop a repair sent from another host runs (RemoteEndpoint.RepairJson); ShouldProcess is asked here
            var results = repairer.RepairAll(_findings, (f, plan) =>
            {
                if (ShouldProcess($"{f.Interface}: {f.Cause}", plan.Display))
                {
                    WriteProgress(new ProgressRecord(3, "Repair-WgIssue", $"{f.Interface}: {plan.Display}, then verifying"));
                    return true;
                }
                // -WhatIf: show each command the remedy would run, change nothing.
                if (MyInvocation.BoundParameters.ContainsKey("WhatIf"))
                {
                    try { plan.Execute(RemedyContext()); }
                    catch (WgException ex) { WriteVerbose($"{f.Interface} {f.Cause}: {ex.Message}"); }
                }
                return false;
            }, (f, ex) => { Fail(ex); return null; });
            foreach (var result in results)
            {
                WriteProgress(new ProgressRecord(3, "Repair-WgIssue", "verified") { RecordType = ProgressRecordType.Completed });
                if (result.Error != null && !result.Verified && !Repairer.NeedsHuman(result)) WriteWarning($"{result.Interface} {result.Cause}: {result.Error}");
                WriteObject(result);
            }
        }

        protected override void StopProcessing() => _stop.Cancel();
    }
}
