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
    EndpointBlackholed         = @{ Side = 'client'; Cause = 'EndpointUnreachable' }
    DdnsMovedFreshHandshake    = @{ Side = 'client'; Cause = 'StaleEndpoint' }
    AllowedIpsConflict         = @{ Side = 'server'; Cause = 'AllowedIpsConflict' }
    ListenPortInUse            = @{ Side = 'server'; Cause = 'ListenPortInUse' }
    # the symptom takes a few seconds to show (the twin's first handshake): wait for it (bounded) before the diagnosis
    SharedKeyPair              = @{ Side = 'server'; Cause = 'SharedKeyPair'; Symptom = 'param($lab) $seen = @{}; foreach ($n in 1..8) { foreach ($l in (Invoke-WgLabCommand -Lab $lab -Node server -Command ''wg'', ''show'', $lab.Server.Interface, ''endpoints'') -split "`n") { if ($l.Trim()) { $seen[$l.Trim()] = 1 } }; if ($seen.Count -ge 2) { return $true }; Start-Sleep -Milliseconds 500 }; $false' }
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
    # tests/lab/Faults/Conntrack.ps1, Mtu.ps1, Subnet.ps1
    StaleConntrack             = @{ Side = 'client'; Cause = 'StaleConntrack' }
    # only the deep diagnosis captures the SYNs; the transfer that stalls is the one towards the client
    MssClampMissing            = @{ Side = 'server'; Cause = 'MssClampMissing'; Deep = $true; TcpDown = $true }
    LocalSubnetConflict        = @{ Side = 'client'; Cause = 'LocalSubnetConflict' }
}
# Not faults: WireGuard silent by design (the healthy runs cover it).
$NotFaults = @('IdlePeer')
# Faults made between the two hosts (on the router): one host alone cannot tell them apart, the diagnosis needs
# the other end too (Invoke-WgDiagnosis -PeerSession over SSH remoting, tests/lab/WgLabRemote.psm1). They are
# not run here; the remoting lab tests diagnose them from both ends and repair the repairable one.
$TwoEnds = [ordered]@{
    UpstreamDrop   = @{ Side = 'client, server'; Cause = 'UpstreamFilter'; Test = "Remoting.Lab.Tests.ps1: 'sees an upstream drop on the router as UpstreamFilter (Error) from either end'" }
    ReturnPathDrop = @{ Side = 'client'; Cause = 'ReturnPathBlocked'; Test = "Remoting.Lab.Tests.ps1: 'sees answers dropped on the way back as ReturnPathBlocked'" }
    NatNoKeepalive = @{ Side = 'server'; Cause = 'NoKeepaliveBehindNat'; Test = "Remoting.Lab.Tests.ps1: 'finds a client behind NAT without keepalive, repairs it over the session, and the server then reaches the idle client'" }
}

Import-Module $LabModule -Force
if (-not (Test-WgLabPrerequisite)) { throw "The accuracy benchmark needs the lab: $(Test-WgLabPrerequisite -Reason)" }

