#requires -Version 7.2
<#
.SYNOPSIS
    The accuracy benchmark: every lab fault on the side where it shows, diagnosed, repaired and checked with TCP;
    then false alarms over diagnoses of healthy tunnels.
.DESCRIPTION
    Needs root and the lab's tools (tests/lab/WgLab.psm1). For every fault Get-WgLabFault lists (every file in
    tests/lab/Faults included), on a fresh lab of its own:
      1. inject the fault, run Invoke-WgDiagnosis on the side declared below (the top finding is the verdict);
      2. when the top finding can be repaired, Repair-WgIssue -Confirm:$false on it (Verified or not);
      3. a TCP connection and a 1 MiB transfer from the client through the tunnel to the host beyond the server
         (Test-WgLabTcp), after a bounded wait for a handshake.
    The expected Cause of each fault comes from the table $Expected in this file, never from the module: a fault
    the table does not name counts as wrong ("(undeclared)").
    Healthy runs: labs with the client's PersistentKeepalive 1 s, 25 s and off, each diagnosed on both sides,
    without traffic and with a ping running through the tunnel, -HealthyRepeats times (24 diagnoses by default).
    A false alarm is any finding above Info. The diagnosis time of each healthy run is printed (median) for the
    runs whose counters already show traffic both ways and for the idle ones that need the liveness probe.
    Labs run -ThrottleLimit at a time. The last line is
        accuracy: R/N right, F false alarms in H healthy runs
.EXAMPLE
    dotnet pwsh ./build.ps1 Accuracy
.EXAMPLE
    pwsh -NoProfile -File bench/Measure-Accuracy.ps1 -ModulePath out/WgTroubleshoot/0.1.0/WgTroubleshoot.psd1 -Fault Stale*
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory)] [string] $ModulePath,
    [ValidateRange(1, 8)] [int] $ThrottleLimit = 3,
    [ValidateRange(1, 10)] [int] $HealthyRepeats = 2,
    [string[]] $Fault = @('*'),
    [switch] $SkipFaults,
    [switch] $SkipHealthy
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version 3.0
$ModulePath = (Resolve-Path -LiteralPath $ModulePath).ProviderPath
$LabModule = Join-Path $PSScriptRoot '../tests/lab/WgLab.psm1' | Resolve-Path | Select-Object -ExpandProperty ProviderPath

# fault name -> the side to diagnose, the Cause expected first, and how to build or diagnose the lab.
# Declared here, from field-faults.md and the issue, not from anything the module says.
$Expected = [ordered]@{
    FirewallBlocksPort         = @{ Side = 'server'; Cause = 'FirewallBlocksPort' }
    FirewallBlocksPortIptables = @{ Side = 'server'; Cause = 'FirewallBlocksPort' }
    TcpOnlyFirewallRule        = @{ Side = 'server'; Cause = 'TcpOnlyFirewallRule' }
    WrongEndpointPort          = @{ Side = 'client'; Cause = 'EndpointUnreachable' }
    KeyMismatch                = @{ Side = 'server'; Cause = 'KeyMismatch' }
    AllowedIpsMismatch         = @{ Side = 'server'; Cause = 'AllowedIpsMismatch'; BothEnds = $true }
    MtuBlackhole               = @{ Side = 'client'; Cause = 'MtuBlackhole'; Deep = $true }
    ForwardingDisabled         = @{ Side = 'server'; Cause = 'ForwardingDisabled' }
    NatMissing                 = @{ Side = 'server'; Cause = 'NatMissing' }
    StaleDnsEndpoint           = @{ Side = 'client'; Cause = 'StaleEndpoint'; HostName = $true }
    InterfaceDown              = @{ Side = 'client'; Cause = 'InterfaceDown' }
    'InterfaceDown@server'     = @{ Side = 'server'; Cause = 'InterfaceDown'; Fault = 'InterfaceDown'; Node = 'server' }
    # peer, key and endpoint faults (tests/lab/Faults/Peer.ps1)
    EndpointRoutedIntoTunnel   = @{ Side = 'client'; Cause = 'EndpointRoutedIntoTunnel' }
    EndpointAaaaOnly           = @{ Side = 'client'; Cause = 'AddressFamilyMismatch' }
    DdnsMovedFreshHandshake    = @{ Side = 'client'; Cause = 'StaleEndpoint' }
    AllowedIpsConflict         = @{ Side = 'server'; Cause = 'AllowedIpsConflict' }
    ListenPortInUse            = @{ Side = 'server'; Cause = 'ListenPortInUse' }
    SharedKeyPair              = @{ Side = 'server'; Cause = 'SharedKeyPair' }
    PresharedKeyMismatch       = @{ Side = 'client'; Cause = 'PresharedKeyMismatch' }
    ResolverMissing            = @{ Side = 'client'; Cause = 'ResolverMissing' }
    # path and firewall faults (tests/lab/Faults/Path.ps1)
    OutputDropsReplies         = @{ Side = 'server'; Cause = 'FirewallBlocksReplies' }
    DockerForwardDrop          = @{ Side = 'server'; Cause = 'ForwardPathBlocked' }
    DockerForwardDropLegacy    = @{ Side = 'server'; Cause = 'ForwardPathBlocked' }
    UfwRoutedDrop              = @{ Side = 'server'; Cause = 'ForwardPathBlocked' }
    TunnelInputBlocked         = @{ Side = 'server'; Cause = 'TunnelInputBlocked' }
    NatWrongInterface          = @{ Side = 'server'; Cause = 'NatMissing' }
    GatewayForwardingOff       = @{ Side = 'server'; Cause = 'ForwardingDisabled' }
    ReversePathFilter          = @{ Side = 'server'; Cause = 'ReversePathFilter' }
    ReversePathFilterNft       = @{ Side = 'server'; Cause = 'ReversePathFilter' }
    HookRulesMissing           = @{ Side = 'server'; Cause = 'HookRulesMissing' }
}
# Not faults: WireGuard silent by design (the healthy runs cover it).
$NotFaults = @('IdlePeer')

