#Requires -Version 7.2
<#
.SYNOPSIS
    Records a host snapshot of every lab fault, on the side where it shows, for the xunit replay tests.
.DESCRIPTION
    For each scenario below: builds a lab (New-WgLab), waits for the handshake, injects the fault, checks
    that its symptom shows, runs Invoke-WgDiagnosis -SnapshotPath on the side where it shows, and writes
    the snapshot to tests/WgTroubleshoot.Tests/Corpus/snapshots/<Fault>-<side>.json. The expected Cause of
    each file (what the lab scenario is, not what the diagnosis said) goes to expected.txt there. Every
    file is checked for the lab's private and preshared keys (base64 and hex) before it is kept.
    Needs root and the lab's packages; uses the staged module ($env:WGT_MODULE, else out/).
.PARAMETER Fault
    Record only these scenarios (names as in the table: Healthy, IdlePeer, FirewallBlocksPort ...).
.EXAMPLE
    ./tests/lab/Record-Snapshots.ps1 -Fault NatMissing
#>
[CmdletBinding()]
param([string[]] $Fault)
$ErrorActionPreference = 'Stop'
$root = Resolve-Path (Join-Path $PSScriptRoot '../..')
Import-Module (Join-Path $PSScriptRoot 'WgLab.psm1') -Force
if (-not $env:WGT_MODULE) { $env:WGT_MODULE = (Get-ChildItem (Join-Path $root 'out/WgTroubleshoot/*/WgTroubleshoot.psd1') | Select-Object -First 1).FullName }
if (-not (Test-WgLabPrerequisite)) { throw "The lab cannot run here: $(Test-WgLabPrerequisite -Reason)" }
$outDir = Join-Path $root 'tests/WgTroubleshoot.Tests/Corpus/snapshots'
$null = New-Item -ItemType Directory -Force $outDir

# Scenario, lab fault (none for healthy ones), side, expected top Cause, options.
$scenarios = @(
    @{ Name = 'Healthy'; Side = 'client'; Cause = 'Healthy' }
    @{ Name = 'Healthy'; Side = 'server'; Cause = 'Healthy' }
    @{ Name = 'IdlePeer'; Fault = 'IdlePeer'; Side = 'client'; Cause = 'Healthy'; NoWait = $true }
    @{ Name = 'FirewallBlocksPort'; Fault = 'FirewallBlocksPort'; Side = 'server'; Cause = 'FirewallBlocksPort' }
    @{ Name = 'FirewallBlocksPortIptables'; Fault = 'FirewallBlocksPortIptables'; Side = 'server'; Cause = 'FirewallBlocksPort' }
    @{ Name = 'TcpOnlyFirewallRule'; Fault = 'TcpOnlyFirewallRule'; Side = 'server'; Cause = 'TcpOnlyFirewallRule' }
    @{ Name = 'WrongEndpointPort'; Fault = 'WrongEndpointPort'; Side = 'client'; Cause = 'EndpointUnreachable' }
    @{ Name = 'KeyMismatch'; Fault = 'KeyMismatch'; Side = 'server'; Cause = 'KeyMismatch' }
    @{ Name = 'AllowedIpsMismatch'; Fault = 'AllowedIpsMismatch'; Side = 'server'; Cause = 'AllowedIpsMismatch'; PeerConfig = $true }
    @{ Name = 'ForwardingDisabled'; Fault = 'ForwardingDisabled'; Side = 'server'; Cause = 'ForwardingDisabled' }
    @{ Name = 'NatMissing'; Fault = 'NatMissing'; Side = 'server'; Cause = 'NatMissing' }
    @{ Name = 'StaleDnsEndpoint'; Fault = 'StaleDnsEndpoint'; Side = 'client'; Cause = 'StaleEndpoint'; HostName = $true }
    @{ Name = 'MtuBlackhole'; Fault = 'MtuBlackhole'; Side = 'client'; Cause = 'MtuBlackhole'; Deep = $true }
    @{ Name = 'InterfaceDown'; Fault = 'InterfaceDown'; Side = 'client'; Cause = 'InterfaceDown' }
    @{ Name = 'MssClampMissing'; Fault = 'MssClampMissing'; Side = 'server'; Cause = 'MssClampMissing'; Deep = $true }
    @{ Name = 'LocalSubnetConflict'; Fault = 'LocalSubnetConflict'; Side = 'client'; Cause = 'LocalSubnetConflict' }
    @{ Name = 'StaleConntrack'; Fault = 'StaleConntrack'; Side = 'client'; Cause = 'StaleConntrack' }
    # the port blocked, and nft first on PATH runs the real one without CAP_NET_ADMIN: the firewall cannot be read
    @{ Name = 'CheckNotRun'; Fault = 'FirewallBlocksPort'; Side = 'server'; Cause = 'CheckNotRun'; NftCannotRun = $true }
)
if ($Fault) {
    $Fault = @($Fault | ForEach-Object { $_ -split "," } | Where-Object { $_ })   # pwsh -File passes "a,b" as one string
    $scenarios = @($scenarios | Where-Object { $_.Name -in $Fault })
}

