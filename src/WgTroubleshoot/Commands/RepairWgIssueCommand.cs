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
            // An MTU blackhole is only found by the deep diagnosis: its verification runs the same checks.
            var deep = new HashSet<string>(_findings.Where(x => x.Cause == nameof(Cause.MtuBlackhole)).Select(x => x.Interface));
            var repairer = new Repairer(Runner, Repairer.EngineDiagnosis(Runner, WriteVerbose, _stop.Token, deep.Contains), WriteVerbose, WriteWarning, _stop.Token);
            RepairSpecial();
            var done = new HashSet<string>();
            foreach (var f in _findings)
            {
                var plan = Remedies.RemedyCatalog.Plan(f, out var refusal);
                if (plan == null)
                {
                    WriteVerbose($"{f.Interface} {f.Cause}: not repaired ({refusal}).");
                    var refused = repairer.Repair(f);
                    if (f.CanRepair && Remedies.RemedyCatalog.KindFor(f.Cause) != null) WriteWarning($"{f.Interface} {f.Cause}: {refused.Error}");
                    WriteObject(refused);
                    continue;
                }
                // One repair per distinct action: two findings with the same fix are fixed once.
                if (!done.Add(plan.Display)) continue;
                // A repair that only a remediation policy allows (TunnelInputBlocked) is refused here, before ShouldProcess.
                if (plan.PolicyKey != null)
                {
                    var refused = repairer.Repair(f);
                    WriteVerbose($"{f.Interface} {f.Cause}: {refused.Error}");
                    WriteObject(refused);
                    continue;
                }
                if (!ShouldProcess($"{f.Interface}: {f.Cause}", plan.Display))
                {
                    // -WhatIf: show each command the remedy would run, change nothing.
                    if (MyInvocation.BoundParameters.ContainsKey("WhatIf"))
                    {
                        try { plan.Execute(RemedyContext()); }
                        catch (WgException ex) { WriteVerbose($"{f.Interface} {f.Cause}: {ex.Message}"); }
                    }
                    continue;
                }
                try
                {
                    var progress = new ProgressRecord(3, "Repair-WgIssue", $"{f.Interface}: {plan.Display}, then verifying");
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

        protected override void StopProcessing() => _stop.Cancel();
    }
}