Import-Module $LabModule -Force
if (-not (Test-WgLabPrerequisite)) { throw "The accuracy benchmark needs the lab: $(Test-WgLabPrerequisite -Reason)" }

# The cases: every lab fault, once per side where it shows (InterfaceDown on both).
$cases = [System.Collections.Generic.List[object]]::new()
foreach ($lf in Get-WgLabFault) {
    if ($lf.Name -in $NotFaults) { continue }
    if (-not ($Fault | Where-Object { $lf.Name -like $_ })) { continue }
    $keys = @($Expected.Keys | Where-Object { $_ -eq $lf.Name -or ($Expected[$_].Contains('Fault') -and $Expected[$_].Fault -eq $lf.Name) })
    if ($keys.Count -eq 0) {
        $side = if ($lf.Side -in 'client', 'server') { $lf.Side } else { 'client' }
        $cases.Add([pscustomobject]@{ Name = $lf.Name; Fault = $lf.Name; Side = $side; Node = 'client'; Cause = '(undeclared)'; HostName = $false; BothEnds = $false; Deep = $false })
        continue
    }
    foreach ($k in $keys) {
        $e = $Expected[$k]
        $cases.Add([pscustomobject]@{
                Name = $k; Fault = $lf.Name; Side = $e.Side; Node = $(if ($e.Contains('Node')) { $e.Node } else { 'client' }); Cause = $e.Cause
                HostName = [bool]$e['HostName']; BothEnds = [bool]$e['BothEnds']; Deep = [bool]$e['Deep']
            })
    }
}

