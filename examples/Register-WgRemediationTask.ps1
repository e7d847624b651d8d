# Windows Task Scheduler: run the remediation every five minutes as SYSTEM (run this once, elevated).
$action = New-ScheduledTaskAction -Execute 'pwsh.exe' `
    -Argument '-NoProfile -NonInteractive -File "C:\Program Files\WgTroubleshoot\wg-remediate.ps1" -Policy "C:\ProgramData\WgTroubleshoot\policy.yaml" -ReportPath "C:\ProgramData\WgTroubleshoot\last-report.yaml"'
$trigger = New-ScheduledTaskTrigger -Once -At (Get-Date) -RepetitionInterval (New-TimeSpan -Minutes 5)
$principal = New-ScheduledTaskPrincipal -UserId 'SYSTEM' -LogonType ServiceAccount -RunLevel Highest
$settings = New-ScheduledTaskSettingsSet -ExecutionTimeLimit (New-TimeSpan -Minutes 4) -MultipleInstances IgnoreNew
Register-ScheduledTask -TaskName 'WgTroubleshoot remediation' -Action $action -Trigger $trigger -Principal $principal -Settings $settings
# The task's "Last Run Result" is the exit code: 0 healthy, 1 error, 2 repaired, 3 needs a human.
