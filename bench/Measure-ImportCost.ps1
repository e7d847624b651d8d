#requires -Version 7.0
<#
.SYNOPSIS
    Measures what importing the module adds to a fresh pwsh start, and what the first use of its
    dependencies (loading the engine, YamlDotNet and BouncyCastle into the module's context) adds on top.
.DESCRIPTION
    Starts pwsh -NoProfile several times for each case, alternating the cases, and prints the median wall
    time of each and the differences to the bare start measured in the same run. To show what the import
    is made of, it also imports an empty script module (what PowerShell charges for any first import) and
    a copy of the module whose manifest has no FormatsToProcess (the difference to the full import is
    the format views: PowerShell rebuilds the session's whole format table, its own views included, when
    a module adds a format file, so that part hardly depends on the size of the module's own file).
.EXAMPLE
    dotnet pwsh ./bench/Measure-ImportCost.ps1 -ModulePath ./out/WgTroubleshoot/0.1.0/WgTroubleshoot.psd1
#>
param(
    [Parameter(Mandatory)] [string] $ModulePath,
    [int] $Runs = 9
)
$ErrorActionPreference = 'Stop'
$pwsh = Join-Path $PSHOME $(if ($IsWindows) { 'pwsh.exe' } else { 'pwsh' })
$psd1 = (Resolve-Path $ModulePath).Path -replace "'", "''"
$temp = Join-Path ([IO.Path]::GetTempPath()) "wgt-importcost-$PID"
$null = New-Item -ItemType Directory -Force $temp
try {
    $policy = Join-Path $temp 'policy.yaml'
    Set-Content $policy "interfaces:`n  wg0:`n    allowedRepairs: [Firewall]`n"
    $conf = Join-Path $temp 'wg0.conf'
    Set-Content $conf "[Interface]`nPrivateKey = yC7gETkvgjs1tJhb/4cQVIt8XOj49OVdxPPndYfOiEM=`n"
    $empty = Join-Path $temp 'Empty.psm1'
    Set-Content $empty 'function Get-Nothing { }'
    $noFormats = Join-Path $temp 'noformats'
    Copy-Item -Recurse (Split-Path (Resolve-Path $ModulePath).Path) $noFormats
    $noFormatsPsd1 = Join-Path $noFormats (Split-Path $ModulePath -Leaf)
    (Get-Content $noFormatsPsd1) -notmatch '^\s*FormatsToProcess\s*=' | Set-Content $noFormatsPsd1
    $cases = [ordered]@{
        'bare pwsh'              = '$null'
        'empty script module'    = "Import-Module '$($empty -replace "'", "''")'"
        'Import, no formats'     = "Import-Module '$($noFormatsPsd1 -replace "'", "''")'"
        'Import-Module'          = "Import-Module '$psd1'"
        'Import + first use'     = "Import-Module '$psd1'; `$null = [WgTroubleshoot.Remediation.RemediationPolicy]::Load('$policy'); `$null = Get-WgConfig -Path '$conf'"
    }
    $times = @{}
    foreach ($name in $cases.Keys) { $times[$name] = [Collections.Generic.List[double]]::new() }
    # One warm-up start of each, then alternate so that drift affects every case alike.
    foreach ($command in $cases.Values) { & $pwsh -NoProfile -NonInteractive -Command $command | Out-Null }
    for ($i = 0; $i -lt $Runs; $i++) {
        foreach ($name in $cases.Keys) {
            $sw = [Diagnostics.Stopwatch]::StartNew()
            & $pwsh -NoProfile -NonInteractive -Command ("`$ErrorActionPreference = 'Stop'; " + $cases[$name]) | Out-Null
            $sw.Stop()
            if ($LASTEXITCODE -ne 0) { throw "'$name' failed" }
            $times[$name].Add($sw.Elapsed.TotalMilliseconds)
        }
    }
    function Get-Median([double[]] $v) { $s = $v | Sort-Object; if ($s.Count % 2) { $s[[int][math]::Floor($s.Count / 2)] } else { ($s[$s.Count / 2 - 1] + $s[$s.Count / 2]) / 2 } }
    $bare = Get-Median $times['bare pwsh']
    foreach ($name in $cases.Keys) {
        $m = Get-Median $times[$name]
        [pscustomobject]@{ Case = $name; MedianMs = [math]::Round($m); OverBareMs = [math]::Round($m - $bare); Runs = $Runs }
    }
}
finally {
    Remove-Item $temp -Recurse -Force -ErrorAction SilentlyContinue
}
