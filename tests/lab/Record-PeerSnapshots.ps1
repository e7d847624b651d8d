#requires -Version 7.2
<#
.SYNOPSIS
    Records the host snapshots of the peer/key lab faults (and healthy idle tunnels with a 1 s keepalive) for the
    replay tests: tests/WgTroubleshoot.Tests/Corpus/snapshots/peer/<Case>-<side>.json.
.DESCRIPTION
    Needs root and the lab. Each case gets a fresh lab; the snapshot is what Invoke-WgDiagnosis -SnapshotPath
    saves on the side named (no secrets: the snapshot never holds keys).
#>
[CmdletBinding()]
param([Parameter(Mandatory)] [string] $ModulePath, [string[]] $Case = @('*'), [int] $ThrottleLimit = 3)
$ErrorActionPreference = 'Stop'
$ModulePath = (Resolve-Path -LiteralPath $ModulePath).ProviderPath
$lab = Join-Path $PSScriptRoot 'WgLab.psm1'
$out = Join-Path $PSScriptRoot '../WgTroubleshoot.Tests/Corpus/snapshots/peer'
$cases = @(
    @{ Name = 'EndpointRoutedIntoTunnel'; Side = 'client' }
    @{ Name = 'EndpointAaaaOnly'; Side = 'client' }
    @{ Name = 'EndpointBlackholed'; Side = 'client' }
    @{ Name = 'DdnsMovedFreshHandshake'; Side = 'client' }
    @{ Name = 'AllowedIpsConflict'; Side = 'server' }
    @{ Name = 'ListenPortInUse'; Side = 'server' }
    @{ Name = 'SharedKeyPair'; Side = 'server' }
    @{ Name = 'PresharedKeyMismatch'; Side = 'client' }
    @{ Name = 'ResolverMissing'; Side = 'client' }
    @{ Name = 'IdleKeepalive1'; Side = 'client'; Keepalive = 1 }
    @{ Name = 'IdleKeepalive1'; Side = 'server'; Keepalive = 1 }
) | Where-Object { $n = $_.Name; $Case | Where-Object { $n -like $_ } }
$cases | ForEach-Object -ThrottleLimit $ThrottleLimit -Parallel {
    $c = $_
    $env:WGT_MODULE = $using:ModulePath
    Import-Module $using:lab -Force
    $l = New-WgLab
    try {
        $null = Wait-WgLabHandshake -Lab $l -TimeoutSeconds 15
        if ($c.Keepalive) { Set-WgLabKeepalive -Lab $l -Seconds $c.Keepalive }
        else { Add-WgLabFault -Lab $l -Fault $c.Name }
        $tmp = "/tmp/wgk-rec-$($l.Id).json"
        $f = Invoke-WgLabPwsh -Lab $l -Node $c.Side -TimeoutSeconds 240 -ArgumentList $tmp -ScriptBlock { param($p) Invoke-WgDiagnosis -SnapshotPath $p }
        $dest = Join-Path $using:out "$($c.Name)-$($c.Side).json"
        Move-Item -LiteralPath $tmp -Destination $dest -Force
        "{0}-{1}: top {2} ({3})" -f $c.Name, $c.Side, $f[0].Cause, $f[0].Severity
    }
    finally { Remove-WgLab -Lab $l }
}
