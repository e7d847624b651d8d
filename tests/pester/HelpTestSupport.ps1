# Shared by Help.Tests.ps1 and HelpGen.Tests.ps1 (dot-sourced; not a test file itself).

$script:RepoRoot = if ($env:WGT_ROOT) { $env:WGT_ROOT } else { (Resolve-Path (Join-Path $PSScriptRoot '../..')).Path }
$script:ChildPwsh = if ($env:WGT_PWSH) { $env:WGT_PWSH } else { Join-Path $PSHOME $(if ($IsWindows) { 'pwsh.exe' } else { 'pwsh' }) }

function Invoke-DotnetBuild([string] $Project) {
    $out = & dotnet build $Project -c Release --nologo -v q -clp:ErrorsOnly 2>&1
    if ($LASTEXITCODE -ne 0) { throw "dotnet build $Project failed:`n$($out -join "`n")" }
}

# Builds the help generator and the test fixture assembly (signatures only) once per process.
function Initialize-HelpGen {
    if ($script:HelpGenDll) { return }
    Invoke-DotnetBuild (Join-Path $RepoRoot 'build/HelpGen/HelpGen.csproj')
    Invoke-DotnetBuild (Join-Path $RepoRoot 'tests/HelpGen.Fixture/HelpGen.Fixture.csproj')
    $script:HelpGenDll = Join-Path $RepoRoot 'build/HelpGen/bin/Release/net10.0/HelpGen.dll'
    $script:FixtureDll = Join-Path $RepoRoot 'tests/HelpGen.Fixture/bin/Release/netstandard2.0/WgTroubleshoot.HelpFixture.dll'
    $script:FixtureDocs = Join-Path $RepoRoot 'tests/HelpGen.Fixture/docs'
}

# Runs the generator; returns its exit code and everything it printed.
function Invoke-HelpGen([string[]] $Arguments) {
    Initialize-HelpGen
    $output = & dotnet $script:HelpGenDll @Arguments 2>&1 | ForEach-Object { "$_" }
    [pscustomobject]@{ ExitCode = $LASTEXITCODE; Output = ($output -join "`n") }
}

# The fixture as an installed-style module (<root>/<name>/<version>/), help generated from docs/.
function New-HelpFixtureModule([string] $Root) {
    Initialize-HelpGen
    $base = Join-Path $Root 'WgTroubleshoot.HelpFixture/0.1.0'
    $null = New-Item -ItemType Directory -Force $base
    Copy-Item $script:FixtureDll $base
    $r = Invoke-HelpGen @('--assembly', (Join-Path $base 'WgTroubleshoot.HelpFixture.dll'), '--docs', (Join-Path $RepoRoot 'docs'), '--docs', $script:FixtureDocs, '--out', (Join-Path $base 'en-US'))
    if ($r.ExitCode -ne 0) { throw "HelpGen failed for the fixture:`n$($r.Output)" }
    Join-Path $base 'WgTroubleshoot.HelpFixture.dll'
}

# Imports a module in a child pwsh and returns, as hashtables, what Get-Command and Get-Help say
# about each exported cmdlet, and the about_WgTroubleshoot text (imported, and found via PSModulePath).
function Get-HelpFacts([string] $ModulePath) {
    $collector = Join-Path $PSScriptRoot 'Get-HelpFacts.ps1'
    $json = & $script:ChildPwsh -NoProfile -NonInteractive -File $collector -ModulePath $ModulePath
    if ($LASTEXITCODE -ne 0) { throw "Collecting help facts for $ModulePath failed:`n$($json -join "`n")" }
    ($json -join "`n") | ConvertFrom-Json -AsHashtable
}
