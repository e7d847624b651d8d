using System;
using System.Linq;
using System.Management.Automation;
using WgTroubleshoot.Changes;
using WgTroubleshoot.Diagnosis;
using WgTroubleshoot.Remediation;

namespace WgTroubleshoot.Commands
{
    /// <summary>
    /// <para type="synopsis">Keeps WireGuard interfaces as a YAML policy says, unattended: diagnose, repair what is allowed, verify, report, exit code.</para>
    /// </summary>
    [Cmdlet(VerbsLifecycle.Invoke, "WgRemediation", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
    [OutputType(typeof(RemediationReport))]
    public sealed class InvokeWgRemediationCommand : WgCmdlet
    {
        /// <summary>The remediation policy (YAML).</summary>
        [Parameter(Mandatory = true, Position = 0)]
        [ValidateNotNullOrEmpty]
        public string Policy { get; set; }

        /// <summary>Where to write the report (YAML or JSON, as the policy says).</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string ReportPath { get; set; }

        protected override void EndProcessing()
        {
            bool whatIf = MyInvocation.BoundParameters.TryGetValue("WhatIf", out var w) && ((SwitchParameter)w).IsPresent;
            var report = new RemediationReport { Policy = Policy, Host = Environment.MachineName, StartedUtc = DateTime.UtcNow, WhatIf = whatIf };
            RemediationPolicy policy = null;
            var reportPath = ReportPath == null ? null : GetUnresolvedProviderPathFromPSPath(ReportPath);
            bool reportRefused = false;
            try
            {
                var policyPath = GetUnresolvedProviderPathFromPSPath(Policy);
                // the report must not replace the policy, the state file or a WireGuard configuration
                if (reportPath != null && (reportRefused = RepairLedger.ReportPathProblem(reportPath, policyPath, null) != null))
                    throw RepairLedger.ReportPathError(reportPath, RepairLedger.ReportPathProblem(reportPath, policyPath, null));
                policy = RemediationPolicy.Load(policyPath);
                if (reportPath != null && (reportRefused = RepairLedger.ReportPathProblem(reportPath, policy.Path, policy.StateFile) != null))
                    throw RepairLedger.ReportPathError(reportPath, RepairLedger.ReportPathProblem(reportPath, policy.Path, policy.StateFile));
                if (!whatIf) Privilege.Demand("A remediation run");
                // Verification reruns the checks the run made: with the path-MTU probe where the policy says mtu: auto.
                var repairer = new Repairer(Runner, Repairer.EngineDiagnosis(Runner, WriteVerbose, default(System.Threading.CancellationToken),
                    iface => policy.Interfaces.Any(i => i.Interface == iface && i.MtuAuto)), WriteVerbose, WriteWarning);
                var run = new RemediationRun(Runner, repairer, (target, action) =>
                {
                    if (ShouldProcess(target, action)) return true;
                    if (whatIf)
                    {
                        WriteVerbose($"WhatIf: would run {action} for {target}.");
                    }
                    return false;
                }, WriteVerbose);
                run.Warn = WriteWarning;
                report = run.Run(policy, whatIf);
            }
            catch (Exception ex) when (!(ex is PipelineStoppedException))
            {
                var wex = ex as WgException ?? new WgException(ErrorIds.ChangeFailed, ErrorCategory.WriteError, "The remediation run failed: " + ex.Message, Policy, ex);
                report.Outcome = "Error";
                report.ExitCode = RemediationExitCode.Error;
                report.Error = wex.Message;
                report.FinishedUtc = DateTime.UtcNow;
                WriteError(wex.ToErrorRecord());
            }
            if (reportPath != null && !reportRefused)
            {
                var path = reportPath;
                report.ReportPath = path;
                try
                {
                    RemediationRun.WriteReport(report, path, policy != null && policy.ReportFormat == PolicyReportFormat.Json
                                                            || path.EndsWith(".json", StringComparison.OrdinalIgnoreCase));
                }
                catch (Exception ex) when (ex is System.IO.IOException || ex is UnauthorizedAccessException)
                {
                    WriteError(new WgException(ErrorIds.ConfigWriteFailed, ErrorCategory.WriteError, $"The report '{path}' could not be written: {ex.Message}", path, ex).ToErrorRecord());
                }
            }
            // Schedulers act on the exit code: the script runs `Invoke-WgRemediation ...; exit $LASTEXITCODE`.
            SessionState.PSVariable.Set("global:LASTEXITCODE", report.ExitCode);
            WriteObject(report);
        }
    }
}
