#requires -Version 7.0
# The module as users get it: the staged module is published to a PSResource repository (a local folder),
# installed from there with Install-PSResource, and used in a new pwsh without Import-Module: commands
# auto-load by name, help and the about topic are there. The .nupkg itself is unpacked and checked for what
# the PowerShell Gallery needs and for what must not ship.
#
# Everything happens in child pwsh processes with a temporary HOME (and XDG folders), so the repository
# registration, the installed module and PSResourceGet's settings all live under one temporary folder and
# the user's own settings are never touched. On Windows, where the CurrentUser scope does not follow HOME,
# Save-PSResource into the temporary folder stands in for Install-PSResource.

BeforeAll {
    $script:ModulePath = $env:WGT_MODULE
    if (-not $ModulePath) { throw 'WGT_MODULE is not set: run the tests through build.ps1 Test.' }
    $script:ChildPwsh = if ($env:WGT_PWSH) { $env:WGT_PWSH } else { Join-Path $PSHOME $(if ($IsWindows) { 'pwsh.exe' } else { 'pwsh' }) }
    $script:Manifest = Import-PowerShellDataFile $ModulePath
    $script:Version = $Manifest.ModuleVersion

    $script:Temp = Join-Path ([IO.Path]::GetTempPath()) "wgt-install-$PID"
    if (Test-Path $Temp) { Remove-Item $Temp -Recurse -Force }
    $script:FakeHome = Join-Path $Temp 'home'
    $script:RepoDir = Join-Path $Temp 'repository'
    $script:SaveDir = Join-Path $Temp 'modules'
    $script:Unpacked = Join-Path $Temp 'unpacked'
    # The XDG folders must exist: .NET answers an empty path for a special folder that does not, and
    # PSResourceGet would then keep its settings relative to the working directory.
    $null = New-Item -ItemType Directory -Force $FakeHome, $RepoDir, $SaveDir,
        (Join-Path $FakeHome '.local/share'), (Join-Path $FakeHome '.config'), (Join-Path $FakeHome '.cache')
    $script:RepoName = "WgTroubleshootTest$PID"

    # The wg pubkey test vector, in a sample configuration for a real call.
    $script:ConfigPath = Join-Path $Temp 'wg0.conf'
    Set-Content -Path $ConfigPath -Value "[Interface]`nPrivateKey = yC7gETkvgjs1tJhb/4cQVIt8XOj49OVdxPPndYfOiEM=`nListenPort = 51820`n"
    $script:PublicKey = '7yMd9RKzpHKkZt9aHlGGCWAMqekfuz5tgvF6P8GHYl8='
    $script:PolicyPath = Join-Path $Temp 'policy.yaml'
    Set-Content -Path $PolicyPath -Value "interfaces:`n  wg0:`n    allowedRepairs: [Firewall]`n"

    # Runs a script in a new pwsh whose HOME and XDG folders are temporary, and whose PSModulePath holds only
    # pwsh's defaults (plus $ExtraModulePath); returns its output parsed from JSON.
    function Invoke-Child([string] $Script, [string] $ExtraModulePath) {
        $names = 'HOME', 'XDG_DATA_HOME', 'XDG_CONFIG_HOME', 'XDG_CACHE_HOME', 'PSModulePath'
        $saved = @{}
        foreach ($n in $names) { $saved[$n] = [Environment]::GetEnvironmentVariable($n) }
        try {
            $env:HOME = $FakeHome
            $env:XDG_DATA_HOME = Join-Path $FakeHome '.local/share'
            $env:XDG_CONFIG_HOME = Join-Path $FakeHome '.config'
            $env:XDG_CACHE_HOME = Join-Path $FakeHome '.cache'
            $env:PSModulePath = $ExtraModulePath
            # In the temporary folder, so that nothing a tool writes relative to the working directory lands elsewhere.
            Push-Location $Temp
            try { $out = & $ChildPwsh -NoProfile -NonInteractive -Command $Script 2>&1 }
            finally { Pop-Location }
            if ($LASTEXITCODE -ne 0) { throw "The child pwsh failed:`n$($out -join "`n")" }
            ($out -join "`n") | ConvertFrom-Json -AsHashtable
        }
        finally {
            foreach ($n in $names) { [Environment]::SetEnvironmentVariable($n, $saved[$n]) }
        }
    }

    function ConvertTo-Literal([string] $s) { "'" + ($s -replace "'", "''") + "'" }

    # Publish the staged module to the folder repository and install it from there, as users do.
    $stage = Split-Path $ModulePath
    $install = if ($IsWindows) {
        "Save-PSResource -Name WgTroubleshoot -Version $Version -Repository `$repo -Path $(ConvertTo-Literal $SaveDir) -TrustRepository -ErrorAction Stop"
    }
    else {
        "Install-PSResource -Name WgTroubleshoot -Version $Version -Repository `$repo -Scope CurrentUser -TrustRepository -ErrorAction Stop"
    }
    $script:Installed = Invoke-Child @"
`$ErrorActionPreference = 'Stop'
`$repo = $(ConvertTo-Literal $RepoName)
Register-PSResourceRepository -Name `$repo -Uri $(ConvertTo-Literal $RepoDir) -Trusted
Publish-PSResource -Path $(ConvertTo-Literal $stage) -Repository `$repo -SkipDependenciesCheck
`$found = Find-PSResource -Name WgTroubleshoot -Repository `$repo
$install
@{
    Repositories = @(Get-PSResourceRepository | ForEach-Object Name)
    Found        = "`$(`$found.Name) `$(`$found.Version)"
    Packages     = @(Get-ChildItem $(ConvertTo-Literal $RepoDir) -Filter *.nupkg | ForEach-Object FullName)
} | ConvertTo-Json
"@
    $script:ModuleRoot = if ($IsWindows) { $SaveDir } else { $null }
    $script:SettingsFile = Join-Path $FakeHome '.local/share/PSResourceGet/PSResourceRepository.xml' 
    $script:Nupkg = @($Installed.Packages)[0]
}

AfterAll {
    if ($Temp -and (Test-Path $FakeHome)) {
        try {
            $left = Invoke-Child "Unregister-PSResourceRepository -Name $(ConvertTo-Literal $RepoName) -ErrorAction Stop; @{ Names = @(Get-PSResourceRepository | ForEach-Object Name) } | ConvertTo-Json"
            if ($RepoName -in $left.Names) { Write-Warning "$RepoName is still registered." }
        }
        catch { Write-Warning "Unregistering $RepoName failed: $_" }
    }
    if ($Temp -and (Test-Path $Temp)) { Remove-Item $Temp -Recurse -Force }
}

Describe 'The package' {
    BeforeAll {
        Add-Type -AssemblyName System.IO.Compression.FileSystem
        [IO.Compression.ZipFile]::ExtractToDirectory($Nupkg, $Unpacked)
        $script:Entries = @(Get-ChildItem $Unpacked -Recurse -File | ForEach-Object { [IO.Path]::GetRelativePath($Unpacked, $_.FullName) -replace '\\', '/' })
        [xml] $nuspec = Get-Content -Raw (Join-Path $Unpacked 'WgTroubleshoot.nuspec')
        $script:Meta = $nuspec.package.metadata
    }

    It 'is published to the repository as WgTroubleshoot.<version>.nupkg and found there' {
        @($Installed.Packages).Count | Should -Be 1
        Split-Path $Nupkg -Leaf | Should -Be "WgTroubleshoot.$Version.nupkg"
        $Installed.Found | Should -Be "WgTroubleshoot $Version"
        $Installed.Repositories | Should -Contain $RepoName
        # The registration lives in the temporary home, not in the user's settings.
        if (-not $IsWindows) { Get-Content -Raw $SettingsFile | Should -Match ([regex]::Escape($RepoName)) }
    }

    It 'has the gallery metadata from the manifest in its nuspec' {
        $Meta.id | Should -Be 'WgTroubleshoot'
        $Meta.version | Should -Be $Version
        $Meta.authors | Should -Be $Manifest.Author
        $Meta.description | Should -Be $Manifest.Description
        $Meta.licenseUrl | Should -Be $Manifest.PrivateData.PSData.LicenseUri
        $Meta.projectUrl | Should -Be $Manifest.PrivateData.PSData.ProjectUri
        $Meta.releaseNotes | Should -Not -BeNullOrEmpty
        $Meta.copyright | Should -Not -BeNullOrEmpty
        $tags = "$($Meta.tags)" -split '\s+'
        foreach ($t in @('PSModule', 'WireGuard', 'PSEdition_Core', 'PSEdition_Desktop', 'Linux', 'Windows')) { $tags | Should -Contain $t }
        # No dependencies on other gallery packages: the third-party assemblies ship inside.
        $Meta.dependencies | Should -BeNullOrEmpty
    }

    It 'contains the manifest, the cmdlet assembly, the format files, the help and the licence' {
        $expected = @('WgTroubleshoot.psd1', 'WgTroubleshoot.dll', 'LICENSE', 'en-US/WgTroubleshoot.dll-Help.xml', 'en-US/about_WgTroubleshoot.help.txt') +
            @($Manifest.FormatsToProcess)
        foreach ($e in $expected) { $Entries | Should -Contain $e }
    }

    It 'contains the engine and the third-party assemblies in Dependencies/, and no other assembly' {
        $dlls = @($Entries | Where-Object { $_ -like '*.dll' } | Sort-Object)
        $dlls | Should -Be @('Dependencies/BouncyCastle.Cryptography.dll', 'Dependencies/WgTroubleshoot.Engine.dll', 'Dependencies/YamlDotNet.dll', 'WgTroubleshoot.dll')
    }

    It 'does not contain PowerShellStandard, System.Management.Automation or build leftovers' {
        $Entries | Where-Object { $_ -match 'System\.Management\.Automation|PowerShellStandard|Microsoft\.PowerShell|\.pdb$|\.deps\.json$|(^|/)(bin|obj)/' } | Should -BeNullOrEmpty
    }

    It 'carries assemblies of the manifest''s version' {
        [Reflection.AssemblyName]::GetAssemblyName((Join-Path $Unpacked 'WgTroubleshoot.dll')).Version.ToString(3) | Should -Be $Version
        [Reflection.AssemblyName]::GetAssemblyName((Join-Path $Unpacked 'Dependencies/WgTroubleshoot.Engine.dll')).Version.ToString(3) | Should -Be $Version
    }
}

Describe 'The installed module, in a new session without Import-Module' {
    BeforeAll {
        $script:Run = Invoke-Child @"
`$ErrorActionPreference = 'Stop'
`$before = @(Get-Module WgTroubleshoot).Count
`$available = @(Get-Module -ListAvailable WgTroubleshoot)
# A real call by command name: PowerShell finds the module on PSModulePath and imports it.
`$config = Get-WgConfig -Path $(ConvertTo-Literal $ConfigPath)
`$module = Get-Module WgTroubleshoot
`$policy = [WgTroubleshoot.Remediation.RemediationPolicy]::Load($(ConvertTo-Literal $PolicyPath))
@{
    LoadedBefore  = `$before
    Available     = @(`$available | ForEach-Object { `$_.ModuleBase })
    ModuleBase    = `$module.ModuleBase
    Version       = "`$(`$module.Version)"
    PublicKey     = `$config.PublicKey
    ListenPort    = `$config.ListenPort
    Policy        = "`$(`$policy.ForInterface('wg0'))"
} | ConvertTo-Json
"@ -ExtraModulePath $ModuleRoot

        $script:Help = Invoke-Child @"
`$ErrorActionPreference = 'Stop'
`$help = Get-Help Get-WgPeer -Full
`$about = Get-Help about_WgTroubleshoot | Out-String
@{
    Synopsis    = "`$(`$help.Synopsis)".Trim()
    Description = (@(`$help.description | ForEach-Object Text) -join "``n").Trim()
    Examples    = @(`$help.examples.example | ForEach-Object { "`$(`$_.code)".Trim() })
    Parameters  = @(`$help.parameters.parameter | ForEach-Object { "`$(`$_.name)" })
    About       = `$about
    HelpModule  = `$help.ModuleName
} | ConvertTo-Json -Depth 4
"@ -ExtraModulePath $ModuleRoot
    }

    It 'is installed under the temporary home (or folder), and only there' {
        $Run.LoadedBefore | Should -Be 0
        @($Run.Available).Count | Should -Be 1
        $Run.Available[0] | Should -BeLike "$(if ($IsWindows) { $SaveDir } else { $FakeHome })*"
        (Split-Path $Run.Available[0] -Leaf) | Should -Be $Version
    }

    It 'auto-loads on Get-WgConfig and reads a configuration (BouncyCastle derives the public key)' {
        $Run.ModuleBase | Should -Be $Run.Available[0]
        $Run.Version | Should -Be $Version
        $Run.PublicKey | Should -Be $PublicKey
        $Run.ListenPort | Should -Be 51820
    }

    It 'reads a remediation policy (YamlDotNet) from the installed Dependencies/' {
        $Run.Policy | Should -Be 'wg0: repairs Firewall (at most 3 an hour)'
    }

    It 'shows the real help of Get-WgPeer without Import-Module' {
        $Help.HelpModule | Should -Be 'WgTroubleshoot'
        $Help.Synopsis | Should -BeLike 'Gets the live state of WireGuard peers*'
        $Help.Description | Should -Match 'returns one .?WgTroubleshoot\.WgPeer.? object for each peer'
        @($Help.Examples).Count | Should -BeGreaterOrEqual 2
        $Help.Examples | Should -Not -Contain ''
        $Help.Parameters | Should -Contain 'Interface'
        $Help.Parameters | Should -Contain 'PublicKey'
    }

    It 'shows about_WgTroubleshoot without Import-Module' {
        $Help.About | Should -Match 'TOPIC\s+about_WgTroubleshoot'
        $Help.About | Should -Match 'REMEDIATION POLICY FILE'
    }
}
