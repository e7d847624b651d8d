#requires -Version 7.0
# The module loads and works in a session where other versions of its dependencies are already loaded (or
# are loaded after it), as when powershell-yaml brings its own YamlDotNet. Each order runs in a fresh child
# pwsh (Get-SideBySideFacts.ps1): YamlDotNet 13.1.1 and BouncyCastle.Cryptography 2.4.0 (restored by
# build/deps/deps.csproj) go into the default load context; the module's 18.1.0 and 2.7.0 must stay in its
# own context, and the module's code must bind to those.

BeforeDiscovery {
    $script:Orders = @(
        @{ Order = 'OthersFirst'; Others = $true }
        @{ Order = 'ModuleFirst'; Others = $true }
        @{ Order = 'ModuleAlone'; Others = $false }
    )
}

BeforeAll {
    $script:ModulePath = $env:WGT_MODULE
    if (-not $ModulePath) { throw 'WGT_MODULE is not set: run the tests through build.ps1 Test.' }
    $script:RepoRoot = if ($env:WGT_ROOT) { $env:WGT_ROOT } else { (Resolve-Path (Join-Path $PSScriptRoot '../..')).Path }
    $script:ChildPwsh = if ($env:WGT_PWSH) { $env:WGT_PWSH } else { Join-Path $PSHOME $(if ($IsWindows) { 'pwsh.exe' } else { 'pwsh' }) }
    $script:DependencyDir = Join-Path (Split-Path $ModulePath) 'Dependencies'

    # The other versions, from the NuGet packages folder (build/deps/deps.csproj downloads them).
    $packages = if ($env:NUGET_PACKAGES) { $env:NUGET_PACKAGES } else { Join-Path ([Environment]::GetFolderPath('UserProfile')) '.nuget/packages' }
    $script:OtherYaml = Join-Path $packages 'yamldotnet/13.1.1/lib/netstandard2.0/YamlDotNet.dll'
    $script:OtherBouncyCastle = Join-Path $packages 'bouncycastle.cryptography/2.4.0/lib/netstandard2.0/BouncyCastle.Cryptography.dll'
    if (-not ((Test-Path $OtherYaml) -and (Test-Path $OtherBouncyCastle))) {
        $out = & dotnet restore (Join-Path $RepoRoot 'build/deps/deps.csproj') --verbosity quiet 2>&1
        if ($LASTEXITCODE -ne 0) { throw "dotnet restore build/deps/deps.csproj failed:`n$($out -join "`n")" }
    }

    # The wg pubkey test vector: Get-WgConfig derives PublicKey from PrivateKey with BouncyCastle.
    $script:PrivateKey = 'yC7gETkvgjs1tJhb/4cQVIt8XOj49OVdxPPndYfOiEM='
    $script:PublicKey = '7yMd9RKzpHKkZt9aHlGGCWAMqekfuz5tgvF6P8GHYl8='

    $script:Temp = Join-Path ([IO.Path]::GetTempPath()) "wgt-sidebyside-$PID"
    $null = New-Item -ItemType Directory -Force $Temp
    $script:PolicyPath = Join-Path $Temp 'policy.yaml'
    Set-Content -Path $PolicyPath -Value "interfaces:`n  wg0:`n    mtu: auto`n    allowedRepairs: [Firewall, Mtu]`n  wg1: {}`n"
    $script:BadPolicyPath = Join-Path $Temp 'bad-policy.yaml'
    Set-Content -Path $BadPolicyPath -Value "interfaces:`n  wg0:`n    mtu: auto`n    colour: blue`n"
    $script:ConfigPath = Join-Path $Temp 'wg0.conf'
    Set-Content -Path $ConfigPath -Value "[Interface]`nPrivateKey = $PrivateKey`nListenPort = 51820`n"

    function Get-SideBySideFacts([string] $Order) {
        $json = & $ChildPwsh -NoProfile -NonInteractive -File (Join-Path $PSScriptRoot 'Get-SideBySideFacts.ps1') -ModulePath $ModulePath -Order $Order `
            -OtherYaml $OtherYaml -OtherBouncyCastle $OtherBouncyCastle -PolicyPath $PolicyPath -BadPolicyPath $BadPolicyPath `
            -ConfigPath $ConfigPath -PrivateKey $PrivateKey 2>&1
        if ($LASTEXITCODE -ne 0) { throw "The child pwsh for $Order failed:`n$($json -join "`n")" }
        ($json -join "`n") | ConvertFrom-Json -AsHashtable
    }
}

AfterAll {
    if ($Temp -and (Test-Path $Temp)) { Remove-Item $Temp -Recurse -Force }
}

Describe 'Side by side with other versions of YamlDotNet and BouncyCastle: <Order>' -ForEach $Orders {
    BeforeAll {
        $script:Facts = Get-SideBySideFacts $Order
        $script:Loaded = @($Facts.Assemblies)
        function Get-Loaded([string] $Name, [string] $Context) { @($Loaded | Where-Object { $_.Name -eq $Name -and $_.Context -eq $Context }) }
    }

    It 'loads nothing of the engine or its dependencies at import' {
        $Facts.LoadedAtImport | Should -BeNullOrEmpty -Because 'dependencies load on first use, into the module''s own context'
    }

    It 'reads a policy file with YamlDotNet' {
        $Facts.Errors | Should -BeNullOrEmpty
        $Facts.PolicyInterfaces | Should -Be @('wg0', 'wg1')
        $Facts.PolicyWg0 | Should -Be 'wg0: repairs Firewall, Mtu (at most 3 an hour)'
    }

    It 'rejects a bad policy with WgPolicyInvalid, line and column (YamlDotNet''s positions)' {
        $Facts.BadPolicyError | Should -BeLike "WgPolicyInvalid InvalidData: *bad-policy.yaml, line 4, column 5: unknown key 'colour' under interface 'wg0'*"
    }

    It 'derives a public key with BouncyCastle (Get-WgConfig)' {
        $Facts.ConfigPublicKey | Should -Be $PublicKey
    }

    It 'keeps the module''s YamlDotNet 18.1.0 and BouncyCastle 2.7.0 in its own context, from Dependencies/' {
        foreach ($a in @(
                @{ Name = 'YamlDotNet'; FileVersion = '18.1.0.0' }
                @{ Name = 'BouncyCastle.Cryptography'; FileVersion = '2.7.0.*' }
                @{ Name = 'WgTroubleshoot.Engine'; FileVersion = '*' })) {
            $ours = @(Get-Loaded $a.Name 'WgTroubleshoot')
            $ours.Count | Should -Be 1 -Because "$($a.Name) must be loaded once into the WgTroubleshoot context"
            $ours[0].FileVersion | Should -BeLike $a.FileVersion
            (Split-Path $ours[0].Location) | Should -Be $DependencyDir
        }
    }

    It 'binds the engine''s references to the copies in its own context' {
        $bindings = @($Facts.EngineBindings)
        $bindings.Count | Should -Be 3
        foreach ($b in $bindings | Where-Object Name -ne 'WgTroubleshoot') {
            $b.Context | Should -Be 'WgTroubleshoot' -Because "the engine's reference $($b.Reference) must not bind to another module's copy"
            (Split-Path $b.Location) | Should -Be $DependencyDir
        }
        $fileVersions = @{}
        foreach ($b in $bindings) { $fileVersions[$b.Name] = $b.FileVersion }
        $fileVersions['YamlDotNet'] | Should -Be '18.1.0.0'
        $fileVersions['BouncyCastle.Cryptography'] | Should -BeLike '2.7.0.*'
        # The contract assembly is the one PowerShell loaded, shared, not a second copy.
        ($bindings | Where-Object Name -eq 'WgTroubleshoot').Context | Should -Be 'Default'
        @($Loaded | Where-Object Name -eq 'WgTroubleshoot').Count | Should -Be 1
    }

    It 'puts nothing from Dependencies/ into the default context' {
        $fromUs = @($Loaded | Where-Object { $_.Context -eq 'Default' -and (Split-Path $_.Location) -eq $DependencyDir })
        $fromUs | Should -BeNullOrEmpty
    }

    It 'leaves the other module''s YamlDotNet 13.1.1 and BouncyCastle 2.4.0 loaded and working in the default context' -ForEach @(if ($Others) { @{} }) -AllowNullOrEmptyForEach {
        (Get-Loaded 'YamlDotNet' 'Default').FileVersion | Should -Be '13.1.1.0'
        (Get-Loaded 'BouncyCastle.Cryptography' 'Default').FileVersion | Should -BeLike '2.4.0.*'
        $Facts.OtherYamlWorks | Should -BeTrue
        $Facts.OtherYamlTypeFileVersion | Should -Be '13.1.1.0'
        $Facts.OtherBouncyCastlePublicKey | Should -Be $PublicKey
        $Facts.OtherBouncyCastleTypeFileVersion | Should -BeLike '2.4.0.*'
    }

    It 'loads no YamlDotNet or BouncyCastle into the default context by itself' -ForEach @(if (-not $Others) { @{} }) -AllowNullOrEmptyForEach {
        Get-Loaded 'YamlDotNet' 'Default' | Should -BeNullOrEmpty
        Get-Loaded 'BouncyCastle.Cryptography' 'Default' | Should -BeNullOrEmpty
    }
}
