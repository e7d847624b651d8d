# Runs the Pester suites in tests/pester and writes the counts for build.ps1 to add up.
param(
    [Parameter(Mandatory)] [string] $PesterPath,
    [Parameter(Mandatory)] [string] $ResultPath,
    [string] $Tag,
    [string] $ExcludeTag,
    [string] $File
)
$ErrorActionPreference = 'Stop'
Import-Module $PesterPath -Force
$config = New-PesterConfiguration
$config.Run.Path = Join-Path $PSScriptRoot 'pester'
if ($File) {
    $config.Run.Path = @($File -split ',' | ForEach-Object {
        if (Test-Path $_) { (Resolve-Path $_).Path } else { Join-Path (Join-Path $PSScriptRoot 'pester') $_ }
    })
}
$config.Run.PassThru = $true
$config.Output.Verbosity = 'Detailed'
if ($Tag) { $config.Filter.Tag = $Tag -split ',' }
if ($ExcludeTag) { $config.Filter.ExcludeTag = $ExcludeTag -split ',' }
$result = Invoke-Pester -Configuration $config
# A container that failed outside an It (BeforeAll, a parse error) counts as a failure too.
$blockFailures = @($result.Containers | Where-Object { $_.Result -eq 'Failed' -and $_.FailedCount -eq 0 }).Count
[pscustomobject]@{
    Passed  = $result.PassedCount
    Failed  = $result.FailedCount + $blockFailures
    Skipped = $result.SkippedCount + $result.NotRunCount
} | ConvertTo-Json | Set-Content -Path $ResultPath
