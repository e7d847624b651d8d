# Runs in a fresh child pwsh for SideBySide.Tests.ps1: loads other versions of the module's dependencies
# into the default load context (as another module, such as powershell-yaml, would), imports the module
# before or after them, uses both copies, and prints JSON facts about what worked and what is loaded where.
param(
    [Parameter(Mandatory)] [string] $ModulePath,
    [Parameter(Mandatory)] [ValidateSet('OthersFirst', 'ModuleFirst', 'ModuleAlone')] [string] $Order,
    [Parameter(Mandatory)] [string] $OtherYaml,
    [Parameter(Mandatory)] [string] $OtherBouncyCastle,
    [Parameter(Mandatory)] [string] $PolicyPath,
    [Parameter(Mandatory)] [string] $BadPolicyPath,
    [Parameter(Mandatory)] [string] $ConfigPath,
    [Parameter(Mandatory)] [string] $PrivateKey
)
$ErrorActionPreference = 'Stop'
$facts = [ordered]@{ Order = $Order; Errors = @() }

function Add-OtherVersions {
    # What powershell-yaml and similar modules do: load their copy into the default context.
    Add-Type -Path $OtherYaml
    Add-Type -Path $OtherBouncyCastle
}

function Use-OtherVersions {
    # The other module's code still works with its own copies.
    try {
        $stream = [YamlDotNet.RepresentationModel.YamlStream]::new()
        $stream.Load([IO.StringReader]::new("a: 1`nb: [x, y]`n"))
        $facts.OtherYamlWorks = $stream.Documents[0].RootNode.Children.Count -eq 2
        $facts.OtherYamlTypeFileVersion = $stream.GetType().Assembly.GetCustomAttributes([Reflection.AssemblyFileVersionAttribute], $false)[0].Version
        $key = [Convert]::FromBase64String($PrivateKey)
        $pub = [Org.BouncyCastle.Crypto.Parameters.X25519PrivateKeyParameters]::new($key, 0).GeneratePublicKey().GetEncoded()
        $facts.OtherBouncyCastlePublicKey = [Convert]::ToBase64String($pub)
        $facts.OtherBouncyCastleTypeFileVersion = [Org.BouncyCastle.Crypto.Parameters.X25519PrivateKeyParameters].Assembly.GetCustomAttributes([Reflection.AssemblyFileVersionAttribute], $false)[0].Version
    }
    catch { $facts.Errors += "other versions: $_" }
}

function Import-TheModule {
    Import-Module $ModulePath
    # Nothing of the engine or its dependencies is loaded until first use.
    $dependencies = Join-Path (Split-Path (Get-Module WgTroubleshoot).Path) 'Dependencies'
    $facts.LoadedAtImport = @([AppDomain]::CurrentDomain.GetAssemblies() |
            Where-Object { $_.GetName().Name -eq 'WgTroubleshoot.Engine' -or [Runtime.Loader.AssemblyLoadContext]::GetLoadContext($_).Name -eq 'WgTroubleshoot' -or
                ($_.Location -and (Split-Path $_.Location) -eq $dependencies) } |
            ForEach-Object { $_.GetName().Name })
}

function Use-Module {
    # Code that needs YamlDotNet (the policy reader) and BouncyCastle (Get-WgConfig derives the public key).
    try {
        $policy = [WgTroubleshoot.Remediation.RemediationPolicy]::Load($PolicyPath)
        $facts.PolicyInterfaces = @($policy.Interfaces | ForEach-Object Interface)
        $facts.PolicyWg0 = "$($policy.ForInterface('wg0'))"
    }
    catch { $facts.Errors += "policy: $_" }
    try {
        [WgTroubleshoot.Remediation.RemediationPolicy]::Load($BadPolicyPath) | Out-Null
        $facts.BadPolicyError = 'no error'
    }
    catch {
        $inner = $_.Exception.InnerException
        $facts.BadPolicyError = if ($inner -is [WgTroubleshoot.WgException]) { "$($inner.ErrorId) $($inner.Category): $($inner.Message)" } else { "$($_.Exception.GetType().FullName): $_" }
    }
    try {
        $config = Get-WgConfig -Path $ConfigPath
        $facts.ConfigPublicKey = $config.PublicKey
    }
    catch { $facts.Errors += "Get-WgConfig: $_" }
}

switch ($Order) {
    'OthersFirst' { Add-OtherVersions; Import-TheModule; Use-Module; Use-OtherVersions }
    # The module's copies are loaded first; the other versions must still load, and both must keep working.
    'ModuleFirst' { Import-TheModule; Use-Module; Add-OtherVersions; Use-OtherVersions; Use-Module }
    'ModuleAlone' { Import-TheModule; Use-Module }
}

# Where each copy is: name, versions, load context, and file.
$facts.Assemblies = @([AppDomain]::CurrentDomain.GetAssemblies() |
        Where-Object { $_.GetName().Name -in 'WgTroubleshoot', 'WgTroubleshoot.Engine', 'YamlDotNet', 'BouncyCastle.Cryptography' } |
        ForEach-Object {
            [ordered]@{
                Name        = $_.GetName().Name
                Version     = "$($_.GetName().Version)"
                FileVersion = $_.GetCustomAttributes([Reflection.AssemblyFileVersionAttribute], $false)[0].Version
                Context     = [Runtime.Loader.AssemblyLoadContext]::GetLoadContext($_).Name
                Location    = $_.Location
            }
        })

# What the engine's references bind to: ask the engine's own context for them by the names the engine was built against.
$engine = [AppDomain]::CurrentDomain.GetAssemblies() | Where-Object { $_.GetName().Name -eq 'WgTroubleshoot.Engine' } | Select-Object -First 1
if ($engine) {
    $context = [Runtime.Loader.AssemblyLoadContext]::GetLoadContext($engine)
    $facts.EngineBindings = @($engine.GetReferencedAssemblies() | Where-Object { $_.Name -in 'YamlDotNet', 'BouncyCastle.Cryptography', 'WgTroubleshoot' } | ForEach-Object {
            $bound = $context.LoadFromAssemblyName($_)
            [ordered]@{
                Reference   = $_.FullName
                Name        = $_.Name
                FileVersion = $bound.GetCustomAttributes([Reflection.AssemblyFileVersionAttribute], $false)[0].Version
                Context     = [Runtime.Loader.AssemblyLoadContext]::GetLoadContext($bound).Name
                Location    = $bound.Location
            }
        })
}
$facts | ConvertTo-Json -Depth 5
