#requires -Version 7.0
<#
.SYNOPSIS
    One case of the hub-scale benchmark, in a fresh pwsh of its own, so that the process's peak memory
    (VmHWM in /proc/self/status) belongs to that case alone. Invoke-Bench.ps1 runs it inside the
    benchmark's network namespace.
.DESCRIPTION
    Cases (each after Import-Module; the time excludes pwsh's start and the import):
      raw-dump            $raw = wg show IF dump                 (the baseline)
      Get-WgPeer          $x = Get-WgPeer -Interface IF
      Test-WgConfig       $x = Test-WgConfig -Path CONF           (the lint of every peer)
      Invoke-WgDiagnosis  $x = Invoke-WgDiagnosis -Interface IF
    Writes one JSON object to -ResultPath: the case, its time (ms), the number of objects it returned, the
    number of findings by cause and the peak memory (KiB).
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory)] [string] $ModulePath,
    [Parameter(Mandatory)] [ValidateSet('raw-dump', 'Get-WgPeer', 'Test-WgConfig', 'Invoke-WgDiagnosis')] [string] $Case,
    [Parameter(Mandatory)] [string] $Interface,
    [Parameter(Mandatory)] [string] $ResultPath,
    [string] $ConfigPath
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version 3.0
Import-Module $ModulePath

function Get-ProcStatusKiB([string] $Field) {
    $line = (Get-Content -LiteralPath /proc/self/status) -match "^${Field}:" | Select-Object -First 1
    if ($line -match '(\d+)\s*kB') { [long]$Matches[1] } else { $null }
}

$beforeKiB = Get-ProcStatusKiB VmHWM
$errors = @()
$sw = [Diagnostics.Stopwatch]::StartNew()
$out = switch ($Case) {
    'raw-dump' { $raw = wg show $Interface dump; $raw }
    'Get-WgPeer' { Get-WgPeer -Interface $Interface }
    'Test-WgConfig' { Test-WgConfig -Path $ConfigPath -ErrorAction SilentlyContinue -ErrorVariable +errors }
    'Invoke-WgDiagnosis' { Invoke-WgDiagnosis -Interface $Interface -ErrorAction SilentlyContinue -ErrorVariable +errors }
}
$sw.Stop()
$out = @($out)
$causes = [ordered]@{}
foreach ($o in $out) {
    $c = if ($o.PSObject.Properties['Cause']) { "$($o.Cause)" } elseif ($o.PSObject.Properties['Rule']) { "$($o.Rule)" } else { $null }
    if ($c) { $causes[$c] = 1 + $(if ($causes.Contains($c)) { $causes[$c] } else { 0 }) }
}
[ordered]@{
    Case        = $Case
    Ms          = $sw.Elapsed.TotalMilliseconds
    Count       = $out.Count
    Type        = if ($out.Count) { $out[0].GetType().FullName } else { $null }
    Causes      = $causes
    Errors      = @($errors | ForEach-Object { "$($_.FullyQualifiedErrorId): $_" } | Select-Object -First 3)
    ImportHwmKiB = $beforeKiB
    PeakKiB     = Get-ProcStatusKiB VmHWM
} | ConvertTo-Json -Depth 4 | Set-Content -LiteralPath $ResultPath
