# The module as a user imports it: manifest, exports, parameters, formatting.
BeforeAll {
    $script:ModulePath = $env:WGT_MODULE
    if (-not $ModulePath) { throw 'WGT_MODULE is not set: run the tests through build.ps1 Test.' }
    $script:Manifest = Import-PowerShellDataFile $ModulePath
    Import-Module $ModulePath -Force
}

Describe 'The module manifest' {
    It 'passes Test-ModuleManifest' {
        { Test-ModuleManifest -Path $ModulePath -ErrorAction Stop } | Should -Not -Throw
    }
    It 'is compatible with Windows PowerShell 5.1 and PowerShell 7' {
        $Manifest.PowerShellVersion | Should -Be '5.1'
        $Manifest.CompatiblePSEditions | Should -Be @('Desktop', 'Core')
    }
    It 'has PSData for the gallery' {
        $Manifest.PrivateData.PSData.Tags | Should -Contain 'WireGuard'
        $Manifest.PrivateData.PSData.ProjectUri | Should -Not -BeNullOrEmpty
        $Manifest.PrivateData.PSData.LicenseUri | Should -Not -BeNullOrEmpty
    }
    It 'exports exactly the cmdlets it lists' {
        $exported = (Get-Module WgTroubleshoot).ExportedCmdlets.Keys | Sort-Object
        $exported | Should -Be ($Manifest.CmdletsToExport | Sort-Object)
    }
    It 'does not ship PowerShellStandard.Library' {
        Get-ChildItem (Split-Path $ModulePath) -Recurse -Filter 'System.Management.Automation*.dll' | Should -BeNullOrEmpty
    }
}

Describe 'Cmdlet parameters' {
    It '<Command> has parameter <Parameter>' -ForEach @(
        @{ Command = 'Get-WgInterface'; Parameter = 'Name'; Type = [string[]]; Position = 0; ByPropertyName = $true }
        @{ Command = 'Get-WgPeer'; Parameter = 'Interface'; Type = [string[]]; Position = 0; ByPropertyName = $true }
        @{ Command = 'Get-WgPeer'; Parameter = 'PublicKey'; Type = [string[]]; Position = [int]::MinValue; ByPropertyName = $false }
        @{ Command = 'Get-WgConfig'; Parameter = 'Interface'; Type = [string[]]; Position = 0; ByPropertyName = $true }
        @{ Command = 'Get-WgConfig'; Parameter = 'Path'; Type = [string[]]; Position = [int]::MinValue; ByPropertyName = $true }
    ) {
        $p = (Get-Command $Command).Parameters[$Parameter]
        $p | Should -Not -BeNullOrEmpty
        $p.ParameterType | Should -Be $Type
        $attr = $p.Attributes | Where-Object { $_ -is [System.Management.Automation.ParameterAttribute] } | Select-Object -First 1
        $attr.Position | Should -Be $Position
        $attr.ValueFromPipelineByPropertyName | Should -Be $ByPropertyName
    }
    It 'Get-WgPeer takes Name as an alias of -Interface' {
        $md = [System.Management.Automation.CommandMetadata]::new((Get-Command Get-WgPeer))
        $md.Parameters['Interface'].Aliases | Should -Contain 'Name'
    }
    It 'completes interface names for -Interface and -Name' {
        foreach ($c in 'Get-WgInterface', 'Get-WgPeer') {
            $param = if ($c -eq 'Get-WgInterface') { 'Name' } else { 'Interface' }
            (Get-Command $c).Parameters[$param].Attributes.Where({ $_ -is [ArgumentCompleter] }).Type.Name | Should -Be 'InterfaceNameCompleter'
        }
    }
}

Describe 'Output types and views' {
    It 'declares its output types' {
        (Get-Command Get-WgInterface).OutputType.Name | Should -Contain 'WgTroubleshoot.WgInterface'
        (Get-Command Get-WgPeer).OutputType.Name | Should -Contain 'WgTroubleshoot.WgPeer'
    }
    It 'formats a peer the way wg show reads' {
        $peer = [WgTroubleshoot.WgPeer]@{
            Interface = 'wg0'; PublicKey = 'xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg='; Name = 'laptop'
            Endpoint = '198.51.100.7:40000'; AllowedIPs = @('192.0.2.2/32'); LatestHandshake = [datetime]::UtcNow.AddSeconds(-72)
            HandshakeAge = [timespan]::FromSeconds(72); RxBytes = 5MB; TxBytes = 1536
        }
        $text = $peer | Format-Table | Out-String -Width 200
        $text | Should -Match 'LatestHandshake'
        $text | Should -Match '1 minute, 12 seconds ago'
        $text | Should -Match '5\.00 MiB'
        $text | Should -Match '1\.50 KiB'
        $text | Should -Match 'laptop'
        $peer.ToString() | Should -Match 'wg0 peer laptop \(handshake 1 minute, 12 seconds ago\)'
    }
    It 'formats an interface as a table with its state' {
        $if = [WgTroubleshoot.WgInterface]@{ Name = 'wg0'; ListenPort = 51820; Mtu = 1420; IsUp = $true; PeerCount = 2; Addresses = @('192.0.2.1/26') }
        $text = $if | Format-Table | Out-String -Width 200
        $text | Should -Match 'wg0\s+up\s+51820\s+1420\s+2\s+.*192\.0\.2\.1/26'
        $if.ToString() | Should -Be 'wg0 (up, port 51820, 2 peers)'
    }
    It 'applies the views to deserialized objects (remoting)' {
        $peer = [WgTroubleshoot.WgPeer]@{ Interface = 'wg0'; PublicKey = 'xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg='; HandshakeAge = [timespan]::FromSeconds(3601); LatestHandshake = [datetime]::UtcNow }
        $round = [System.Management.Automation.PSSerializer]::Deserialize([System.Management.Automation.PSSerializer]::Serialize($peer))
        $round.PSObject.TypeNames[0] | Should -Be 'Deserialized.WgTroubleshoot.WgPeer'
        ($round | Format-Table | Out-String -Width 200) | Should -Match '1 hour, 1 second ago'
    }
}

Describe 'Importing in a fresh PowerShell' {
    It 'imports the staged module by path in a new pwsh' {
        $out = & $env:WGT_PWSH -NoProfile -NonInteractive -Command "Import-Module '$ModulePath' -ErrorAction Stop; (Get-Command -Module WgTroubleshoot).Count"
        $LASTEXITCODE | Should -Be 0
        [int]($out | Select-Object -Last 1) | Should -Be $Manifest.CmdletsToExport.Count
    }
}