$started = [DateTime]::UtcNow
# A lab that fails reports in its row; an error one runspace writes must not end the whole benchmark.
$ErrorActionPreference = 'Continue'
$faultRows = @()
if (-not $SkipFaults -and $cases.Count) {
    Write-Host "Accuracy: $($cases.Count) fault cases, $ThrottleLimit labs at a time..."
    $faultRows = $cases | ForEach-Object -ThrottleLimit $ThrottleLimit -Parallel {
        $case = $_
        $env:WGT_MODULE = $using:ModulePath
        Import-Module $using:LabModule -Force
        $row = [ordered]@{ Fault = $case.Name; Side = $case.Side; Expected = $case.Cause; Top = $null; Severity = $null; Repaired = 'not repairable'; TcpAfter = $false; Seconds = 0; Note = $null }
        $sw = [Diagnostics.Stopwatch]::StartNew()
        $lab = $null
        try {
            $lab = if ($case.HostName) { New-WgLab -EndpointHostName } else { New-WgLab }
            $null = Wait-WgLabHandshake -Lab $lab -TimeoutSeconds 15
            Add-WgLabFault -Lab $lab -Fault $case.Fault -Node $case.Node
            $diagArgs = @{}
            if ($case.BothEnds) { $diagArgs.PeerConfigPath = $(if ($case.Side -eq 'server') { $lab.Client.HostConfigPath } else { $lab.Server.HostConfigPath }) }
            if ($case.Deep) { $diagArgs.Deep = $true }
            $r = Invoke-WgLabPwsh -Lab $lab -Node $case.Side -TimeoutSeconds 240 -ArgumentList $diagArgs -ErrorAction SilentlyContinue -ScriptBlock {
                param($a)
                $f = @(Invoke-WgDiagnosis @a)
                $top = $f | Select-Object -First 1
                $rep = $null
                if ($top -and $top.CanRepair) {
                    $rep = @($f | Where-Object { $_.Cause -eq $top.Cause } | Select-Object -First 1 | Repair-WgIssue -Confirm:$false -ErrorAction Continue) | Select-Object -Last 1
                }
                [pscustomobject]@{
                    Top = $top.Cause; Severity = $top.Severity; CanRepair = [bool]$top.CanRepair
                    Changed = if ($rep) { [bool]$rep.Changed } else { $false }; Verified = if ($rep) { [bool]$rep.Verified } else { $false }
                    RepairError = if ($rep) { "$($rep.Error)" } else { $null }
                    Others = @($f | Select-Object -Skip 1 | ForEach-Object { "$($_.Severity) $($_.Cause)" })
                }
            }
            $row.Top = $r.Top; $row.Severity = $r.Severity
            if ($r.CanRepair) { $row.Repaired = if ($r.Verified) { 'yes' } else { 'no' } }
            if ($r.RepairError) { $row.Note = $r.RepairError }
            elseif ($r.Others) { $row.Note = 'then: ' + ($r.Others -join ', ') }
            $null = Wait-WgLabHandshake -Lab $lab -TimeoutSeconds 8
            $row.TcpAfter = (Test-WgLabTcp -Lab $lab -TimeoutSeconds 10).Success
        }
        catch { $row.Note = "benchmark error: $_" }
        finally {
            if ($lab) { Remove-WgLab -Lab $lab }
            $row.Seconds = [math]::Round($sw.Elapsed.TotalSeconds)
        }
        [pscustomobject]$row
    }
}