# The cases: every lab fault, once per side where it shows (InterfaceDown on both).
$cases = [System.Collections.Generic.List[object]]::new()
$twoEndRows = [System.Collections.Generic.List[object]]::new()
# -File passes a comma list as one string
$Fault = @($Fault | ForEach-Object { $_ -split ',' } | ForEach-Object { $_.Trim() } | Where-Object { $_ })
foreach ($lf in Get-WgLabFault) {
    if ($lf.Name -in $NotFaults) { continue }
    if (-not ($Fault | Where-Object { $lf.Name -like $_ })) { continue }
    if ($TwoEnds.Contains($lf.Name)) {
        $twoEndRows.Add([pscustomobject]@{ Fault = $lf.Name; Side = $TwoEnds[$lf.Name].Side; Expected = $TwoEnds[$lf.Name].Cause; 'Covered by' = $TwoEnds[$lf.Name].Test })
        continue
    }
    if (-not ($Fault | Where-Object { $lf.Name -like $_ })) { continue }
    $keys = @($Expected.Keys | Where-Object { $_ -eq $lf.Name -or ($Expected[$_].Contains('Fault') -and $Expected[$_].Fault -eq $lf.Name) })
    if ($keys.Count -eq 0) {
        $side = if ($lf.Side -in 'client', 'server') { $lf.Side } else { 'client' }
        $cases.Add([pscustomobject]@{ Name = $lf.Name; Fault = $lf.Name; Side = $side; Node = 'client'; Cause = '(undeclared)'; HostName = $false; BothEnds = $false; Deep = $false; Symptom = $null; TcpDown = $false })
        continue
    }
    foreach ($k in $keys) {
        $e = $Expected[$k]
        $cases.Add([pscustomobject]@{
                Name = $k; Fault = $lf.Name; Side = $e.Side; Node = $(if ($e.Contains('Node')) { $e.Node } else { 'client' }); Cause = $e.Cause
                HostName = [bool]$e['HostName']; BothEnds = [bool]$e['BothEnds']; Deep = [bool]$e['Deep']; Symptom = $e['Symptom']; TcpDown = [bool]$e['TcpDown']
            })
    }
}

