# The live-state cmdlets (Get-WgInterface, Get-WgPeer) against real wireguard-go interfaces in the lab,
# run in a child pwsh inside the lab's namespaces. (The key-leak scan over every exported cmdlet is in
# SecretScan.Tests.ps1, on configurations that carry secrets in every form.)
# Tagged Lab: needs root, wireguard-go and the network tools; skipped cleanly elsewhere.

BeforeDiscovery {
    Import-Module (Join-Path $PSScriptRoot '../lab/WgLab.psm1') -Force
    $script:LabUnavailable = -not (Test-WgLabPrerequisite)
}

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot '../lab/WgLab.psm1') -Force
    if (-not $env:WGT_MODULE) {
        # run outside build.ps1: use the staged module
        $staged = Get-ChildItem (Join-Path $PSScriptRoot '../../out/WgTroubleshoot/*/WgTroubleshoot.psd1') -ErrorAction SilentlyContinue | Select-Object -First 1
        if ($staged) { $env:WGT_MODULE = $staged.FullName }
    }

    function Get-Seconds($Value) {
        if ($null -eq $Value) { return $null }
        if ($Value -is [TimeSpan]) { return [int]$Value.TotalSeconds }
        [int]$Value
    }
    function Invoke-Child([string] $Node, [scriptblock] $ScriptBlock, [object[]] $ArgumentList = @(), [switch] $HideWg) {
        Invoke-WgLabPwsh -Lab $lab -Node $Node -ScriptBlock $ScriptBlock -ArgumentList $ArgumentList -HideWg:$HideWg -TimeoutSeconds 120
    }
}

