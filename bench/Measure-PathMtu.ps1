#requires -Version 7.0
<#
.SYNOPSIS
    The measuring half of the path MTU benchmark; Invoke-Bench.ps1 runs it inside a lab's client namespace
    (ip netns exec NS pwsh -File Measure-PathMtu.ps1 ...).
.DESCRIPTION
    Times, on the same path and in the same process:
      parallel    Measure-WgPathMtu -Interface IF                    (the cmdlet as a user runs it: reads the
                                                                      interface, measures, probes the tunnel)
      sequential  PathMtuMeasurer with Strategy Sequential            (the baseline: the bisection of one
                                                                      probe at a time, same endpoint, same
                                                                      tunnel target, no state reading)
      tracepath   tracepath -n -m MaxHops ENDPOINT                    (iputils' own path MTU discovery)
    One warm-up run of the cmdlet first (its result names the endpoint, tunnel MTU and tunnel target the
    baseline uses), then the runs interleaved. Writes the timings (ms) and results as JSON to -ResultPath.
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory)] [string] $ModulePath,
    [Parameter(Mandatory)] [string] $Interface,
    [Parameter(Mandatory)] [string] $ResultPath,
    [int] $Runs = 3,
    [int] $BaselineRuns = 1,
    [int] $TracepathMaxHops = 3
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version 3.0
Import-Module $ModulePath

function Get-Summary($r, [double] $Ms) {
    [ordered]@{
        Ms                     = $Ms
        Status                 = "$($r.Status)"
        PathMtu                = $r.PathMtu
        RecommendedMtu         = $r.RecommendedMtu
        Blackhole              = [bool]$r.Blackhole
        FullSizePassesInTunnel = $r.FullSizePassesInTunnel
        Probes                 = $r.Probes
        Rounds                 = $r.Rounds
    }
}

function Invoke-Parallel {
    $sw = [Diagnostics.Stopwatch]::StartNew()
    $r = @(Measure-WgPathMtu -Interface $Interface)[0]
    $sw.Stop()
    Get-Summary $r $sw.Elapsed.TotalMilliseconds
}

$warm = @(Measure-WgPathMtu -Interface $Interface)[0]
if (-not $warm -or -not $warm.Destination) { throw "Measure-WgPathMtu -Interface $Interface returned no result." }
$destination = [ipaddress]$warm.Destination
$tunnelMtu = [Nullable[int]]$warm.TunnelMtu
$tunnelTarget = if ($warm.TunnelTarget) { [ipaddress]$warm.TunnelTarget } else { $null }

function Invoke-Sequential {
    $m = [WgTroubleshoot.Mtu.PathMtuMeasurer]::new([WgTroubleshoot.Native.NativeRunner]::new([Action[string]]$null), $null)
    $m.Strategy = [WgTroubleshoot.Mtu.MtuSearchStrategy]::Sequential
    $sw = [Diagnostics.Stopwatch]::StartNew()
    $r = $m.Measure($destination, $tunnelMtu, $tunnelTarget)
    $sw.Stop()
    Get-Summary $r $sw.Elapsed.TotalMilliseconds
}

function Invoke-Tracepath {
    $exe = (Get-Command tracepath -CommandType Application -ErrorAction SilentlyContinue | Select-Object -First 1)
    if (-not $exe) { return [ordered]@{ Ms = $null; PathMtu = $null; Output = 'tracepath is not installed (iputils-tracepath)' } }
    $psi = [Diagnostics.ProcessStartInfo]::new($exe.Source)
    foreach ($a in @('-n', '-m', "$TracepathMaxHops", "$destination")) { $psi.ArgumentList.Add($a) }
    $psi.RedirectStandardOutput = $true
    $psi.RedirectStandardError = $true
    $sw = [Diagnostics.Stopwatch]::StartNew()
    $p = [Diagnostics.Process]::Start($psi)
    try {
        $out = $p.StandardOutput.ReadToEndAsync()
        $null = $p.StandardError.ReadToEndAsync()
        if (-not $p.WaitForExit(120000)) { $p.Kill($true); throw 'tracepath did not finish within 120 s.' }
        $p.WaitForExit()
        $sw.Stop()
        $text = $out.Result
        $pmtu = $null
        $m = [regex]::Matches($text, 'pmtu (\d+)')
        if ($m.Count) { $pmtu = [int]$m[$m.Count - 1].Groups[1].Value }
        [ordered]@{ Ms = $sw.Elapsed.TotalMilliseconds; PathMtu = $pmtu; Reached = ($text -match 'reached'); Output = $text.Trim() }
    }
    finally { $p.Dispose() }
}

$parallel = [Collections.Generic.List[object]]::new()
$sequential = [Collections.Generic.List[object]]::new()
for ($i = 0; $i -lt [math]::Max($Runs, $BaselineRuns); $i++) {
    if ($i -lt $Runs) { $parallel.Add((Invoke-Parallel)) }
    if ($i -lt $BaselineRuns) { $sequential.Add((Invoke-Sequential)) }
}
$trace = Invoke-Tracepath

[ordered]@{
    Destination  = "$destination"
    TunnelMtu    = $tunnelMtu
    TunnelTarget = "$tunnelTarget"
    Warm         = Get-Summary $warm 0
    Parallel     = $parallel
    Sequential   = $sequential
    Tracepath    = $trace
} | ConvertTo-Json -Depth 5 | Set-Content -LiteralPath $ResultPath