$started = [DateTime]::UtcNow
# The load average while the benchmark runs (the machine may be shared): sampled every 5 s on a thread.
$loadSamples = [System.Collections.Concurrent.ConcurrentQueue[double]]::new()
$loadBefore = try { ([System.IO.File]::ReadAllText('/proc/loadavg') -split ' ')[0..2] -join ' ' } catch { '?' }
$loadJob = Start-ThreadJob -ArgumentList $loadSamples -ScriptBlock {
    param($q)
    while ($true) { try { $q.Enqueue([double](([System.IO.File]::ReadAllText('/proc/loadavg') -split ' ')[0])) } catch { }; Start-Sleep -Seconds 5 }
}
Write-Host "Load average before: $loadBefore ($([Environment]::ProcessorCount) CPUs)"
# A lab that fails reports in its row; an error one runspace writes must not end the whole benchmark.
$ErrorActionPreference = 'Continue'
$faultRows = @()
if (-not $SkipFaults -and $cases.Count) {
    Write-Host "Accuracy: $($cases.Count) fault cases, $ThrottleLimit labs at a time..."
    $faultRows = $cases | ForEach-Object -ThrottleLimit $ThrottleLimit -Parallel {
        $case = $_
        $env:WGT_MODULE = $using:ModulePath
        Import-Module $using:LabModule -Force
        $row = [ordered]@{ Fault = $case.Name; Side = $case.Side; Expected = $case.Cause; Top = $null; Severity = $null; Repaired = 'not repairable'; TcpAfter = $false; TcpError = $null; Seconds = 0; Note = $null; Evidence = @() }
        $sw = [Diagnostics.Stopwatch]::StartNew()
        $lab = $null
        try {
            $lab = if ($case.HostName) { New-WgLab -EndpointHostName } else { New-WgLab }
            $null = Wait-WgLabHandshake -Lab $lab -TimeoutSeconds 15
            Add-WgLabFault -Lab $lab -Fault $case.Fault -Node $case.Node
            $symptomNote = $null
            if ($case.Symptom) {
                $deadline = [DateTime]::UtcNow.AddSeconds(20)
                $shown = $false
                while (-not $shown -and [DateTime]::UtcNow -lt $deadline) { $shown = [bool](& ([scriptblock]::Create($case.Symptom)) $lab) }
                if (-not $shown) { $symptomNote = 'the symptom did not show within 20 s' }
            }
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
                    Evidence = @($top.Evidence)
                }
            }
            $row.Top = $r.Top; $row.Severity = $r.Severity; $row.Evidence = @($r.Evidence)
            if ($r.CanRepair) { $row.Repaired = if ($r.Verified) { 'yes' } else { 'no' } }
            if ($symptomNote) { $row.Note = $symptomNote }
            elseif ($r.RepairError) { $row.Note = $r.RepairError }
            elseif ($r.Others) { $row.Note = 'then: ' + ($r.Others -join ', ') }
            $null = Wait-WgLabHandshake -Lab $lab -TimeoutSeconds 8
            $tcp = if ($case.TcpDown) { Test-WgLabTcp -Lab $lab -From inet -Node client -To $lab.Client.TunnelAddress -TimeoutSeconds 10 } else { Test-WgLabTcp -Lab $lab -TimeoutSeconds 10 }
            $row.TcpAfter = $tcp.Success; $row.TcpError = $tcp.Error
        }
        catch { $row.Note = "benchmark error: $_" }
        finally {
            if ($lab) { Remove-WgLab -Lab $lab }
            $row.Seconds = [math]::Round($sw.Elapsed.TotalSeconds)
        }
        Write-Host ("  {0,-28} {1,-6} expected {2,-24} top {3,-24} repaired {4,-14} TCP after {5,-3} {6,4} s" -f $row.Fault, $row.Side, $row.Expected, "$($row.Top)", $row.Repaired, $(if ($row.TcpAfter) { 'yes' } else { 'no' }), $row.Seconds)
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
                                $window = $null; $collect = $null
                                try {
                                    $sj = Get-Content -Raw $snap | ConvertFrom-Json
                                    $probed = @($sj.Interfaces | ForEach-Object { @($_.Probes | Where-Object { $_ -and $_.WasSent }).Count } | Measure-Object -Sum).Sum
                                    $smp = @($sj.Interfaces[0].Samples)
                                    if ($smp.Count -ge 2) { $window = ([datetime]$smp[-1].Taken - [datetime]$smp[0].Taken).TotalSeconds }
                                    $collect = ([datetime]$sj.CompletedAt - [datetime]$sj.CollectedAt).TotalSeconds
                                }
                                catch { }
                                Remove-Item -LiteralPath $snap -ErrorAction SilentlyContinue
                                [pscustomobject]@{ Seconds = $t; Probed = $probed; Window = $window; Collect = $collect; Above = @($f | Where-Object Severity -ne 'Info' | ForEach-Object { "$($_.Severity) $($_.Cause): $($_.Summary)" }); Top = $f[0].Cause }
                            }
                        }
                        # an error the child wrote (a check that timed out under load) is a false alarm too
                        if ($childErrors) { [pscustomobject]@{ Keepalive = $(if ($ka) { "$ka s" } else { 'off' }); Traffic = $traffic; Side = $side; Top = 'error'; FalseAlarm = $true; Above = "error: $($childErrors[0])"; Seconds = 0; Probed = 0; Window = $null; Collect = $null } }
                        foreach ($r in $runs) {
                            [pscustomobject]@{ Keepalive = $(if ($ka) { "$ka s" } else { 'off' }); Traffic = $traffic; Side = $side; Top = $r.Top; FalseAlarm = ($r.Above.Count -gt 0); Above = ($r.Above -join '; '); Seconds = [math]::Round($r.Seconds, 1); Probed = $r.Probed; Window = $(if ($null -ne $r.Window) { [math]::Round($r.Window, 1) }); Collect = $(if ($null -ne $r.Collect) { [math]::Round($r.Collect, 1) }) }
                        }
                    }
                    finally {
                        if ($ping) { if (-not $ping.HasExited) { $ping.Kill() }; $null = $ping.WaitForExit(2000); $ping.Dispose() }
                    }
                }
            }
        }
        catch { [pscustomobject]@{ Keepalive = "$ka"; Traffic = $null; Side = $null; Top = $null; FalseAlarm = $true; Above = "benchmark error: $_"; Seconds = 0; Probed = 0; Window = $null; Collect = $null } }
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
$odd = @($faultRows | Where-Object { $_.Top -ne $_.Expected -or ($_.Repaired -eq 'yes' -and -not $_.TcpAfter) -or $_.Repaired -eq 'no' })
if ($odd) {
    'Wrong verdicts and repairs without TCP afterwards, with the top finding''s evidence:'
    foreach ($o in $odd) {
        "  $($o.Fault) ($($o.Side)): top $($o.Top), repaired $($o.Repaired), TCP after $(if ($o.TcpAfter) { 'yes' } else { "no ($($o.TcpError))" })"
        foreach ($e in $o.Evidence) { "      $e" }
    }
    ''
}
if ($twoEndRows.Count) {
    'Two-end faults, not run here (made on the router between the hosts: the diagnosis needs a remoting session to the other end); covered by the remoting lab tests:'
    $twoEndRows | Format-Table -AutoSize -Wrap Fault, Side, Expected, 'Covered by' | Out-String -Width 220
}
if ($healthyRows) {
    'Healthy runs:'
    $healthyRows | Format-Table -AutoSize Keepalive, Traffic, Side, Top, @{ n = 'False alarm'; e = { if ($_.FalseAlarm) { 'YES' } else { 'no' } } }, Probed, @{ n = 'Sample s'; e = { $_.Window } }, @{ n = 'Collect s'; e = { $_.Collect } }, Seconds, Above | Out-String -Width 220
    '(Sample s: between the two samples of the counters, 3 s asked, shorter when two-way traffic ended it early; Collect s: the whole snapshot; Seconds: the whole Invoke-WgDiagnosis.)'
    $two = @($healthyRows | Where-Object { $_.Probed -eq 0 -and $_.Seconds -gt 0 } | ForEach-Object Seconds | Sort-Object)
    $one = @($healthyRows | Where-Object { $_.Probed -gt 0 } | ForEach-Object Seconds | Sort-Object)
    $med = { param($v) if ($v.Count) { '{0:0.0} s' -f $v[[int][math]::Floor(($v.Count - 1) / 2)] } else { '-' } }
    $max = { param($v) if ($v.Count) { '{0:0.0} s' -f $v[-1] } else { '-' } }
    "Healthy diagnosis time (Invoke-WgDiagnosis inside the node, under the load below): counters already two-way, no probe: median $(& $med $two), max $(& $max $two) ($($two.Count) runs); probe needed: median $(& $med $one), max $(& $max $one) ($($one.Count) runs)"
}
$right = @($faultRows | Where-Object { $_.Top -eq $_.Expected }).Count
$false_ = @($healthyRows | Where-Object FalseAlarm).Count
$repairable = @($faultRows | Where-Object { $_.Repaired -ne 'not repairable' })
$repairedTcp = @($repairable | Where-Object { $_.Repaired -eq 'yes' -and $_.TcpAfter }).Count
Stop-Job $loadJob -ErrorAction SilentlyContinue; Remove-Job $loadJob -Force -ErrorAction SilentlyContinue
$loads = @($loadSamples.ToArray() | Where-Object { $_ -ge 0 } | Sort-Object)
$loadText = if ($loads.Count) { 'median {0:0.0}, max {1:0.0} over {2} samples' -f $loads[[int][math]::Floor(($loads.Count - 1) / 2)], $loads[-1], $loads.Count } else { '?' }
if ($faultRows) { "Repairs: $repairedTcp/$($repairable.Count) repairable faults repaired, verified and carrying TCP afterwards" }
"Load average (1 min) during the run: $loadText; before: $loadBefore; $([Environment]::ProcessorCount) CPUs, $ThrottleLimit labs at a time"
"Run time: {0:0} s" -f ([DateTime]::UtcNow - $started).TotalSeconds
"accuracy: $right/$(@($faultRows).Count) right, $false_ false alarms in $(@($healthyRows).Count) healthy runs"
