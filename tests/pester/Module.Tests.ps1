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
        @{ Command = 'Measure-WgPathMtu'; Parameter = 'Interface'; Type = [string]; Position = 0; ByPropertyName = $true }
        @{ Command = 'Measure-WgPathMtu'; Parameter = 'Peer'; Type = [string]; Position = [int]::MinValue; ByPropertyName = $true }
        @{ Command = 'Measure-WgPathMtu'; Parameter = 'Destination'; Type = [string]; Position = [int]::MinValue; ByPropertyName = $false }
        @{ Command = 'Measure-WgPathMtu'; Parameter = 'TunnelTarget'; Type = [string]; Position = [int]::MinValue; ByPropertyName = $false }
        @{ Command = 'Set-WgMtu'; Parameter = 'Interface'; Type = [string]; Position = 0; ByPropertyName = $true }
        @{ Command = 'Set-WgMtu'; Parameter = 'Mtu'; Type = [int]; Position = 1; ByPropertyName = $false }
        @{ Command = 'Set-WgMtu'; Parameter = 'Auto'; Type = [switch]; Position = [int]::MinValue; ByPropertyName = $false }
        @{ Command = 'Set-WgMtu'; Parameter = 'Scope'; Type = 'WgTroubleshoot.Commands.MtuScope'; Position = [int]::MinValue; ByPropertyName = $false }
        @{ Command = 'Set-WgMtu'; Parameter = 'PassThru'; Type = [switch]; Position = [int]::MinValue; ByPropertyName = $false }
        @{ Command = 'Get-WgForwarding'; Parameter = 'Interface'; Type = [string]; Position = 0; ByPropertyName = $true }
        @{ Command = 'Enable-WgForwarding'; Parameter = 'Interface'; Type = [string]; Position = 0; ByPropertyName = $true }
        @{ Command = 'Enable-WgForwarding'; Parameter = 'IPv6'; Type = [switch]; Position = [int]::MinValue; ByPropertyName = $false }
        @{ Command = 'Enable-WgForwarding'; Parameter = 'Nat'; Type = [switch]; Position = [int]::MinValue; ByPropertyName = $false }
        @{ Command = 'Enable-WgForwarding'; Parameter = 'OutInterface'; Type = [string]; Position = [int]::MinValue; ByPropertyName = $false }
        @{ Command = 'Enable-WgForwarding'; Parameter = 'PassThru'; Type = [switch]; Position = [int]::MinValue; ByPropertyName = $false }
        @{ Command = 'Disable-WgForwarding'; Parameter = 'Interface'; Type = [string]; Position = 0; ByPropertyName = $true }
        @{ Command = 'Disable-WgForwarding'; Parameter = 'Nat'; Type = [switch]; Position = [int]::MinValue; ByPropertyName = $false }
        @{ Command = 'Get-WgFirewallStatus'; Parameter = 'Interface'; Type = [string]; Position = 0; ByPropertyName = $true }
        @{ Command = 'Get-WgFirewallStatus'; Parameter = 'Port'; Type = [int]; Position = [int]::MinValue; ByPropertyName = $false }
        @{ Command = 'Add-WgFirewallRule'; Parameter = 'Interface'; Type = [string]; Position = 0; ByPropertyName = $true }
        @{ Command = 'Add-WgFirewallRule'; Parameter = 'Port'; Type = [int]; Position = [int]::MinValue; ByPropertyName = $false }
        @{ Command = 'Add-WgFirewallRule'; Parameter = 'Backend'; Type = [string]; Position = [int]::MinValue; ByPropertyName = $false }
        @{ Command = 'Add-WgFirewallRule'; Parameter = 'PassThru'; Type = [switch]; Position = [int]::MinValue; ByPropertyName = $false }
        @{ Command = 'Trace-WgTraffic'; Parameter = 'Interface'; Type = [string]; Position = 0; ByPropertyName = $true }
        @{ Command = 'Trace-WgTraffic'; Parameter = 'Seconds'; Type = [int]; Position = [int]::MinValue; ByPropertyName = $false }
        @{ Command = 'Get-WgLog'; Parameter = 'Interface'; Type = [string[]]; Position = 0; ByPropertyName = $true }
        @{ Command = 'Get-WgLog'; Parameter = 'Since'; Type = [System.Nullable[datetime]]; Position = [int]::MinValue; ByPropertyName = $false }
        @{ Command = 'Get-WgLog'; Parameter = 'Path'; Type = [string[]]; Position = [int]::MinValue; ByPropertyName = $true }
        @{ Command = 'Get-WgLog'; Parameter = 'EventType'; Type = 'WgTroubleshoot.WgLogEventType[]'; Position = [int]::MinValue; ByPropertyName = $false }
        @{ Command = 'Test-WgConfig'; Parameter = 'Interface'; Type = [string[]]; Position = 0; ByPropertyName = $false }
        @{ Command = 'Test-WgConfig'; Parameter = 'Path'; Type = [string[]]; Position = [int]::MinValue; ByPropertyName = $true }
        @{ Command = 'Test-WgConfig'; Parameter = 'Quiet'; Type = [switch]; Position = [int]::MinValue; ByPropertyName = $false }
        @{ Command = 'Compare-WgPeerConfig'; Parameter = 'Path'; Type = [string[]]; Position = 0; ByPropertyName = $true }
    ) {
        $p = (Get-Command $Command).Parameters[$Parameter]
        $p | Should -Not -BeNullOrEmpty
        # module types are named as strings: the data is built before the module is imported
        if ($Type -is [string]) { $p.ParameterType.FullName | Should -Be $Type } else { $p.ParameterType | Should -Be $Type }
        $attr = $p.Attributes | Where-Object { $_ -is [System.Management.Automation.ParameterAttribute] } | Select-Object -First 1
        $attr.Position | Should -Be $Position
        $attr.ValueFromPipelineByPropertyName | Should -Be $ByPropertyName
    }
    It '<Command> supports -WhatIf and -Confirm' -ForEach @(
        @{ Command = 'Set-WgMtu' }, @{ Command = 'Enable-WgForwarding' }, @{ Command = 'Disable-WgForwarding' }
    ) {
        (Get-Command $Command).Parameters.Keys | Should -Contain 'WhatIf'
        (Get-Command $Command).Parameters.Keys | Should -Contain 'Confirm'
    }
    It 'Measure-WgPathMtu takes -Peer or -Destination, not both' {
        (Get-Command Measure-WgPathMtu).ParameterSets.Name | Should -Be @('Peer', 'Destination')
    }
    It 'Add-WgFirewallRule supports -WhatIf and -Confirm with medium impact' {
        $c = Get-Command Add-WgFirewallRule
        $c.Parameters.Keys | Should -Contain 'WhatIf'
        $c.Parameters.Keys | Should -Contain 'Confirm'
        $c.ImplementingType.GetCustomAttributes([System.Management.Automation.CmdletAttribute], $false)[0].ConfirmImpact | Should -Be 'Medium'
    }
    It 'Get-WgFirewallStatus and Add-WgFirewallRule take -Interface or -Port, not both' {
        foreach ($c in 'Get-WgFirewallStatus', 'Add-WgFirewallRule') {
            (Get-Command $c).ParameterSets.Name | Sort-Object | Should -Be @('Interface', 'Port')
        }
    }
    It '<Command> binds files by FullName and PSPath to -<Parameter>' -ForEach @(
        @{ Command = 'Get-WgConfig'; Parameter = 'LiteralPath' }, @{ Command = 'Test-WgConfig'; Parameter = 'LiteralPath' }, @{ Command = 'Compare-WgPeerConfig'; Parameter = 'Path' }
    ) {
        $md = [System.Management.Automation.CommandMetadata]::new((Get-Command $Command))
        $md.Parameters[$Parameter].Aliases | Should -Contain 'FullName'
        $md.Parameters[$Parameter].Aliases | Should -Contain 'PSPath'
        $md.Parameters[$Parameter].ParameterSets.Values.ValueFromPipelineByPropertyName | Should -Contain $true
    }
    It 'Test-WgConfig has the parameter sets of Get-WgConfig' {
        (Get-Command Test-WgConfig).ParameterSets.Name | Sort-Object | Should -Be ((Get-Command Get-WgConfig).ParameterSets.Name | Sort-Object)
        (Get-Command Test-WgConfig).DefaultParameterSet | Should -Be (Get-Command Get-WgConfig).DefaultParameterSet
    }
    It 'Get-WgPeer takes Name as an alias of -Interface' {
        $md = [System.Management.Automation.CommandMetadata]::new((Get-Command Get-WgPeer))
        $md.Parameters['Interface'].Aliases | Should -Contain 'Name'
    }
    It 'Trace-WgTraffic -Seconds takes 1 to 300' {
        $range = (Get-Command Trace-WgTraffic).Parameters['Seconds'].Attributes | Where-Object { $_ -is [ValidateRange] }
        $range.MinRange | Should -Be 1
        $range.MaxRange | Should -Be 300
        { Trace-WgTraffic -Seconds 0 } | Should -Throw -ErrorId 'ParameterArgumentValidationError,WgTroubleshoot.Commands.TraceWgTrafficCommand'
        { Trace-WgTraffic -Seconds 301 } | Should -Throw -ErrorId 'ParameterArgumentValidationError,WgTroubleshoot.Commands.TraceWgTrafficCommand'
    }
    It 'completes interface names for -Interface and -Name' {
        foreach ($c in 'Get-WgInterface', 'Get-WgPeer', 'Trace-WgTraffic', 'Get-WgLog') {
            $param = if ($c -eq 'Get-WgInterface') { 'Name' } else { 'Interface' }
            (Get-Command $c).Parameters[$param].Attributes.Where({ $_ -is [ArgumentCompleter] }).Type.Name | Should -Be 'InterfaceNameCompleter'
        }
    }
}