$healthyRows = @()
if (-not $SkipHealthy) {
    Write-Host "Healthy runs: keepalive 1 s, 25 s and off x both sides x with/without traffic x $HealthyRepeats..."
    $healthyRows = @(1, 25, 0) | ForEach-Object -ThrottleLimit $ThrottleLimit -Parallel {
        $ka = $_
        $env:WGT_MODULE = $using:ModulePath
        Import-Module $using:LabModule -Force
        $lab = $null
        try {
            $lab = New-WgLab
            $null = Wait-WgLabHandshake -Lab $lab -TimeoutSeconds 15
            Set-WgLabKeepalive -Lab $lab -Seconds $ka
            foreach ($traffic in $false, $true) {
                foreach ($side in 'client', 'server') {
                    $ping = $null
                    if ($traffic) {
                        # a steady ping through the tunnel for as long as the diagnoses run (bounded)
                        $psi = [Diagnostics.ProcessStartInfo]::new('ip')
                        foreach ($a in 'netns', 'exec', $lab.Namespaces.client, 'ping', '-n', '-q', '-i', '0.3', '-w', '120', $lab.Server.TunnelAddress) { $psi.ArgumentList.Add($a) }
                        $psi.RedirectStandardOutput = $true; $psi.RedirectStandardError = $true; $psi.UseShellExecute = $false
                        $ping = [Diagnostics.Process]::Start($psi)
                        Start-Sleep -Seconds 1
                    }
                    try {
                        $runs = Invoke-WgLabPwsh -Lab $lab -Node $side -TimeoutSeconds 300 -ArgumentList $using:HealthyRepeats -ErrorVariable childErrors -ErrorAction SilentlyContinue -ScriptBlock {
                            param($n)
                            foreach ($i in 1..$n) {
                                $sw = [Diagnostics.Stopwatch]::StartNew()
                                $snap = Join-Path ([IO.Path]::GetTempPath()) ("wgk-acc-" + [Guid]::NewGuid().ToString('N') + '.json')
                                $f = @(Invoke-WgDiagnosis -SnapshotPath $snap)
                                $t = $sw.Elapsed.TotalSeconds
                                $probed = 0
                                try { $probed = @((Get-Content -Raw $snap | ConvertFrom-Json).Interfaces.Probes).Count } catch { }
                                Remove-Item -LiteralPath $snap -ErrorAction SilentlyContinue
                                [pscustomobject]@{ Seconds = $t; Probed = $probed; Above = @($f | Where-Object Severity -ne 'Info' | ForEach-Object { "$($_.Severity) $($_.Cause): $($_.Summary)" }); Top = $f[0].Cause }
                            }
                        }
                        # an error the child wrote (a check that timed out under load) is a false alarm too
                        if ($childErrors) { [pscustomobject]@{ Keepalive = $(if ($ka) { "$ka s" } else { 'off' }); Traffic = $traffic; Side = $side; Top = 'error'; FalseAlarm = $true; Above = "error: $($childErrors[0])"; Seconds = 0; Probed = 0 } }
                        foreach ($r in $runs) {
                            [pscustomobject]@{ Keepalive = $(if ($ka) { "$ka s" } else { 'off' }); Traffic = $traffic; Side = $side; Top = $r.Top; FalseAlarm = ($r.Above.Count -gt 0); Above = ($r.Above -join '; '); Seconds = [math]::Round($r.Seconds, 1); Probed = $r.Probed }
                        }
                    }
                    finally {
                        if ($ping) { if (-not $ping.HasExited) { $ping.Kill() }; $null = $ping.WaitForExit(2000); $ping.Dispose() }
                    }
                }
            }
        }
        catch { [pscustomobject]@{ Keepalive = "$ka"; Traffic = $null; Side = $null; Top = $null; FalseAlarm = $true; Above = "benchmark error: $_"; Seconds = 0; Probed = 0 } }
        finally { if ($lab) { Remove-WgLab -Lab $lab } }
    }
}

if ($faultRows) {
    ''
    'Faults (fault x side -> expected Cause, top Cause, repaired, TCP after repair):'
    $faultRows | Sort-Object Fault | Format-Table -AutoSize -Wrap @{ n = 'Fault'; e = { $_.Fault } }, Side, Expected,
        @{ n = 'Top Cause'; e = { "$($_.Top) ($($_.Severity))" } }, @{ n = 'Right'; e = { if ($_.Top -eq $_.Expected) { 'yes' } else { 'NO' } } },
        Repaired, @{ n = 'TCP after'; e = { if ($_.TcpAfter) { 'yes' } else { 'no' } } }, @{ n = 's'; e = { $_.Seconds } }, Note | Out-String -Width 220
}
if ($healthyRows) {
    'Healthy runs:'
    $healthyRows | Format-Table -AutoSize Keepalive, Traffic, Side, Top, @{ n = 'False alarm'; e = { if ($_.FalseAlarm) { 'YES' } else { 'no' } } }, Probed, Seconds, Above | Out-String -Width 220
    $two = @($healthyRows | Where-Object { $_.Probed -eq 0 -and $_.Seconds -gt 0 } | ForEach-Object Seconds | Sort-Object)
    $one = @($healthyRows | Where-Object { $_.Probed -gt 0 } | ForEach-Object Seconds | Sort-Object)
    $med = { param($v) if ($v.Count) { '{0:0.0} s' -f $v[[int][math]::Floor(($v.Count - 1) / 2)] } else { '-' } }
    "Healthy diagnosis time (median, engine inside the node): counters already two-way, no probe: $(& $med $two) ($($two.Count) runs); probe needed: $(& $med $one) ($($one.Count) runs)"
}
$right = @($faultRows | Where-Object { $_.Top -eq $_.Expected }).Count
$false_ = @($healthyRows | Where-Object FalseAlarm).Count
"Run time: {0:0} s" -f ([DateTime]::UtcNow - $started).TotalSeconds
"accuracy: $right/$(@($faultRows).Count) right, $false_ false alarms in $(@($healthyRows).Count) healthy runs"
