#requires -Version 7.0
<#
.SYNOPSIS
    The main job, end to end: a real WireGuard tunnel with a real fault, diagnosed and repaired.
.DESCRIPTION
    As root, with wireguard-go and the network tools installed, it builds the test lab (network
    namespaces with a client, a router, a server and an "internet" host, documentation addresses only),
    breaks the tunnel the classic ways (the server's firewall drops UDP 51820, and IP forwarding is off),
    runs Invoke-WgDiagnosis on the server, pipes the findings to Repair-WgIssue, and shows the tunnel
    healthy again. Everything it built is removed at the end, also on Ctrl+C or failure.
    Without root it diagnoses the example configurations in examples/configs and says what a root run adds.
    Run it through build.ps1 Demo, which builds the module first.
#>
$ErrorActionPreference = 'Stop'
$root = if ($env:WGT_ROOT) { $env:WGT_ROOT } else { Split-Path $PSScriptRoot }
$module = if ($env:WGT_MODULE) { $env:WGT_MODULE } else { (Get-ChildItem (Join-Path $root 'out/WgTroubleshoot/*/WgTroubleshoot.psd1') | Select-Object -First 1).FullName }
$env:WGT_MODULE = $module
if (-not $env:WGT_PWSH) { $env:WGT_PWSH = Join-Path $PSHOME 'pwsh' }
Import-Module $module -Force
Import-Module (Join-Path $root 'tests/lab/WgLab.psm1') -Force

function Write-Step([string] $Text) { Write-Host ''; Write-Host "== $Text" -ForegroundColor Cyan }
function Show([object[]] $Objects, [string[]] $Property) {
    if (-not $Objects) { Write-Host '(nothing)'; return }
    $Objects | Format-Table -Property $Property -AutoSize -Wrap | Out-String -Width 200 | Write-Host
}

if (-not (Test-WgLabPrerequisite)) {
    Write-Step "No lab here ($(Test-WgLabPrerequisite -Reason)): diagnosing the example configurations instead"
    $configs = Join-Path $root 'examples/configs'
    $server = Join-Path $configs 'server.conf'
    $laptop = Join-Path $configs 'laptop.conf'
    Write-Host "Test-WgConfig on each file (lint: keys, AllowedIPs, keepalive, permissions, ...):"
    Show @(Get-ChildItem $configs -Filter *.conf | Test-WgConfig) Severity, Id, Line, Message, Fix
    Write-Host "Compare-WgPeerConfig on both ends (keys, preshared keys, port, AllowedIPs against Address):"
    Show @(Compare-WgPeerConfig -Path $server, $laptop) Severity, Cause, Message, Fix
    Write-Host ''
    Write-Host 'As root with wireguard-go, this demo also builds a real tunnel in network namespaces, breaks it'
    Write-Host '(firewall drop, forwarding off), and shows Invoke-WgDiagnosis | Repair-WgIssue repairing it live:'
    Write-Host 'handshakes judged with WireGuard''s timers, the firewall rule that decides, traffic on the wire.'
    exit 0
}

$lab = $null
try {
    Write-Step 'Building a WireGuard lab: client -> router -> server -> internet host (network namespaces)'
    $lab = New-WgLab
    $null = Wait-WgLabHandshake -Lab $lab -TimeoutSeconds 15
    Write-Host "client $($lab.Client.Interface) 192.0.2.2 <-> server $($lab.Server.Interface) 192.0.2.1 (UDP 51820), internet host 192.0.2.130"
    Write-Host ("Tunnel up, internet host reachable through the server's NAT: " + (Test-WgLabPing -Lab $lab -To 192.0.2.130 -Count 1))

    Write-Step 'Breaking it the classic ways: the server firewall drops UDP 51820, and IP forwarding is off'
    Add-WgLabFault -Lab $lab -Fault FirewallBlocksPort, ForwardingDisabled
    Write-Host ('Client reaches the server through the tunnel: ' + (Test-WgLabPing -Lab $lab -To 192.0.2.1 -Count 1 -TimeoutSeconds 2))
    Write-Host ('Client reaches the internet host:             ' + (Test-WgLabPing -Lab $lab -To 192.0.2.130 -Count 1 -TimeoutSeconds 2))

    Write-Step 'On the server: Invoke-WgDiagnosis'
    $findings = @(Invoke-WgLabPwsh -Lab $lab -Node server -ScriptBlock { Invoke-WgDiagnosis } -TimeoutSeconds 120)
    Show $findings Severity, Cause, Summary, Remediation

    Write-Step 'On the server: Invoke-WgDiagnosis | Repair-WgIssue -Confirm:$false'
    $results = @(Invoke-WgLabPwsh -Lab $lab -Node server -ScriptBlock { Invoke-WgDiagnosis | Repair-WgIssue -Confirm:$false } -TimeoutSeconds 240)
    Show $results Cause, Action, Changed, Verified, RolledBack

    Write-Step 'After the repair'
    $hs = Wait-WgLabHandshake -Lab $lab -TimeoutSeconds 30
    Write-Host ('Handshake completes:            ' + $hs)
    Write-Host ('Client reaches the internet host: ' + (Test-WgLabPing -Lab $lab -To 192.0.2.130 -Count 2 -TimeoutSeconds 3))
    $check = @(Invoke-WgLabPwsh -Lab $lab -Node client -ScriptBlock { Test-WgHandshake -SampleSeconds 2 } -TimeoutSeconds 60)
    Show $check Interface, Endpoint, Status, Reason
    $left = @(Invoke-WgLabPwsh -Lab $lab -Node server -ScriptBlock { Invoke-WgDiagnosis } -TimeoutSeconds 120)
    Write-Host 'A second diagnosis of the server:'
    Show $left Severity, Cause, Summary
    if (-not $hs -or @($left | Where-Object Severity -ne 'Info').Count -gt 0) { throw 'The tunnel is not healthy after the repair.' }
    Write-Host 'The tunnel is healthy again.' -ForegroundColor Green
}
finally {
    if ($lab) { Remove-WgLab -Lab $lab }
}