Describe 'Output types and views' {
    It 'declares its output types' {
        (Get-Command Get-WgInterface).OutputType.Name | Should -Contain 'WgTroubleshoot.WgInterface'
        (Get-Command Get-WgPeer).OutputType.Name | Should -Contain 'WgTroubleshoot.WgPeer'
        (Get-Command Measure-WgPathMtu).OutputType.Name | Should -Contain 'WgTroubleshoot.PathMtuResult'
        (Get-Command Get-WgForwarding).OutputType.Name | Should -Contain 'WgTroubleshoot.ForwardingStatus'
        (Get-Command Set-WgMtu).OutputType.Name | Should -Contain 'WgTroubleshoot.ChangeRecord'
        (Get-Command Get-WgFirewallStatus).OutputType.Name | Should -Contain 'WgTroubleshoot.FirewallStatus'
        (Get-Command Add-WgFirewallRule).OutputType.Name | Should -Contain 'WgTroubleshoot.ChangeRecord'
        (Get-Command Trace-WgTraffic).OutputType.Name | Should -Contain 'WgTroubleshoot.TrafficTrace'
        (Get-Command Get-WgLog).OutputType.Name | Should -Contain 'WgTroubleshoot.WgLogEvent'
    }
    It 'formats a path MTU result and a forwarding status' {
        $m = [WgTroubleshoot.PathMtuResult]@{ Interface = 'wg0'; Destination = '203.0.113.2'; PathMtu = 1400; RouteMtu = 1500; TunnelMtu = 1420; RecommendedMtu = 1340; Blackhole = $true; FullSizePassesInTunnel = $false }
        ($m | Format-Table | Out-String -Width 200) | Should -Match 'wg0\s+203\.0\.113\.2\s+1400\s+1500\s+1420\s+1340\s+True\s+FAILS'
        $f = [WgTroubleshoot.ForwardingStatus]@{ Interface = 'wg0'; Verdict = 'NatMissing'; Uplink = 'ens3'; IPv4Forwarding = $true }
        ($f | Format-List | Out-String -Width 200) | Should -Match 'Verdict\s+: NatMissing'
    }
    It 'formats a firewall status as a table with the evidence' {
        $s = [WgTroubleshoot.FirewallStatus]@{ Backend = 'nftables'; Active = $true; Port = 51820; Verdict = 'Blocked'; InboundAllowed = $false
            DecidingRule = 'policy drop of chain input (inet filter)'; TcpOnlyRule = 'tcp dport 51820 accept'; ForwardAllowed = $null }
        $text = $s | Format-Table | Out-String -Width 200
        $text | Should -Match 'nftables\s+Blocked\s+51820/udp\s+policy drop of chain input'
        $text | Should -Match 'tcp dport 51820 accept'
        $text | Should -Match 'unknown'
        $s.ToString() | Should -Be 'nftables: UDP 51820 Blocked (policy drop of chain input (inet filter))'
    }
    It 'formats a change record as a list with its undo commands' {
        $r = [WgTroubleshoot.ChangeRecord]@{ Target = 'nftables inet filter input'; Action = 'Allow inbound UDP 51820'; Changed = $true
            Before = 'Blocked: policy drop'; After = 'Allowed: udp dport 51820 accept'; UndoCommands = @('nft delete rule inet filter input handle 7') }
        $text = $r | Out-String -Width 200
        $text | Should -Match 'UndoCommands\s*:\s*nft delete rule inet filter input handle 7'
        $text | Should -Match 'Changed\s*:\s*True'
    }
    It 'formats a traffic trace with counts in/out and the verdict' {
        $t = [WgTroubleshoot.TrafficTrace]@{
            Interface = 'wg0'; ListenPort = 51820; RemoteEndpoint = '198.51.100.2:40000'; Peer = 'xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg='
            InitiationsIn = 3; Verdict = 'InitiationsUnanswered'; Reason = 'because'
        }
        $text = $t | Format-Table | Out-String -Width 200
        $text | Should -Match 'Interface: wg0'
        $text | Should -Match '198\.51\.100\.2:40000\s+xTIBA5rboU…\s+3/0\s+0/0\s+0/0\s+0/0\s+InitiationsUnanswered\s+because'
        $t.ToString() | Should -Be 'wg0 198.51.100.2:40000: InitiationsUnanswered (3 in, 0 out)'
        $none = [WgTroubleshoot.TrafficTrace]@{ Interface = 'wg0'; Verdict = 'NothingReceived' }
        ($none | Format-Table | Out-String -Width 200) | Should -Match '\(none\)\s+\(unknown\)'
        $round = [System.Management.Automation.PSSerializer]::Deserialize([System.Management.Automation.PSSerializer]::Serialize($t))
        ($round | Format-Table | Out-String -Width 200) | Should -Match '3/0'
    }
    It 'formats log events as a table' {
        $e = [WgTroubleshoot.WgLogEvent]@{ Time = [datetime]'2026-11-24 20:39:01'; Interface = 'wg0'; Peer = '7'; EventType = 'HandshakeRetry'; Endpoint = '203.0.113.5:51820'; Message = 'Handshake for peer 7 did not complete' }
        $text = $e | Format-Table | Out-String -Width 200
        $text | Should -Match '2026-11-24 20:39:01\s+wg0\s+7\s+HandshakeRetry\s+203\.0\.113\.5:51820\s+Handshake for peer 7'
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

    It 'runs with -Debug in a non-interactive host (cron, a timer): verbose text goes to the debug stream, no prompt' {
        # PowerShell turns verbose messages into prompts under -Debug without -Verbose; a non-interactive host cannot answer them.
        $conf = Join-Path $PSScriptRoot '../WgTroubleshoot.Tests/Corpus/basic.conf'
        $out = & $env:WGT_PWSH -NoProfile -NonInteractive -Command "Import-Module '$ModulePath' -ErrorAction Stop; `$r = Test-WgConfig -LiteralPath '$conf' -Debug -ErrorAction Stop 5>&1; `$r | Where-Object { `$_ -is [System.Management.Automation.DebugRecord] } | ForEach-Object { 'DEBUG: ' + `$_.Message }; 'count=' + @(`$r | Where-Object { `$_ -isnot [System.Management.Automation.DebugRecord] }).Count" 2>&1
        $LASTEXITCODE | Should -Be 0
        ($out -join "`n") | Should -Not -Match 'NonInteractive mode'
        ($out -join "`n") | Should -Match "DEBUG: Checking '"
        ($out -join "`n") | Should -Match 'count='
    }
}