$expectedPath = Join-Path $outDir 'expected.txt'
$expected = [ordered]@{}
if (Test-Path $expectedPath) {
    foreach ($line in Get-Content $expectedPath) { if ($line -match '^(\S+)\s+(\S+)$') { $expected[$Matches[1]] = $Matches[2] } }
}

foreach ($s in $scenarios) {
    $file = "$($s.Name)-$($s.Side).json"
    Write-Host "Recording $file (expected $($s.Cause))"
    $lab = New-WgLab -EndpointHostName:([bool]$s.HostName)
    try {
        if (-not $s.NoWait -and -not (Wait-WgLabHandshake -Lab $lab -TimeoutSeconds 15)) { throw 'The lab tunnel did not come up.' }
        if ($s.Fault -eq 'InterfaceDown') { Add-WgLabFault -Lab $lab -Fault $s.Fault -Node $s.Side }
        elseif ($s.Fault) { Add-WgLabFault -Lab $lab -Fault $s.Fault }
        # The symptom shows before the module looks.
        switch ($s.Cause) {
            'Healthy' { if (-not $s.NoWait -and -not (Test-WgLabPing -Lab $lab -To 192.0.2.1 -Count 1)) { throw 'healthy lab: no ping' } }
            { $_ -in 'ForwardingDisabled', 'NatMissing' } { if (Test-WgLabPing -Lab $lab -To 192.0.2.130 -Count 1 -TimeoutSeconds 2) { throw "$($s.Fault): the internet host still answers" } }
            'MssClampMissing' {
                if ((Test-WgLabTcp -Lab $lab -From inet -Node client -To $lab.Client.TunnelAddress -TimeoutSeconds 6).Success) { throw 'MssClampMissing: a full-size transfer to the client still passes' }
            }
            'LocalSubnetConflict' { if (Test-WgLabPing -Lab $lab -To 192.0.2.130 -Count 1 -TimeoutSeconds 2) { throw 'LocalSubnetConflict: the remote LAN still answers' } }
            { $_ -in 'FirewallBlocksPort', 'TcpOnlyFirewallRule', 'EndpointUnreachable', 'KeyMismatch', 'StaleEndpoint', 'StaleConntrack', 'CheckNotRun' } {
                if (Wait-WgLabHandshake -Lab $lab -TimeoutSeconds 4 -Since (Get-Date).ToUniversalTime()) { throw "$($s.Fault): the handshake still completes" }
            }
        }
        $iface = if ($s.Side -eq 'server') { $lab.Server.Interface } else { $lab.Client.Interface }
        $tmp = "/tmp/wgt-$($lab.Id)-snapshot.json"
        $diagArgs = "-Interface '$iface' -SnapshotPath '$tmp'"
        if ($s.Deep) { $diagArgs += ' -Deep' }
        if ($s.PeerConfig) { $diagArgs += " -PeerConfigPath '$($lab.Client.HostConfigPath)'" }
        $envVars = @{}
        if ($s.NftCannotRun) {
            $bin = Join-Path ([System.IO.Path]::GetTempPath()) "wgt-$($lab.Id)-bin"
            $null = New-Item -ItemType Directory -Force $bin
            $nft = (Get-Command nft -CommandType Application | Select-Object -First 1).Source
            Set-Content -LiteralPath (Join-Path $bin 'nft') -Value "#!/bin/sh`nexec setpriv --bounding-set -net_admin --inh-caps -net_admin '$nft' `"`$@`"`n"
            [System.IO.File]::SetUnixFileMode((Join-Path $bin 'nft'), [System.IO.UnixFileMode]'UserRead, UserWrite, UserExecute')
            $envVars['PATH'] = "$bin`:$env:PATH"
        }
        try { $r = Invoke-WgLabPwsh -Lab $lab -Node $s.Side -Script "Invoke-WgDiagnosis $diagArgs" -AsResult -TimeoutSeconds 300 -Environment $envVars }
        finally { if ($s.NftCannotRun) { Remove-Item -LiteralPath $bin -Recurse -Force -ErrorAction SilentlyContinue } }
        if ($r.Failure) { throw "Invoke-WgDiagnosis failed: $($r.Failure)" }
        $text = [System.IO.File]::ReadAllText($tmp)
        Remove-Item -LiteralPath $tmp
        foreach ($secret in Get-WgLabSecret -Lab $lab) {
            if ($text.IndexOf($secret, [StringComparison]::OrdinalIgnoreCase) -ge 0) { throw "$file would contain a lab secret: not written." }
        }
        [System.IO.File]::WriteAllText((Join-Path $outDir $file), $text)
        $expected[$file] = $s.Cause
        $top = @($r.Output)[0]
        Write-Host ("  top Cause now: {0}{1}" -f $top.Cause, $(if ($top.Cause -ne $s.Cause) { '   <-- differs from the lab scenario' } else { '' }))
    }
    finally {
        foreach ($f in @($lab.Faults)) { try { Remove-WgLabFault -Lab $lab -Fault $f } catch { Write-Warning "removing $f`: $_" } }
        Remove-WgLab -Lab $lab
    }
}
$lines = foreach ($k in ($expected.Keys | Sort-Object)) { "$k $($expected[$k])" }
Set-Content -LiteralPath $expectedPath -Value (@('# <snapshot file> <Cause the lab scenario gives on that side> (written by tests/lab/Record-Snapshots.ps1)') + $lines)