Describe 'Live state in the lab' -Tag Lab -Skip:$LabUnavailable {
    BeforeAll {
        if (-not $env:WGT_MODULE) { throw 'WGT_MODULE is not set and no staged module was found: run dotnet pwsh ./build.ps1 Test' }
        $lab = New-WgLab
        $C = $lab.Client.Interface
        $S = $lab.Server.Interface
        $null = Wait-WgLabHandshake -Lab $lab -TimeoutSeconds 15
        $null = Test-WgLabPing -Lab $lab -To 192.0.2.1 -Count 2
    }
    AfterAll {
        try { if ($lab) { Remove-WgLab -Lab $lab } }
        finally { $lab = $null }
    }

    Context 'Get-WgInterface' {
        It 'describes the client interface' {
            $i = @(Invoke-Child client { param($If) Get-WgInterface -Name $If } $C)
            $i.Count | Should -Be 1
            $i[0].PSObject.TypeNames | Should -Contain 'Deserialized.WgTroubleshoot.WgInterface'
            $i = $i[0]
            $i.Name | Should -Be $C
            $i.PublicKey | Should -Be $lab.Client.PublicKey
            $i.ListenPort | Should -BeGreaterThan 0
            $i.FwMark | Should -BeIn @($null, '', 'off', '0', 0)
            $i.Mtu | Should -Be 1420
            @($i.Addresses -match '^192\.0\.2\.2(/26)?$').Count | Should -Be 1
            @($i.Addresses -match '^2001:db8:100::2(/64)?$').Count | Should -Be 1
            $i.LinkState | Should -Be 'Up'
            $i.PeerCount | Should -Be 1
            $i.ConfigPath | Should -Be "/etc/wireguard/$C.conf"
        }

        It 'describes the server interface' {
            $i = Invoke-Child server { param($If) Get-WgInterface -Name $If } $S
            $i.Name | Should -Be $S
            $i.PublicKey | Should -Be $lab.Server.PublicKey
            $i.ListenPort | Should -Be 51820
            @($i.Addresses -match '^192\.0\.2\.1(/26)?$').Count | Should -Be 1
            $i.PeerCount | Should -Be 1
            $i.ConfigPath | Should -Be "/etc/wireguard/$S.conf"
        }

        It 'gives a non-terminating WgInterfaceNotFound error (ObjectNotFound) for a missing interface' {
            $r = Invoke-Child client {
                param($Missing)
                $terminating = $false
                $ev = @()
                try { $out = @(Get-WgInterface -Name $Missing -ErrorVariable ev -ErrorAction SilentlyContinue) }
                catch { $terminating = $true; $ev = @($_) }
                [pscustomobject]@{
                    Terminating = $terminating
                    Output      = $out.Count
                    Errors      = $ev.Count
                    Id          = if ($ev) { $ev[0].FullyQualifiedErrorId } else { $null }
                    Category    = if ($ev) { "$($ev[0].CategoryInfo.Category)" } else { $null }
                    Continued   = $true
                }
            } "wgnone$($lab.Id)"
            $r.Terminating | Should -BeFalse
            $r.Continued | Should -BeTrue
            $r.Output | Should -Be 0
            $r.Errors | Should -Be 1
            $r.Id | Should -BeLike 'WgInterfaceNotFound*'
            $r.Category | Should -Be 'ObjectNotFound'
        }

        It 'reports a link that is down' {
            Add-WgLabFault -Lab $lab -Fault InterfaceDown -Node client
            try {
                $i = Invoke-Child client { param($If) Get-WgInterface -Name $If } $C
                $i.LinkState | Should -Be 'Down'
            }
            finally { Remove-WgLabFault -Lab $lab -Fault InterfaceDown }
            Wait-WgLabHandshake -Lab $lab -TimeoutSeconds 15 | Should -BeTrue
        }
    }

    Context 'Get-WgPeer' {
        It 'describes the client''s peer after traffic' {
            $null = Test-WgLabPing -Lab $lab -To 192.0.2.1
            $r = Invoke-Child client {
                param($If)
                $p = Get-WgPeer -Interface $If
                [pscustomobject]@{ Peer = $p; Kind = "$($p.LatestHandshake.Kind)"; Now = [DateTime]::UtcNow; Count = @($p).Count }
            } $C
            $r.Count | Should -Be 1
            $p = $r.Peer
            $p.PSObject.TypeNames | Should -Contain 'Deserialized.WgTroubleshoot.WgPeer'
            $p.Interface | Should -Be $C
            $p.PublicKey | Should -Be $lab.Server.PublicKey
            $p.Name | Should -Be 'lab-server'
            $p.Endpoint | Should -Be '203.0.113.2:51820'
            $p.AllowedIPs | Should -Contain '192.0.2.0/26'
            $p.AllowedIPs | Should -Contain '192.0.2.128/25'
            $p.AllowedIPs | Should -Contain '2001:db8:100::/64'
            $r.Kind | Should -Be 'Utc'
            $p.LatestHandshake | Should -BeOfType [DateTime]
            ($r.Now - $p.LatestHandshake).TotalSeconds | Should -BeLessThan 180
            ($r.Now - $p.LatestHandshake).TotalSeconds | Should -BeGreaterThan -5
            $p.HandshakeAge | Should -BeOfType [TimeSpan]
            $p.HandshakeAge.TotalSeconds | Should -BeGreaterOrEqual 0
            $p.HandshakeAge.TotalSeconds | Should -BeLessThan 180
            $p.RxBytes | Should -BeGreaterThan 0
            $p.TxBytes | Should -BeGreaterThan 0
            Get-Seconds $p.PersistentKeepalive | Should -Be 25
            $p.HasPresharedKey | Should -BeTrue
        }

        It 'describes the server''s peer (the client, endpoint learned, no keepalive)' {
            $p = Invoke-Child server { param($If) Get-WgPeer -Interface $If } $S
            $p.PublicKey | Should -Be $lab.Client.PublicKey
            $p.Name | Should -Be 'lab-client'
            $p.Endpoint | Should -Match '^198\.51\.100\.2:\d+$'
            $p.AllowedIPs | Should -Contain '192.0.2.2/32'
            $p.LatestHandshake | Should -Not -BeNullOrEmpty
            Get-Seconds $p.PersistentKeepalive | Should -BeIn @($null, 0)
            $p.HasPresharedKey | Should -BeTrue
        }

        It 'takes interfaces from the pipeline: Get-WgInterface | Get-WgPeer' {
            $r = Invoke-Child client {
                param($If)
                [pscustomobject]@{ Piped = @(Get-WgInterface -Name $If | Get-WgPeer); Direct = @(Get-WgPeer -Interface $If) }
            } $C
            @($r.Piped).Count | Should -Be 1
            $r.Piped[0].PublicKey | Should -Be $r.Direct[0].PublicKey
            $r.Piped[0].Interface | Should -Be $C
        }

        It 'shows byte counters that grow with traffic between two reads' {
            $r = Invoke-Child client {
                param($If, $To)
                $a = Get-WgPeer -Interface $If
                $null = & ping -n -q -c 3 -i 0.2 -W 1 -w 4 $To
                $b = Get-WgPeer -Interface $If
                [pscustomobject]@{ Before = $a; After = $b; Ping = $LASTEXITCODE }
            } $C, '192.0.2.1'
            $r.After.TxBytes | Should -BeGreaterThan $r.Before.TxBytes
            $r.After.RxBytes | Should -BeGreaterThan $r.Before.RxBytes
        }

        It 'shows no handshake for a peer that never connected, and one after traffic' {
            Add-WgLabFault -Lab $lab -Fault IdlePeer
            try {
                $r = Invoke-Child client {
                    param($If, $To)
                    $a = Get-WgPeer -Interface $If
                    $null = & ping -n -q -c 1 -W 2 -w 3 $To
                    $deadline = [DateTime]::UtcNow.AddSeconds(10)
                    do { $b = Get-WgPeer -Interface $If; if ($b.LatestHandshake) { break }; Start-Sleep -Milliseconds 200 } while ([DateTime]::UtcNow -lt $deadline)
                    [pscustomobject]@{ Before = $a; BeforeIsNull = $null -eq $a.LatestHandshake; After = $b; Kind = "$($b.LatestHandshake.Kind)" }
                } $C, '192.0.2.1'
                $r.BeforeIsNull | Should -BeTrue
                $r.Before.HandshakeAge | Should -BeNullOrEmpty
                $r.Before.RxBytes | Should -Be 0
                $r.Before.TxBytes | Should -Be 0
                Get-Seconds $r.Before.PersistentKeepalive | Should -BeIn @($null, 0)
                $r.After.LatestHandshake | Should -BeOfType [DateTime]
                $r.Kind | Should -Be 'Utc'
                $r.After.TxBytes | Should -BeGreaterThan 0
            }
            finally { Remove-WgLabFault -Lab $lab -Fault IdlePeer }
            Wait-WgLabHandshake -Lab $lab -TimeoutSeconds 15 | Should -BeTrue
        }

        It 'gives a non-terminating WgInterfaceNotFound error for the peers of a missing interface' {
            $r = Invoke-Child client {
                param($Missing)
                $terminating = $false
                $ev = @()
                try { $null = Get-WgPeer -Interface $Missing -ErrorVariable ev -ErrorAction SilentlyContinue }
                catch { $terminating = $true; $ev = @($_) }
                [pscustomobject]@{ Terminating = $terminating; Id = if ($ev) { $ev[0].FullyQualifiedErrorId }; Category = if ($ev) { "$($ev[0].CategoryInfo.Category)" } }
            } "wgnone$($lab.Id)"
            $r.Terminating | Should -BeFalse
            $r.Id | Should -BeLike 'WgInterfaceNotFound*'
            $r.Category | Should -Be 'ObjectNotFound'
        }
    }

    Context 'without the wg tool (wireguard-go''s UAPI socket only)' {
        It 'reads the same state on the <Node>' -ForEach @(@{ Node = 'client' }, @{ Node = 'server' }) {
            $if = if ($Node -eq 'client') { $C } else { $S }
            $read = {
                param($If)
                [pscustomobject]@{ Interface = Get-WgInterface -Name $If; Peer = @(Get-WgPeer -Interface $If) }
            }
            $withWg = Invoke-Child $Node $read $if
            $res = Invoke-WgLabPwsh -Lab $lab -Node $Node -ScriptBlock $read -ArgumentList $if -HideWg -AsResult -TimeoutSeconds 120
            $res.Failure | Should -BeNullOrEmpty
            @($res.Errors).Count | Should -Be 0 -Because "no error without wg: $(@($res.Errors | ForEach-Object { $_.Exception.Message }) -join '; ')"
            $res.WgInvoked | Should -BeNullOrEmpty -Because 'the module must not run wg when WGT_WG_PATH names a missing file'
            $noWg = $res.Output[0]
            $noWg.Interface.Name | Should -Be $if
            $noWg.Interface.PublicKey | Should -Be $withWg.Interface.PublicKey
            $noWg.Interface.ListenPort | Should -Be $withWg.Interface.ListenPort
            $noWg.Interface.PeerCount | Should -Be 1
            $noWg.Peer.Count | Should -Be 1
            $noWg.Peer[0].PublicKey | Should -Be $withWg.Peer[0].PublicKey
            $noWg.Peer[0].Name | Should -Be $withWg.Peer[0].Name
            $noWg.Peer[0].Endpoint | Should -Be $withWg.Peer[0].Endpoint
            @($noWg.Peer[0].AllowedIPs | Sort-Object) | Should -Be @($withWg.Peer[0].AllowedIPs | Sort-Object)
            $noWg.Peer[0].HasPresharedKey | Should -BeTrue
            Get-Seconds $noWg.Peer[0].PersistentKeepalive | Should -Be (Get-Seconds $withWg.Peer[0].PersistentKeepalive)
            $noWg.Peer[0].LatestHandshake | Should -BeOfType [DateTime]
            [Math]::Abs(($noWg.Peer[0].LatestHandshake - $withWg.Peer[0].LatestHandshake).TotalSeconds) | Should -BeLessThan 130
            $noWg.Peer[0].RxBytes | Should -BeGreaterOrEqual $withWg.Peer[0].RxBytes
        }
    }
}
