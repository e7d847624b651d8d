#requires -Version 7.0
<#
.SYNOPSIS
    Builds, tests, packages and demonstrates the WgTroubleshoot module.
.DESCRIPTION
    Tasks:
      Build    compile the module and stage it in out/WgTroubleshoot/<version>/
      Help     regenerate en-US help from docs/ and the compiled cmdlets (fails when they disagree)
      Test     Build, then xunit and Pester (lab tests included when run as root); the last line
               printed is "N passed, N failed"
      Package  Build, then a .nupkg in out/ that the PowerShell Gallery accepts
      Demo     Build, then the main job: diagnose (and, as root, repair) a real lab tunnel
      Bench    the benchmarks under bench/
      Accuracy the accuracy benchmark (bench/Measure-Accuracy.ps1): every lab fault diagnosed, repaired
               and checked with TCP, and false alarms on healthy tunnels (root, lab tools)
      Clean    remove out/ and the bin/obj folders
.EXAMPLE
    dotnet tool restore; dotnet pwsh ./build.ps1 Test
#>
[CmdletBinding()]
param(
    [Parameter(Position = 0)]
    [ValidateSet('Build', 'Help', 'Test', 'Package', 'Demo', 'Bench', 'Accuracy', 'Clean', 'NewHelpMarkdown')]
    [string[]] $Task = 'Build',

    [ValidateSet('Debug', 'Release')]
    [string] $Configuration = 'Release',

    # Pester tag filters, for a quicker run while developing (e.g. -ExcludeTag Lab).
    [string[]] $Tag,
    [string[]] $ExcludeTag,
    # Only these Pester files (paths or names under tests/pester), for a quicker run while developing.
    [string[]] $PesterFile,
    # Skip xunit or Pester in Test.
    [switch] $SkipXunit,
    [switch] $SkipPester
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version 3.0
$Root = $PSScriptRoot
$ModuleName = 'WgTroubleshoot'
$Manifest = Import-PowerShellDataFile (Join-Path $Root "$ModuleName.psd1")
$Version = $Manifest.ModuleVersion
$OutRoot = Join-Path $Root 'out'
$Stage = Join-Path $OutRoot "$ModuleName/$Version"
$env:DOTNET_CLI_TELEMETRY_OPTOUT = '1'
$env:DOTNET_NOLOGO = '1'
$env:DOTNET_SKIP_FIRST_TIME_EXPERIENCE = '1'

function Invoke-Native {
    param([string] $Command, [string[]] $Arguments)
    Write-Host "> $Command $($Arguments -join ' ')" -ForegroundColor DarkGray
    & $Command @Arguments
    if ($LASTEXITCODE -ne 0) { throw "'$Command $($Arguments -join ' ')' failed with exit code $LASTEXITCODE" }
}

function Get-PesterModulePath {
    # Pester comes from NuGet through build/deps/deps.csproj (PackageDownload), not from a gallery.
    $packages = if ($env:NUGET_PACKAGES) { $env:NUGET_PACKAGES } else { Join-Path ([Environment]::GetFolderPath('UserProfile')) '.nuget/packages' }
    $psd1 = Join-Path $packages 'pester/6.2.0/tools/Pester.psd1'
    if (-not (Test-Path $psd1)) {
        Invoke-Native dotnet @('restore', (Join-Path $Root 'build/deps/deps.csproj'), '--verbosity', 'quiet')
    }
    if (-not (Test-Path $psd1)) { throw "Pester 6.2.0 was not restored to $psd1" }
    $psd1
}

function Invoke-Build {
    # The engine project builds the module assembly too; both get the manifest's version.
    Invoke-Native dotnet @('build', (Join-Path $Root 'src/WgTroubleshoot.Engine/WgTroubleshoot.Engine.csproj'), '-c', $Configuration, "-p:Version=$Version", '--nologo', '-v', 'q', '-clp:ErrorsOnly')
    $bin = Join-Path $Root "src/WgTroubleshoot.Engine/bin/$Configuration/netstandard2.0"
    if (Test-Path $Stage) { Remove-Item $Stage -Recurse -Force }
    $deps = Join-Path $Stage 'Dependencies'
    $null = New-Item -ItemType Directory -Path $Stage, (Join-Path $Stage 'en-US'), $deps -Force
    Copy-Item (Join-Path $Root "$ModuleName.psd1") $Stage
    Copy-Item (Join-Path $Root 'src/WgTroubleshoot/Formats/*.format.ps1xml') $Stage
    Copy-Item (Join-Path $Root 'LICENSE') $Stage
    # Layout (see src/WgTroubleshoot/Loading/DependencyLoader.cs): the cmdlet assembly beside the manifest;
    # the engine and the third-party assemblies in Dependencies/, where PowerShell never loads anything by
    # itself, so that the module loads them into a context of its own. PowerShell's own assemblies never ship.
    foreach ($dll in Get-ChildItem $bin -Filter *.dll) {
        if ($dll.Name -like 'System.Management.Automation*' -or $dll.Name -like 'Microsoft.PowerShell*') { continue }
        $target = if ($dll.Name -eq "$ModuleName.dll") { $Stage } else { $deps }
        Copy-Item $dll.FullName $target
    }
    $help = Join-Path $Root 'en-US'
    if (Test-Path $help) { Copy-Item (Join-Path $help '*') (Join-Path $Stage 'en-US') -Include '*.xml', '*.txt' -Force }
    Write-Host "Staged $ModuleName $Version in $Stage"
}

function Invoke-Help {
    $helpGen = Join-Path $Root 'build/HelpGen/HelpGen.csproj'
    if (-not (Test-Path $helpGen)) { Write-Host 'No help generator yet; skipping.'; return }
    Invoke-Native dotnet @('run', '--project', $helpGen, '-c', $Configuration, '--', '--assembly', (Join-Path $Stage "$ModuleName.dll"), '--docs', (Join-Path $Root 'docs'), '--out', (Join-Path $Root 'en-US'))
    Copy-Item (Join-Path $Root 'en-US/*') (Join-Path $Stage 'en-US') -Include '*.xml', '*.txt' -Force
}

function Get-TrxCounts([string] $Path) {
    [xml] $trx = Get-Content -Raw $Path
    $c = $trx.TestRun.ResultSummary.Counters
    [pscustomobject]@{ Passed = [int]$c.passed; Failed = [int]$c.failed + [int]$c.error + [int]$c.timeout + [int]$c.aborted; Skipped = [int]$c.notExecuted }
}

function Invoke-Test {
    $passed = 0; $failed = 0; $skipped = 0
    if (-not $SkipXunit) {
        $results = Join-Path $OutRoot 'test-results'
        if (Test-Path $results) { Remove-Item $results -Recurse -Force }
        & dotnet test (Join-Path $Root 'tests/WgTroubleshoot.Tests/WgTroubleshoot.Tests.csproj') -c $Configuration --nologo `
            --logger 'trx;LogFileName=xunit.trx' --logger 'console;verbosity=minimal' --results-directory $results
        $xunitExit = $LASTEXITCODE
        $trx = Join-Path $results 'xunit.trx'
        if (Test-Path $trx) {
            $x = Get-TrxCounts $trx
            $passed += $x.Passed; $failed += $x.Failed; $skipped += $x.Skipped
            Write-Host "xunit: $($x.Passed) passed, $($x.Failed) failed, $($x.Skipped) skipped"
        }
        elseif ($xunitExit -ne 0) {
            Write-Host 'xunit: the test project did not build or run' -ForegroundColor Red
            $failed += 1
        }
    }
    if (-not $SkipPester) {
        $pesterPsd1 = Get-PesterModulePath
        $env:WGT_MODULE = Join-Path $Stage "$ModuleName.psd1"
        $env:WGT_PWSH = Join-Path $PSHOME $(if ($IsWindows) { 'pwsh.exe' } else { 'pwsh' })
        $env:WGT_ROOT = $Root
        # Pester runs in its own process so that the module loaded for testing never locks the build.
        $runner = Join-Path $Root 'tests/Invoke-PesterRun.ps1'
        $pesterArgs = @('-NoProfile', '-NonInteractive', '-File', $runner, '-PesterPath', $pesterPsd1, '-ResultPath', (Join-Path $OutRoot 'pester-counts.json'))
        if ($Tag) { $pesterArgs += @('-Tag', ($Tag -join ',')) }
        if ($ExcludeTag) { $pesterArgs += @('-ExcludeTag', ($ExcludeTag -join ',')) }
        if ($PesterFile) { $pesterArgs += @('-File', ($PesterFile -join ',')) }
        & $env:WGT_PWSH @pesterArgs
        $countsFile = Join-Path $OutRoot 'pester-counts.json'
        if (Test-Path $countsFile) {
            $p = Get-Content -Raw $countsFile | ConvertFrom-Json
            $passed += $p.Passed; $failed += $p.Failed; $skipped += $p.Skipped
            Write-Host "Pester: $($p.Passed) passed, $($p.Failed) failed, $($p.Skipped) skipped"
        }
        else {
            Write-Host 'Pester: the run ended without results' -ForegroundColor Red
            $failed += 1
        }
    }
    $script:TestFailed = $failed
    # CI reads this exact line; keep it last.
    Write-Host "$passed passed, $failed failed, $skipped skipped"
}

function Invoke-Package {
    # Publish-PSResource to a folder repository writes the .nupkg the gallery would receive from the staged
    # module: its nuspec comes from the manifest (version, description, authors, tags, licence and project
    # links, release notes). tests/pester/Install.Tests.ps1 publishes, unpacks and installs the same way.
    $nupkgDir = Join-Path $OutRoot 'packages'
    $null = New-Item -ItemType Directory -Force $nupkgDir
    $repoName = "WgTroubleshootBuild$PID"
    Get-ChildItem $nupkgDir -Filter "$ModuleName.*.nupkg" -ErrorAction SilentlyContinue | Remove-Item -Force
    # PSResourceGet and NuGet keep their settings in these folders; .NET gives an empty path for a missing
    # one, and the settings would then be written under the current directory.
    foreach ($folder in 'LocalApplicationData', 'ApplicationData') {
        $path = [Environment]::GetFolderPath($folder, 'DoNotVerify')
        if ($path -and -not (Test-Path $path)) { $null = New-Item -ItemType Directory -Force $path }
    }
    Register-PSResourceRepository -Name $repoName -Uri $nupkgDir -Trusted -ErrorAction Stop
    try {
        Publish-PSResource -Path $Stage -Repository $repoName -SkipDependenciesCheck -ErrorAction Stop
    }
    finally {
        Unregister-PSResourceRepository -Name $repoName -ErrorAction SilentlyContinue
    }
    $nupkg = Get-ChildItem $nupkgDir -Filter "$ModuleName.$Version.nupkg"
    if (-not $nupkg) { throw "Publish-PSResource wrote no $ModuleName.$Version.nupkg to $nupkgDir" }
    # What must never ship: PowerShell's own assemblies (PowerShellStandard.Library is compile-only).
    Add-Type -AssemblyName System.IO.Compression.FileSystem
    $zip = [IO.Compression.ZipFile]::OpenRead($nupkg.FullName)
    try { $entries = @($zip.Entries | ForEach-Object FullName) } finally { $zip.Dispose() }
    $bad = @($entries | Where-Object { $_ -match 'System\.Management\.Automation|PowerShellStandard|Microsoft\.PowerShell' })
    if ($bad) { throw "The package contains assemblies that must not ship: $($bad -join ', ')" }
    foreach ($required in "$ModuleName.psd1", "$ModuleName.dll", 'Dependencies/WgTroubleshoot.Engine.dll', 'en-US/WgTroubleshoot.dll-Help.xml') {
        if ($required -notin $entries) { throw "The package lacks $required" }
    }
    Write-Host "Package: $($nupkg.FullName)"
    $entries | Where-Object { $_ -notmatch '^(_rels/|package/|\[Content_Types\])' } | Sort-Object | ForEach-Object { Write-Host "  $_" }
}

function Invoke-Demo {
    $env:WGT_MODULE = Join-Path $Stage "$ModuleName.psd1"
    $env:WGT_ROOT = $Root
    & (Join-Path $PSHOME $(if ($IsWindows) { 'pwsh.exe' } else { 'pwsh' })) -NoProfile -NonInteractive -File (Join-Path $Root 'demo/Invoke-Demo.ps1')
    if ($LASTEXITCODE -ne 0) { throw "The demo failed (exit code $LASTEXITCODE)." }
}

$script:TestFailed = 0
foreach ($t in $Task) {
    switch ($t) {
        'Clean' {
            foreach ($p in @($OutRoot) + (Get-ChildItem $Root -Recurse -Directory -Include bin, obj | Select-Object -ExpandProperty FullName)) {
                if (Test-Path $p) { Remove-Item $p -Recurse -Force }
            }
        }
        'Build' { Invoke-Build; Invoke-Help }
        'Help' { Invoke-Build; Invoke-Help }
        'Test' { Invoke-Build; Invoke-Help; Invoke-Test }
        'Package' { Invoke-Build; Invoke-Help; Invoke-Package }
        'Demo' { Invoke-Build; Invoke-Help; Invoke-Demo }
        'Bench' { Invoke-Build; & (Join-Path $PSHOME 'pwsh') -NoProfile -File (Join-Path $Root 'bench/Invoke-Bench.ps1') -ModulePath (Join-Path $Stage "$ModuleName.psd1") }
        'Accuracy' { Invoke-Build; & (Join-Path $PSHOME 'pwsh') -NoProfile -File (Join-Path $Root 'bench/Measure-Accuracy.ps1') -ModulePath (Join-Path $Stage "$ModuleName.psd1") }
        'NewHelpMarkdown' {
            Invoke-Build
            Invoke-Native dotnet @('run', '--project', (Join-Path $Root 'build/HelpGen/HelpGen.csproj'), '-c', $Configuration, '--', '--assembly', (Join-Path $Stage "$ModuleName.dll"), '--docs', (Join-Path $Root 'docs'), '--new-markdown')
        }
    }
}
if ($script:TestFailed -gt 0) { exit 1 }
