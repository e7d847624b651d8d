#!/usr/bin/env pwsh
# Unattended WireGuard remediation: diagnose, repair what the policy allows, verify, report.
# Exit codes (for the scheduler): 0 healthy, 1 error (nothing changed), 2 repaired, 3 needs a human.
param(
    [string] $Policy = '/etc/wgtroubleshoot/policy.yaml',
    [string] $ReportPath = '/var/lib/wgtroubleshoot/last-report.yaml'
)
$ErrorActionPreference = 'Continue'
Import-Module WgTroubleshoot
$report = Invoke-WgRemediation -Policy $Policy -ReportPath $ReportPath -Confirm:$false
Write-Output "WgTroubleshoot remediation: $($report.Outcome)"
exit $report.ExitCode
