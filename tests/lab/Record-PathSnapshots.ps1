#requires -Version 7.2
<#
.SYNOPSIS
    Records the lab snapshots that the path and firewall replay tests judge (xunit PathFaultReplayTests).
.DESCRIPTION
    Builds one lab, injects each fault of tests/lab/Faults/Path.ps1 in turn, and on the side where it shows runs
    `Invoke-WgDiagnosis -SnapshotPath` (the module staged by `build.ps1 Build`), writing
    tests/WgTroubleshoot.Tests/Corpus/snapshots/<Fault>-<side>.json (the healthy lab is Record-Snapshots.ps1's).
    Needs root and the lab's tools; anyone can rerun it. The snapshots carry no secrets (the module scrubs them).
.PARAMETER Fault
    Only these faults (default: every path fault; Healthy records the healthy lab on both sides).
#>
[CmdletBinding()]
param(
    [string[]] $Fault = @('OutputDropsReplies', 'DockerForwardDrop', 'DockerForwardDropLegacy', 'UfwRoutedDrop', 'TunnelInputBlocked',
        'NatWrongInterface', 'GatewayForwardingOff', 'ReversePathFilter', 'ReversePathFilterNft', 'HookRulesMissing'),
    [string] $OutDirectory = (Join-Path $PSScriptRoot '../WgTroubleshoot.Tests/Corpus/snapshots')
)
$ErrorActionPreference = 'Stop'
$root = Resolve-Path (Join-Path $PSScriptRoot '../..')
if (-not $env:WGT_MODULE) {
    $psd = Get-ChildItem (Join-Path $root 'out/WgTroubleshoot') -Recurse -Filter WgTroubleshoot.psd1 | Select-Object -First 1
    if (-not $psd) { throw 'Build first (dotnet pwsh ./build.ps1 Build): no staged module under out/.' }
    $env:WGT_MODULE = $psd.FullName
}
Import-Module (Join-Path $PSScriptRoot 'WgLab.psm1') -Force
$null = New-Item -ItemType Directory -Force $OutDirectory
$lab = New-WgLab
try {
    $null = Wait-WgLabHandshake -Lab $lab -TimeoutSeconds 15
    foreach ($f in $Fault) {
        $sides = if ($f -eq 'Healthy') { 'client', 'server' } else { @((Get-WgLabFault -Name $f).Side) }
        if ($f -ne 'Healthy') { Add-WgLabFault -Lab $lab -Fault $f }
        try {
            foreach ($side in $sides) {
                $if = if ($side -eq 'client') { $lab.Client.Interface } else { $lab.Server.Interface }
                $tmp = "/tmp/wgt-$($lab.Id)-$f-$side.json"
                $top = Invoke-WgLabPwsh -Lab $lab -Node $side -ArgumentList $if, $tmp -TimeoutSeconds 400 -ScriptBlock {
                    param($i, $p) @(Invoke-WgDiagnosis -Interface $i -SnapshotPath $p)[0]
                }
                Move-Item -LiteralPath $tmp -Destination (Join-Path $OutDirectory "$f-$side.json") -Force
                Write-Host "$f ($side): $($top.Severity) $($top.Cause)"
            }
        }
        finally {
            if ($f -ne 'Healthy') { Remove-WgLabFault -Lab $lab -Fault $f; $null = Wait-WgLabHandshake -Lab $lab -TimeoutSeconds 15 }
        }
    }
}
finally { Remove-WgLab -Lab $lab }
